// Follows one execution live: Server-Sent Events from /api/executions/{id}/events, with polling
// as a fallback when the stream cannot be opened or drops.
import { useEffect, useRef, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api } from "./client";
import { keys, useExecution } from "./hooks";
import type { Execution } from "./types";
import { isTerminal } from "../lib/status";

export type LiveState = "connecting" | "live" | "polling" | "ended";

export function useLiveExecution(id: string | null | undefined): {
  execution: Execution | undefined;
  error: Error | null;
  isLoading: boolean;
  live: LiveState;
} {
  const qc = useQueryClient();
  const query = useExecution(id);
  const [live, setLive] = useState<LiveState>("connecting");
  const terminal = query.data ? isTerminal(query.data.status) : false;
  // The final record may lack node states (the worker could not be queried as the run
  // closed): keep the last ones seen live rather than blanking the canvas.
  const lastStates = useRef<{ id: string; states: Execution["node_states"] } | null>(null);
  const data = query.data;
  let execution = data;
  if (data && id) {
    const has = data.node_states && Object.keys(data.node_states).length > 0;
    if (has) lastStates.current = { id, states: data.node_states };
    else if (lastStates.current?.id === id) execution = { ...data, node_states: lastStates.current.states };
  }

  useEffect(() => {
    if (!id || terminal) return undefined;
    setLive("connecting");
    let closed = false;
    let pollTimer: ReturnType<typeof setInterval> | null = null;
    const startPolling = () => {
      if (pollTimer || closed) return;
      setLive("polling");
      pollTimer = setInterval(() => {
        void qc.invalidateQueries({ queryKey: keys.execution(id) });
      }, 1500);
    };
    const stream: { source: EventSource | null } = { source: null };
    const follow = (ticket: string) => {
      if (closed) return;
      const es = new EventSource(`/api/executions/${id}/events?ticket=${encodeURIComponent(ticket)}`);
      stream.source = es;
      es.addEventListener("open", () => setLive("live"));
      es.addEventListener("execution", (event) => {
        try {
          const data = JSON.parse((event as MessageEvent<string>).data) as Execution | { execution: Execution };
          const execution = "execution" in data ? data.execution : data;
          qc.setQueryData(keys.execution(id), execution);
          setLive("live");
        } catch {
          // A malformed event: the next one or the poll will bring the state.
        }
      });
      es.addEventListener("end", () => {
        closed = true;
        es.close();
        setLive("ended");
        void qc.invalidateQueries({ queryKey: keys.execution(id) });
        void qc.invalidateQueries({ queryKey: ["executions"] });
      });
      es.addEventListener("error", () => {
        if (closed) return;
        es.close();
        startPolling();
      });
    };
    // The login token never goes into a URL: a single-use ticket, asked for with the
    // Authorization header, opens the stream.
    api
      .post<{ ticket: string }>(`/api/executions/${id}/stream-ticket`)
      .then((r) => follow(r.ticket))
      .catch(() => startPolling());
    return () => {
      closed = true;
      stream.source?.close();
      if (pollTimer) clearInterval(pollTimer);
    };
  }, [id, qc, terminal]);

  // Once the execution is over there is nothing left to follow.
  useEffect(() => {
    if (terminal) setLive("ended");
  }, [terminal]);

  return {
    execution,
    error: query.error,
    isLoading: query.isLoading,
    live: terminal ? "ended" : live,
  };
}
