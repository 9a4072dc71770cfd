// Versions' graphs (the versions page diffs and previews them, rollback restores one) and
// the code of the builder's draft (the Code tab).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { clearDraft } from "../lib/drafts";
import { api, request } from "./client";
import { keys } from "./hooks";
import type { Graph } from "./types";

export interface VersionGraph {
  version: number;
  /** Null for versions built before runloom kept each version's graph. */
  graph: Graph | null;
}

export function useVersionGraph(workflowId: string | undefined, version: number | null) {
  return useQuery({
    queryKey: ["workflow", workflowId ?? "", "versions", version, "graph"],
    queryFn: ({ signal }) => api.get<VersionGraph>(`/api/workflows/${workflowId}/versions/${version}/graph`, signal),
    enabled: Boolean(workflowId) && version !== null,
    staleTime: Infinity, // a stored version never changes
  });
}

/**
 * Roll back to a version: it becomes active and its graph becomes the workflow's draft
 * (the server does both). The draft kept in this browser is dropped, and the workflow is
 * fetched again before this resolves, so the builder opens on the restored graph.
 */
export function useRollback(workflowId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (version: number) => api.post<unknown>(`/api/workflows/${workflowId}/versions/${version}/activate`),
    onSuccess: async () => {
      clearDraft(workflowId);
      await Promise.all([
        qc.refetchQueries({ queryKey: keys.workflow(workflowId) }),
        qc.invalidateQueries({ queryKey: keys.versions(workflowId) }),
      ]);
    },
  });
}

export interface DraftCode {
  workflow_code: string;
  activities_code: string;
}

/**
 * The code a draft graph (as JSON text) compiles to; nothing is stored. An invalid graph
 * fails with its problems.
 */
export function useDraftCode(workflowId: string, graphJson: string, enabled: boolean) {
  return useQuery({
    queryKey: ["workflow", workflowId, "draft-code", graphJson],
    queryFn: ({ signal }) =>
      request<{ compiled: DraftCode }>(`/api/workflows/${workflowId}/compile`, {
        method: "POST",
        body: { graph: JSON.parse(graphJson) as Graph },
        signal,
      }).then(
        (r) => r.compiled,
      ),
    enabled,
    staleTime: Infinity,
    placeholderData: (previous) => previous,
    retry: false,
  });
}
