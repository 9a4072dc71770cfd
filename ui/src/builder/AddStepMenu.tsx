// The menu of steps the "+" of an output or an edge offers: arrows move, Enter picks, Escape
// closes (focus goes back to the "+").
import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent } from "react";
import type { NodeType } from "../api/types";
import { NODE_TYPES, PALETTE_ORDER } from "../lib/nodeTypes";
import { NodeIcon } from "../components/icons";

export interface AddStepMenuProps {
  title: string;
  anchor: HTMLElement;
  types: NodeType[];
  onPick: (type: NodeType) => void;
  onClose: () => void;
}

export function AddStepMenu({ title, anchor, types, onPick, onClose }: AddStepMenuProps) {
  const ref = useRef<HTMLDivElement>(null);
  const [pos, setPos] = useState<{ left: number; top: number }>({ left: 0, top: 0 });
  const ordered = PALETTE_ORDER.filter((t) => types.includes(t));

  useLayoutEffect(() => {
    const r = anchor.getBoundingClientRect();
    const width = 220;
    const height = ref.current?.offsetHeight ?? 320;
    const left = Math.min(Math.max(8, r.left + r.width / 2 - width / 2), window.innerWidth - width - 8);
    const below = r.bottom + 6;
    const top = below + height > window.innerHeight - 8 ? Math.max(8, r.top - height - 6) : below;
    setPos({ left, top });
    ref.current?.querySelector<HTMLElement>("[role=menuitem]")?.focus();
  }, [anchor]);

  useEffect(() => {
    const onDown = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node) && !anchor.contains(e.target as Node)) onClose();
    };
    document.addEventListener("mousedown", onDown);
    return () => document.removeEventListener("mousedown", onDown);
  }, [anchor, onClose]);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const items = [...(ref.current?.querySelectorAll<HTMLElement>("[role=menuitem]") ?? [])];
    const i = items.indexOf(document.activeElement as HTMLElement);
    let next: HTMLElement | undefined;
    if (e.key === "ArrowDown") next = items[(i + 1) % items.length];
    else if (e.key === "ArrowUp") next = items[(i - 1 + items.length) % items.length];
    else if (e.key === "Home") next = items[0];
    else if (e.key === "End") next = items[items.length - 1];
    else if (e.key === "Escape" || e.key === "Tab") {
      e.preventDefault();
      e.stopPropagation();
      onClose();
      anchor.focus();
      return;
    }
    if (next) {
      e.preventDefault();
      next.focus();
    }
  };

  return (
    <div
      className="add-step-menu"
      role="menu"
      aria-label={title}
      ref={ref}
      style={{ left: pos.left, top: pos.top }}
      onKeyDown={onKeyDown}
    >
      <div className="add-step-title" aria-hidden>
        {title}
      </div>
      {ordered.map((t) => (
        <button
          key={t}
          type="button"
          role="menuitem"
          tabIndex={-1}
          className="add-step-item"
          title={NODE_TYPES[t].description}
          onClick={() => onPick(t)}
        >
          <span className="palette-icon" aria-hidden>
            <NodeIcon type={t} />
          </span>
          {NODE_TYPES[t].label}
        </button>
      ))}
    </div>
  );
}
