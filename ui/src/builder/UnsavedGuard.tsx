// Unsaved changes are never lost by a click: links inside the app (sidebar, breadcrumbs,
// toolbar) ask first (Save / Discard / Stay), and closing or reloading the tab asks the
// browser's own question.
import { useCallback, useEffect, useRef, useState } from "react";
import { useNavigate } from "react-router-dom";
import { Modal } from "../components/ui";

function guardedHref(event: MouseEvent): string | null {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return null;
  const anchor = (event.target as Element | null)?.closest?.("a[href]");
  if (!(anchor instanceof HTMLAnchorElement)) return null;
  if ((anchor.target && anchor.target !== "_self") || anchor.hasAttribute("download")) return null;
  const url = new URL(anchor.href, window.location.href);
  if (url.origin !== window.location.origin) return null;
  if (url.pathname === window.location.pathname) return null; // the same page: ?run=… and the like
  return url.pathname + url.search + url.hash;
}

export function useUnsavedGuard({
  dirty,
  save,
  discard,
}: {
  dirty: boolean;
  save: () => Promise<boolean>;
  discard: () => void;
}): { dialog: React.ReactNode } {
  const navigate = useNavigate();
  const [pending, setPending] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const dirtyRef = useRef(dirty);
  dirtyRef.current = dirty;

  useEffect(() => {
    const onClick = (e: MouseEvent) => {
      if (!dirtyRef.current) return;
      const href = guardedHref(e);
      if (!href) return;
      e.preventDefault();
      e.stopPropagation();
      setPending(href);
    };
    document.addEventListener("click", onClick, true);
    return () => document.removeEventListener("click", onClick, true);
  }, []);

  useEffect(() => {
    if (!dirty) return undefined;
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = "";
    };
    window.addEventListener("beforeunload", onBeforeUnload);
    return () => window.removeEventListener("beforeunload", onBeforeUnload);
  }, [dirty]);

  const stay = useCallback(() => setPending(null), []);

  const dialog = pending ? (
    <Modal title="Unsaved changes" onClose={stay}>
      <p>This workflow has changes that are not saved. Save them before leaving?</p>
      <p className="muted small">A draft is also kept in this browser until you save or discard it.</p>
      <div className="form-actions">
        <button type="button" className="btn" onClick={stay}>
          Stay
        </button>
        <button
          type="button"
          className="btn btn-danger"
          onClick={() => {
            discard();
            setPending(null);
            navigate(pending);
          }}
        >
          Discard changes
        </button>
        <button
          type="button"
          className="btn btn-primary"
          disabled={saving}
          onClick={() => {
            setSaving(true);
            void save().then((ok) => {
              setSaving(false);
              if (!ok) return setPending(null);
              setPending(null);
              navigate(pending);
            });
          }}
        >
          {saving ? "Saving…" : "Save and leave"}
        </button>
      </div>
    </Modal>
  ) : null;
  return { dialog };
}
