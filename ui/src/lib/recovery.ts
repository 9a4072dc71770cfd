// What a run allows (retry, re-run, terminate) and how its steps are read.
import type { Execution, ExecutionStatus, StepDetail, Version } from "../api/types";
import { isTerminal } from "./status";

/** Runs that ended badly continue from their failed step; the server says 409 otherwise. */
const RETRYABLE: ReadonlySet<ExecutionStatus> = new Set(["failed", "timed_out", "terminated", "cancelled"]);

export function canRetry(status: ExecutionStatus): boolean {
  return RETRYABLE.has(status);
}

/** Any run that ended can be started again from scratch, with the same input. */
export function canRerun(status: ExecutionStatus): boolean {
  return isTerminal(status);
}

export function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}

/** Where a run was started from: a retry or a re-run of another run, if any. */
export function origin(e: Pick<Execution, "retry_of" | "rerun_of">): { kind: "retry" | "rerun"; id: string } | null {
  if (e.retry_of) return { kind: "retry", id: e.retry_of };
  if (e.rerun_of) return { kind: "rerun", id: e.rerun_of };
  return null;
}

export interface VersionChoice {
  /** "" is the active version. */
  value: string;
  label: string;
}

/** The re-run dialog's versions: the active one first, then each deployed version, newest first. */
export function versionChoices(versions: Version[] | undefined, runVersion: number | null | undefined): VersionChoice[] {
  const list = [...(versions ?? [])].sort((a, b) => b.version - a.version);
  const active = list.find((v) => v.is_active);
  const choices: VersionChoice[] = [
    { value: "", label: active ? `Active version (v${active.version})` : "Active version" },
  ];
  for (const v of list) {
    const notes = [v.is_active ? "active" : "", v.version === runVersion ? "this run's" : ""].filter(Boolean);
    choices.push({ value: String(v.version), label: `v${v.version}${notes.length ? ` (${notes.join(", ")})` : ""}` });
  }
  return choices;
}

/** The step entries of one node, the node itself (item_index null) first, then by item. */
export function stepsOf(steps: StepDetail[] | undefined, nodeId: string): StepDetail[] {
  return (steps ?? [])
    .filter((s) => s.node_id === nodeId)
    .sort((a, b) => (a.item_index ?? -1) - (b.item_index ?? -1));
}

export function stepEntryLabel(s: StepDetail): string {
  return s.item_index === null || s.item_index === undefined ? "the step as a whole" : `item ${s.item_index}`;
}

/** A stable key for one entry of a node: its item index, or "step". */
export function entryKey(s: StepDetail): string {
  return s.item_index === null || s.item_index === undefined ? "step" : String(s.item_index);
}

/** The error's message without the type in front (some messages repeat it). */
export function stepErrorMessage(error: StepDetail["error"]): string {
  const message = error?.message ?? "";
  const type = error?.type;
  return type && message.startsWith(`${type}: `) ? message.slice(type.length + 2) : message;
}

/** The error's first line, as a step's summary shows it: `Type: message`. */
export function stepErrorText(error: StepDetail["error"]): string | null {
  if (!error) return null;
  const type = error.type ? `${error.type}: ` : "";
  return `${type}${stepErrorMessage(error)}`.trim() || null;
}

/** A step's logs as one text; null when it logged nothing. */
export function logsText(logs: StepDetail["logs"]): string | null {
  if (logs === null || logs === undefined) return null;
  const text = Array.isArray(logs) ? logs.map((l) => l.replace(/\n$/, "")).join("\n") : logs;
  return text.length > 0 ? text : null;
}

function looksCut(value: unknown): boolean {
  return typeof value === "string" && value.endsWith("…");
}

/**
 * Which of a truncated step's values were cut (the server puts the start of the JSON text
 * and "…" in their place) or not kept (no output): those load on demand.
 */
export function cutParts(step: Pick<StepDetail, "truncated" | "input" | "output">): { input: boolean; output: boolean } {
  if (!step.truncated) return { input: false, output: false };
  const input = looksCut(step.input);
  const output = looksCut(step.output) || step.output === null || step.output === undefined || !input;
  return { input, output };
}
