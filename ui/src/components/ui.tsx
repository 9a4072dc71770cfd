// Small shared pieces: status dots, empty/loading/error states, modal, page header, tabs, copy.
import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import { TONE_COLOURS, type Tone } from "../lib/status";
import { triggeredByLabel } from "../lib/triggers";
import { CloseIcon } from "./icons";
import { Check } from "lucide-react";

export function StatusDot({ tone, label, pulse }: { tone: Tone; label?: string; pulse?: boolean }) {
  return (
    <span
      className={`dot${pulse ? " dot-pulse" : ""}`}
      data-tone={tone}
      style={{ background: TONE_COLOURS[tone] }}
      role={label ? "img" : undefined}
      aria-label={label}
      aria-hidden={label ? undefined : true}
    />
  );
}

export function StatusBadge({ tone, children }: { tone: Tone; children: ReactNode }) {
  return (
    <span className="badge" data-tone={tone}>
      <StatusDot tone={tone} pulse={tone === "blue"} />
      {children}
    </span>
  );
}

/**
 * A skeleton of what is coming (grey bars that shimmer); screen readers hear "Loading …".
 * `shape`: "rows" for lists and tables, "cards" for a grid of cards, "panel" for a side panel.
 */
export function Loading({ what, shape = "rows" }: { what: string; shape?: "rows" | "cards" | "panel" }) {
  const count = shape === "cards" ? 3 : shape === "panel" ? 4 : 4;
  return (
    <div className={`skeleton skeleton-${shape}`} role="status" aria-live="polite" aria-busy="true" data-loading={what}>
      <span className="sr-only">Loading {what}…</span>
      {Array.from({ length: count }, (_, i) => (
        <div key={i} className="skeleton-item" aria-hidden>
          <span className="skeleton-bar skeleton-bar-title" />
          <span className="skeleton-bar" />
          {shape === "cards" && <span className="skeleton-bar skeleton-bar-short" />}
        </div>
      ))}
    </div>
  );
}

export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className="state state-error" role="alert">
      <strong>Something went wrong.</strong> {message}
      {retry && (
        <button type="button" className="btn btn-small" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <h3>{title}</h3>
      {children}
    </div>
  );
}

export function PageHeader({ title, subtitle, actions }: { title: ReactNode; subtitle?: ReactNode; actions?: ReactNode }) {
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle && <p className="muted">{subtitle}</p>}
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </header>
  );
}

/** The dialogs open now, innermost last. */
const OPEN_MODALS: object[] = [];

export function Modal({
  title,
  onClose,
  children,
  wide,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDivElement>(null);
  // The latest onClose, so that a parent's re-render (a new arrow function) does not move the focus.
  const close = useRef(onClose);
  useLayoutEffect(() => {
    close.current = onClose;
  }, [onClose]);
  useEffect(() => {
    // Only the topmost dialog answers Escape (a confirmation over the triggers dialog).
    const me = {};
    OPEN_MODALS.push(me);
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.key === "Escape" && OPEN_MODALS[OPEN_MODALS.length - 1] === me) close.current();
    };
    window.addEventListener("keydown", onKey);
    // The first field, else the first button (the header's Close).
    const first =
      ref.current?.querySelector<HTMLElement>("input:not([readonly]), textarea:not([readonly]), select") ??
      ref.current?.querySelector<HTMLElement>("button");
    first?.focus();
    return () => {
      window.removeEventListener("keydown", onKey);
      OPEN_MODALS.splice(OPEN_MODALS.indexOf(me), 1);
    };
  }, []);
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className={`modal${wide ? " modal-wide" : ""}`} role="dialog" aria-modal="true" aria-label={title} ref={ref}>
        <header className="modal-header">
          <h2>{title}</h2>
          <button type="button" className="icon-btn" aria-label="Close" onClick={onClose}>
            <CloseIcon />
          </button>
        </header>
        {children}
      </div>
    </div>
  );
}

export function Stat({ label, value, hint }: { label: string; value: ReactNode; hint?: string }) {
  return (
    <div className="stat">
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
      {hint && <div className="stat-hint">{hint}</div>}
    </div>
  );
}

/** What started a run (manual, API, webhook, schedule); nothing when the server does not say. */
export function TriggeredByBadge({ by }: { by: string | null | undefined }) {
  const label = triggeredByLabel(by);
  if (!label || !by) return null;
  return (
    <span className="badge badge-trigger" data-triggered-by={by} title={label.title}>
      {label.label}
    </span>
  );
}

/**
 * Tabs with the WAI-ARIA keyboard pattern (arrows, Home, End); `TabPanel` with the same
 * `idPrefix` and value is the panel each tab controls.
 */
export function Tabs<T extends string>({
  label,
  idPrefix,
  tabs,
  value,
  onChange,
  className,
}: {
  label: string;
  idPrefix: string;
  tabs: { value: T; label: ReactNode }[];
  value: T;
  onChange: (value: T) => void;
  className?: string;
}) {
  const listRef = useRef<HTMLDivElement>(null);
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const i = tabs.findIndex((t) => t.value === value);
    let next = -1;
    if (e.key === "ArrowRight") next = (i + 1) % tabs.length;
    else if (e.key === "ArrowLeft") next = (i - 1 + tabs.length) % tabs.length;
    else if (e.key === "Home") next = 0;
    else if (e.key === "End") next = tabs.length - 1;
    const tab = tabs[next];
    if (!tab) return;
    e.preventDefault();
    onChange(tab.value);
    listRef.current?.querySelector<HTMLElement>(`#${idPrefix}-tab-${tab.value}`)?.focus();
  };
  return (
    <div className={`tabs ${className ?? ""}`} role="tablist" aria-label={label} ref={listRef} onKeyDown={onKeyDown}>
      {tabs.map((t) => (
        <button
          key={t.value}
          type="button"
          role="tab"
          id={`${idPrefix}-tab-${t.value}`}
          aria-controls={`${idPrefix}-panel-${t.value}`}
          aria-selected={t.value === value}
          tabIndex={t.value === value ? 0 : -1}
          onClick={() => onChange(t.value)}
        >
          {t.label}
        </button>
      ))}
    </div>
  );
}

export function TabPanel({ idPrefix, value, children }: { idPrefix: string; value: string; children: ReactNode }) {
  return (
    <div role="tabpanel" id={`${idPrefix}-panel-${value}`} aria-labelledby={`${idPrefix}-tab-${value}`} className="tab-panel">
      {children}
    </div>
  );
}

async function copyText(text: string): Promise<boolean> {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Denied (no focus, no permission): try the old way below.
    }
  }
  const active = document.activeElement as HTMLElement | null;
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  area.remove();
  active?.focus();
  return ok;
}

/** A button that copies `text`, and says (to the eye and to screen readers) whether it did. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  useEffect(() => {
    if (state !== "copied") return undefined;
    const t = window.setTimeout(() => setState("idle"), 2500);
    return () => window.clearTimeout(t);
  }, [state]);
  return (
    <span className="copy">
      <button
        type="button"
        className="btn btn-small"
        aria-label={label}
        onClick={() => {
          void copyText(text).then((ok) => setState(ok ? "copied" : "failed"));
        }}
      >
        Copy
      </button>
      <span role="status" className={state === "failed" ? "text-error small" : "muted small"}>
        {state === "copied" && (
          <>
            Copied <Check size={13} aria-hidden className="inline-icon" />
          </>
        )}
        {state === "failed" && "Could not copy: select the text and press Ctrl+C."}
      </span>
    </span>
  );
}
