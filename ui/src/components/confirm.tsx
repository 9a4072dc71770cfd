// An in-app confirmation dialog instead of window.confirm(): `const [confirm, dialog] =
// useConfirm()`, render `dialog`, and `if (!(await confirm({...}))) return;`.
import { useCallback, useRef, useState, type ReactNode } from "react";
import { createPortal } from "react-dom";
import { Modal } from "./ui";

export interface ConfirmOptions {
  /** The dialog's title and accessible name, a question: "Delete the secret API_TOKEN?" */
  title: string;
  body: ReactNode;
  /** The button that goes ahead, in words: "Delete secret". */
  confirmLabel: string;
  danger?: boolean;
}

export function useConfirm(): [(options: ConfirmOptions) => Promise<boolean>, ReactNode] {
  const [open, setOpen] = useState<ConfirmOptions | null>(null);
  const resolve = useRef<((ok: boolean) => void) | null>(null);
  const confirm = useCallback((options: ConfirmOptions) => {
    resolve.current?.(false);
    setOpen(options);
    return new Promise<boolean>((r) => {
      resolve.current = r;
    });
  }, []);
  const answer = (ok: boolean) => {
    resolve.current?.(ok);
    resolve.current = null;
    setOpen(null);
  };
  const dialog = open
    ? createPortal(
        <Modal title={open.title} onClose={() => answer(false)}>
          <div className="confirm-body">{open.body}</div>
          <div className="modal-actions">
            <button type="button" className="btn" onClick={() => answer(false)}>
              Cancel
            </button>
            <button type="button" className={`btn ${open.danger ? "btn-danger-solid" : "btn-primary"}`} onClick={() => answer(true)}>
              {open.confirmLabel}
            </button>
          </div>
        </Modal>,
        document.body,
      )
    : null;
  return [confirm, dialog];
}
