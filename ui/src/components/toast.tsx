// Toasts: short messages (saved, checked, failed) that float over the page's corner instead of
// pushing the layout down. Successes go after a few seconds; errors and sticky messages stay
// until dismissed. Each toast is a status (or, for errors, an alert) for screen readers.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { CircleCheck, CircleX, Info } from "lucide-react";
import { CloseIcon } from "./icons";

export type ToastTone = "ok" | "error" | "info";

export interface ToastOptions {
  tone: ToastTone;
  text: ReactNode;
  /** A toast with the same key replaces the one showing (one message per place). */
  key?: string;
  /** Stays until dismissed (errors always do). */
  sticky?: boolean;
}

interface ToastItem extends ToastOptions {
  id: number;
}

interface ToastApi {
  show: (toast: ToastOptions) => number;
  dismiss: (idOrKey: number | string) => void;
}

const ToastContext = createContext<ToastApi | null>(null);

const OK_MS = 6000;

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<ToastItem[]>([]);
  const next = useRef(1);
  const dismiss = useCallback((idOrKey: number | string) => {
    setToasts((ts) => ts.filter((t) => (typeof idOrKey === "number" ? t.id !== idOrKey : t.key !== idOrKey)));
  }, []);
  const show = useCallback((toast: ToastOptions) => {
    const id = next.current++;
    setToasts((ts) => [...ts.filter((t) => !toast.key || t.key !== toast.key), { ...toast, id }].slice(-4));
    return id;
  }, []);
  const api = useMemo(() => ({ show, dismiss }), [show, dismiss]);
  return (
    <ToastContext.Provider value={api}>
      <section className="toast-region" aria-label="Notifications">
        {toasts.map((t) => (
          <Toast key={t.id} toast={t} onDismiss={() => dismiss(t.id)} />
        ))}
      </section>
      {children}
    </ToastContext.Provider>
  );
}

function Toast({ toast, onDismiss }: { toast: ToastItem; onDismiss: () => void }) {
  const dismiss = useRef(onDismiss);
  dismiss.current = onDismiss;
  const lasting = toast.sticky || toast.tone === "error";
  const [paused, setPaused] = useState(false);
  useEffect(() => {
    if (lasting || paused) return undefined;
    const t = window.setTimeout(() => dismiss.current(), OK_MS);
    return () => window.clearTimeout(t);
  }, [lasting, paused]);
  const Icon = toast.tone === "error" ? CircleX : toast.tone === "ok" ? CircleCheck : Info;
  return (
    <div
      className="toast"
      data-tone={toast.tone}
      role={toast.tone === "error" ? "alert" : "status"}
      onMouseEnter={() => setPaused(true)}
      onMouseLeave={() => setPaused(false)}
      onFocus={() => setPaused(true)}
      onBlur={() => setPaused(false)}
    >
      <Icon size={18} aria-hidden className="toast-icon" />
      <div className="toast-text">{toast.text}</div>
      <button type="button" className="icon-btn" aria-label="Dismiss message" onClick={onDismiss}>
        <CloseIcon />
      </button>
    </div>
  );
}

/** Show and dismiss toasts; outside a provider (tests, the sign-in page) it does nothing. */
export function useToast(): ToastApi {
  return useContext(ToastContext) ?? NOOP;
}

const NOOP: ToastApi = { show: () => 0, dismiss: () => undefined };
