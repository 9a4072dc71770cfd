// The icon set (lucide): one icon per node type, and the few icons buttons share. Icons are
// decoration: the button or the text beside them carries the accessible name.
import {
  ArrowLeftRight,
  Braces,
  Clock,
  Code,
  CornerDownRight,
  GitBranch,
  Mail,
  Play,
  Repeat,
  Square,
  Workflow,
  X,
  type LucideIcon,
} from "lucide-react";
import type { NodeType } from "../api/types";

export const NODE_ICONS: Record<NodeType, LucideIcon> = {
  start: Play,
  end: Square,
  http_request: ArrowLeftRight,
  transform: Braces,
  condition: GitBranch,
  delay: Clock,
  wait_for_signal: Mail,
  python: Code,
  for_each: Repeat,
  child_workflow: CornerDownRight,
};

export function NodeIcon({ type, size = 15 }: { type: NodeType; size?: number }) {
  const Icon = NODE_ICONS[type] ?? Workflow;
  return <Icon size={size} strokeWidth={2} aria-hidden focusable={false} className="lucide-icon" />;
}

/** The "×" of close and dismiss buttons. */
export function CloseIcon({ size = 16 }: { size?: number }) {
  return <X size={size} aria-hidden focusable={false} />;
}
