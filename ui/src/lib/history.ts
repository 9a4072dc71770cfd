// An immutable undo/redo stack. Consecutive pushes with the same coalesce key (typing in one
// field, say) replace the present instead of adding a step, so undo goes back a whole edit.

export interface History<T> {
  past: T[];
  present: T;
  future: T[];
  /** The key of the last push; a push with the same key replaces `present`. */
  lastKey: string | null;
}

export const HISTORY_LIMIT = 100;

export function createHistory<T>(present: T): History<T> {
  return { past: [], present, future: [], lastKey: null };
}

export function push<T>(h: History<T>, value: T, coalesceKey: string | null = null): History<T> {
  if (value === h.present) return h;
  if (coalesceKey !== null && coalesceKey === h.lastKey) {
    return { past: h.past, present: value, future: [], lastKey: coalesceKey };
  }
  const past = [...h.past, h.present];
  if (past.length > HISTORY_LIMIT) past.splice(0, past.length - HISTORY_LIMIT);
  return { past, present: value, future: [], lastKey: coalesceKey };
}

export function undo<T>(h: History<T>): History<T> {
  if (h.past.length === 0) return h;
  const previous = h.past[h.past.length - 1] as T;
  return { past: h.past.slice(0, -1), present: previous, future: [h.present, ...h.future], lastKey: null };
}

export function redo<T>(h: History<T>): History<T> {
  if (h.future.length === 0) return h;
  const [next, ...rest] = h.future as [T, ...T[]];
  return { past: [...h.past, h.present], present: next, future: rest, lastKey: null };
}

/** Replace the present without recording a step (e.g. selection or display-only changes). */
export function replace<T>(h: History<T>, value: T): History<T> {
  return { ...h, present: value };
}

/** End the current coalescing run, so the next push records a new step. */
export function seal<T>(h: History<T>): History<T> {
  return h.lastKey === null ? h : { ...h, lastKey: null };
}

export const canUndo = <T>(h: History<T>): boolean => h.past.length > 0;
export const canRedo = <T>(h: History<T>): boolean => h.future.length > 0;
