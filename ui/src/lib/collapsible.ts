// Panels that collapse (the sidebar, the builder's palette and side panel): on a wide window
// the user's last choice, kept in localStorage; below the panel's breakpoint collapsed until
// the user opens it for this visit.
import { useCallback, useEffect, useState } from "react";

function stored(key: string): boolean {
  try {
    return localStorage.getItem(key) === "collapsed";
  } catch {
    return false;
  }
}

export function useMediaQuery(query: string): boolean {
  const [matches, setMatches] = useState(() => typeof window !== "undefined" && window.matchMedia(query).matches);
  useEffect(() => {
    const mq = window.matchMedia(query);
    const onChange = () => setMatches(mq.matches);
    onChange();
    mq.addEventListener("change", onChange);
    return () => mq.removeEventListener("change", onChange);
  }, [query]);
  return matches;
}

/** `[collapsed, toggle]`; `narrowQuery` (e.g. "(max-width: 999px)") collapses it by default. */
export function useCollapsible(key: string, narrowQuery: string | null): [boolean, () => void] {
  const narrow = useMediaQuery(narrowQuery ?? "not all");
  const [wide, setWide] = useState(() => stored(key));
  const [narrowOpen, setNarrowOpen] = useState(false);
  useEffect(() => {
    if (!narrow) setNarrowOpen(false);
  }, [narrow]);
  const collapsed = narrow ? !narrowOpen : wide;
  const toggle = useCallback(() => {
    if (narrow) {
      setNarrowOpen((v) => !v);
      return;
    }
    setWide((v) => {
      try {
        localStorage.setItem(key, v ? "expanded" : "collapsed");
      } catch {
        // Private mode: remembered for this page only.
      }
      return !v;
    });
  }, [narrow, key]);
  return [collapsed, toggle];
}
