// The keyboard shortcuts of the builder, in a popover opened by its "?" button or the `?` key.
import { useEffect, useRef, useState } from "react";
import { Keyboard } from "lucide-react";

export const SHORTCUTS: { keys: string[][]; what: string }[] = [
  { keys: [["?"]], what: "Show or hide these shortcuts" },
  { keys: [["Ctrl", "S"]], what: "Save" },
  { keys: [["Ctrl", "Z"]], what: "Undo" },
  { keys: [["Ctrl", "Shift", "Z"], ["Ctrl", "Y"]], what: "Redo" },
  { keys: [["Delete"], ["Backspace"]], what: "Delete the selected node or edge" },
  { keys: [["Tab"]], what: "Move through nodes, edges and their “+” buttons" },
  { keys: [["Enter"]], what: "Select the focused node or edge; open a “+” menu" },
  { keys: [["↑", "↓", "←", "→"]], what: "Move the selected node" },
  { keys: [["Shift", "L"]], what: "Auto-layout the graph" },
  { keys: [["Escape"]], what: "Close a menu or this help" },
];

function isEditable(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName) || Boolean(target.closest(".cm-editor"));
}

export function ShortcutsHelp() {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "?" && !e.ctrlKey && !e.metaKey && !e.altKey && !isEditable(e.target)) {
        e.preventDefault();
        setOpen((o) => !o);
      } else if (e.key === "Escape" && open) {
        setOpen(false);
        button.current?.focus();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [open]);
  useEffect(() => {
    if (!open) return undefined;
    panel.current?.focus();
    const onDown = (e: MouseEvent) => {
      const t = e.target as Node;
      if (!panel.current?.contains(t) && !button.current?.contains(t)) setOpen(false);
    };
    document.addEventListener("mousedown", onDown);
    return () => document.removeEventListener("mousedown", onDown);
  }, [open]);
  return (
    <div className="shortcuts">
      <button
        ref={button}
        type="button"
        className="btn btn-small"
        aria-label="Keyboard shortcuts"
        aria-expanded={open}
        aria-haspopup="dialog"
        aria-keyshortcuts="?"
        title="Keyboard shortcuts (?)"
        onClick={() => setOpen((o) => !o)}
      >
        <Keyboard size={15} aria-hidden />
      </button>
      {open && (
        <div className="popover shortcuts-popover" role="dialog" aria-label="Keyboard shortcuts" tabIndex={-1} ref={panel}>
          <div className="popover-title">Keyboard shortcuts</div>
          <dl className="shortcut-list">
            {SHORTCUTS.map((s) => (
              <div key={s.what}>
                <dt>
                  {s.keys.map((combo, i) => (
                    <span key={i}>
                      {i > 0 && <span className="muted"> or </span>}
                      {combo.map((k, j) => (
                        <span key={k}>
                          {j > 0 && (combo.length > 2 && k.length === 1 && combo.every((c) => c.length === 1) ? " " : "+")}
                          <kbd>{k}</kbd>
                        </span>
                      ))}
                    </span>
                  ))}
                </dt>
                <dd>{s.what}</dd>
              </div>
            ))}
          </dl>
        </div>
      )}
    </div>
  );
}
