// A JSON viewer: a collapsible tree with search (matches highlighted, their branches
// opened, Enter jumps to the next one), expand/collapse all, copy and download.
import { useId, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import {
  childPath,
  copyText,
  entries,
  formatScalar,
  isContainer,
  isOpen,
  ROOT,
  searchJson,
  summarize,
  type ExpandMode,
  type JsonContainer,
} from "../lib/jsonTree";
import { CopyButton } from "./ui";
import { ChevronDown, ChevronRight } from "lucide-react";

/** Children shown at once under one container; more on request. */
const PAGE = 100;

interface TreeState {
  toggled: ReadonlyMap<string, boolean>;
  searchOpen: ReadonlySet<string>;
  mode: ExpandMode;
  defaultDepth: number;
  matches: ReadonlySet<string>;
  query: string;
  toggle: (path: string, open: boolean) => void;
}

function Highlight({ text, query }: { text: string; query: string }) {
  const q = query.trim().toLowerCase();
  if (!q) return <>{text}</>;
  const parts: ReactNode[] = [];
  const lower = text.toLowerCase();
  let at = 0;
  for (let i = lower.indexOf(q); i !== -1 && parts.length < 200; i = lower.indexOf(q, i + q.length)) {
    if (i > at) parts.push(text.slice(at, i));
    parts.push(<mark key={i}>{text.slice(i, i + q.length)}</mark>);
    at = i + q.length;
  }
  if (at < text.length) parts.push(text.slice(at));
  return <>{parts}</>;
}

function Key({ name, query }: { name: string | number | null; query: string }) {
  if (name === null) return null;
  return (
    <>
      <span className={typeof name === "number" ? "json-index" : "json-key"}>
        {typeof name === "number" ? name : <Highlight text={JSON.stringify(name)} query={query} />}
      </span>
      <span className="json-punct">: </span>
    </>
  );
}

function JsonNode({
  value,
  name,
  path,
  depth,
  state,
}: {
  value: unknown;
  name: string | number | null;
  path: string;
  depth: number;
  state: TreeState;
}) {
  const [shown, setShown] = useState(PAGE);
  const match = state.matches.has(path);
  if (!isContainer(value)) {
    const { text, kind } = formatScalar(value);
    return (
      <li className="json-line" data-match={match || undefined}>
        <span className="json-toggle-space" aria-hidden />
        <Key name={name} query={state.query} />
        <span className={`json-${kind}`}>
          <Highlight text={text} query={state.query} />
        </span>
      </li>
    );
  }
  const open = isOpen(path, depth, state);
  const children = entries(value as JsonContainer);
  const [openBracket, closeBracket] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  const empty = children.length === 0;
  return (
    <li className="json-line" data-match={match || undefined}>
      {empty ? (
        <span className="json-toggle-space" aria-hidden />
      ) : (
        <button
          type="button"
          className="json-toggle"
          aria-expanded={open}
          aria-label={path === ROOT ? "Whole value" : path.slice(1).replace(/^\./, "")}
          onClick={() => state.toggle(path, !open)}
        >
          {open ? <ChevronDown size={13} aria-hidden /> : <ChevronRight size={13} aria-hidden />}
        </button>
      )}
      <Key name={name} query={state.query} />
      {empty ? (
        <span className="json-punct">{openBracket + closeBracket}</span>
      ) : open ? (
        <>
          <span className="json-punct">{openBracket}</span>
          <ul className="json-children">
            {children.slice(0, shown).map(([k, v]) => (
              <JsonNode key={String(k)} value={v} name={k} path={childPath(path, k)} depth={depth + 1} state={state} />
            ))}
            {children.length > shown && (
              <li className="json-line">
                <button type="button" className="link-btn small" onClick={() => setShown((n) => n + PAGE * 5)}>
                  Show {Math.min(PAGE * 5, children.length - shown)} more of {children.length - shown}
                </button>
              </li>
            )}
          </ul>
          <span className="json-punct">{closeBracket}</span>
        </>
      ) : (
        <button
          type="button"
          className="json-summary"
          onClick={() => state.toggle(path, true)}
          tabIndex={-1}
          aria-hidden
        >
          {summarize(value as JsonContainer)}
        </button>
      )}
    </li>
  );
}

export function JsonViewer({
  value,
  label,
  defaultDepth = 2,
  filename,
  empty,
}: {
  value: unknown;
  /** The accessible name of the viewer; its controls are named after it. */
  label: string;
  /** Containers shallower than this start open. */
  defaultDepth?: number;
  /** Offer a download of the value under this name. */
  filename?: string;
  /** What to show for `undefined` (no value at all). */
  empty?: string;
}) {
  const id = useId();
  const treeRef = useRef<HTMLDivElement>(null);
  const [query, setQuery] = useState("");
  const [mode, setMode] = useState<ExpandMode>("default");
  const [toggled, setToggled] = useState<Map<string, boolean>>(() => new Map());
  const [current, setCurrent] = useState(-1);
  const search = useMemo(() => searchJson(value, query), [value, query]);
  const state: TreeState = {
    toggled,
    searchOpen: search.open,
    mode,
    defaultDepth,
    matches: useMemo(() => new Set(search.matches), [search]),
    query,
    toggle: (path, open) => setToggled((m) => new Map(m).set(path, open)),
  };

  const jump = (step: 1 | -1) => {
    const marks = treeRef.current?.querySelectorAll<HTMLElement>("[data-match]") ?? [];
    if (marks.length === 0) return;
    const next = (current + step + marks.length) % marks.length;
    marks.forEach((m, i) => m.classList.toggle("json-current", i === next));
    marks[next]?.scrollIntoView({ block: "nearest" });
    setCurrent(next);
  };
  const onSearchKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "Enter") {
      e.preventDefault();
      jump(e.shiftKey ? -1 : 1);
    } else if (e.key === "Escape" && query) {
      e.stopPropagation();
      setQuery("");
    }
  };

  if (value === undefined) {
    return (
      <div className="json-viewer json-empty muted small" role="group" aria-label={label}>
        {empty ?? "No value."}
      </div>
    );
  }
  const text = copyText(value);
  const scalar = !isContainer(value);
  return (
    <div className="json-viewer" role="group" aria-label={label}>
      <div className="json-toolbar">
        {!scalar && (
          <>
            <input
              type="search"
              className="json-search"
              placeholder="Search…"
              aria-label={`Search ${label}`}
              aria-describedby={`${id}-matches`}
              value={query}
              onChange={(e) => {
                setQuery(e.target.value);
                setCurrent(-1);
              }}
              onKeyDown={onSearchKey}
            />
            <span id={`${id}-matches`} className="muted small json-count" aria-live="polite">
              {query.trim() ? `${search.matches.length}${search.matches.length >= 1000 ? "+" : ""} match${search.matches.length === 1 ? "" : "es"}` : ""}
            </span>
            <button
              type="button"
              className="btn btn-small"
              aria-label={`Expand all of ${label}`}
              onClick={() => {
                setToggled(new Map());
                setMode("all");
              }}
            >
              Expand all
            </button>
            <button
              type="button"
              className="btn btn-small"
              aria-label={`Collapse all of ${label}`}
              onClick={() => {
                setToggled(new Map());
                setMode("none");
              }}
            >
              Collapse all
            </button>
          </>
        )}
        <CopyButton text={text} label={`Copy ${label}`} />
        {filename && (
          <button
            type="button"
            className="btn btn-small"
            aria-label={`Download ${label}`}
            onClick={() => {
              const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
              const a = document.createElement("a");
              a.href = url;
              a.download = filename;
              a.click();
              window.setTimeout(() => URL.revokeObjectURL(url), 1000);
            }}
          >
            Download
          </button>
        )}
      </div>
      <div className="json-tree mono" ref={treeRef} tabIndex={0}>
        <ul className="json-root">
          <JsonNode value={value} name={null} path={ROOT} depth={0} state={state} />
        </ul>
      </div>
    </div>
  );
}
