import { useCallback, useRef } from "react";

/**
 * A React key for the side panel of the selected node that survives a rename: keyed by
 * the node id alone, a rename remounts the panel and drops the focus to <body>, so what
 * the user types next is lost. A different node still gets a fresh panel.
 */
export function useRenameStableKey(
  nodeId: string | null,
  onRename: (id: string, newId: string) => void,
): [string, (id: string, newId: string) => void] {
  const current = useRef<{ id: string | null; key: string; n: number }>({ id: nodeId, key: `${nodeId}#0`, n: 0 });
  const renamed = useRef<{ from: string; to: string } | null>(null);
  if (current.current.id !== nodeId) {
    const r = renamed.current;
    const same = r !== null && r.from === current.current.id && r.to === nodeId;
    const n = current.current.n + 1;
    current.current = { id: nodeId, key: same ? current.current.key : `${nodeId}#${n}`, n };
    renamed.current = null;
  }
  const rename = useCallback(
    (id: string, newId: string) => {
      renamed.current = { from: id, to: newId };
      onRename(id, newId);
    },
    [onRename],
  );
  return [current.current.key, rename];
}
