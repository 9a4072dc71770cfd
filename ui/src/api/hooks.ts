// TanStack Query hooks over the HTTP API.
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, rawRequest, request } from "./client";
import type {
  ApiKey,
  ApiKeyCreated,
  BuildResponse,
  Execution,
  ExecutionPage,
  Graph,
  Project,
  ProjectStats,
  ScheduleDescription,
  ScheduleSpec,
  Secret,
  StepDetail,
  Trigger,
  TriggerCreated,
  Version,
  Worker,
  Workflow,
} from "./types";

export const keys = {
  projects: ["projects"] as const,
  project: (id: string) => ["projects", id] as const,
  stats: (id: string) => ["projects", id, "stats"] as const,
  workflows: (projectId?: string) => ["workflows", { projectId: projectId ?? null }] as const,
  workflow: (id: string) => ["workflow", id] as const,
  versions: (id: string) => ["workflow", id, "versions"] as const,
  executions: (filter: Record<string, string | undefined>) => ["executions", filter] as const,
  execution: (id: string) => ["execution", id] as const,
  steps: (id: string) => ["execution", id, "steps"] as const,
  history: (query: string) => ["executions", "history", query] as const,
  secrets: (projectId: string) => ["projects", projectId, "secrets"] as const,
  apiKeys: ["api-keys"] as const,
  triggers: (workflowId: string) => ["workflow", workflowId, "triggers"] as const,
};

export function useProjects() {
  return useQuery({
    queryKey: keys.projects,
    queryFn: ({ signal }) => api.get<{ projects: Project[] }>("/api/projects", signal).then((r) => r.projects),
    refetchInterval: 5000,
  });
}

export function useProject(id: string | undefined, refetchInterval: number | false = 5000) {
  return useQuery({
    queryKey: keys.project(id ?? ""),
    queryFn: ({ signal }) => api.get<{ project: Project }>(`/api/projects/${id}`, signal).then((r) => r.project),
    enabled: Boolean(id),
    refetchInterval,
  });
}

export function useProjectStats(id: string | undefined) {
  return useQuery({
    queryKey: keys.stats(id ?? ""),
    queryFn: ({ signal }) => api.get<ProjectStats>(`/api/projects/${id}/stats`, signal),
    enabled: Boolean(id),
    refetchInterval: 10000,
  });
}

export function useCreateProject() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { name: string; description?: string }) =>
      api.post<{ project: Project }>("/api/projects", body).then((r) => r.project),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.projects }),
  });
}

export function useUpdateProject(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { name?: string; description?: string | null; python_network?: boolean }) =>
      api.patch<{ project: Project }>(`/api/projects/${id}`, body).then((r) => r.project),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.projects }),
  });
}

export type WorkerAction = "start" | "stop" | "restart";

export function useWorkerAction(projectId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (action: WorkerAction) => api.post<unknown>(`/api/projects/${projectId}/workers/${action}`),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: keys.projects });
    },
  });
}

export function useWorkers(projectId: string | undefined) {
  return useQuery({
    queryKey: ["projects", projectId ?? "", "workers"],
    queryFn: ({ signal }) =>
      api
        .get<{ workers: Worker[] } | Worker[]>(`/api/projects/${projectId}/workers`, signal)
        .then((r) => (Array.isArray(r) ? r : r.workers)),
    enabled: Boolean(projectId),
    refetchInterval: 3000,
  });
}

export function useWorkflows(projectId?: string) {
  return useQuery({
    queryKey: keys.workflows(projectId),
    queryFn: ({ signal }) =>
      api
        .get<{ workflows: Workflow[] }>(
          projectId ? `/api/workflows?project_id=${encodeURIComponent(projectId)}` : "/api/workflows",
          signal,
        )
        .then((r) => r.workflows),
  });
}

export function useWorkflow(id: string | undefined) {
  return useQuery({
    queryKey: keys.workflow(id ?? ""),
    queryFn: ({ signal }) => api.get<Workflow | { workflow: Workflow }>(`/api/workflows/${id}`, signal).then(unwrapWorkflow),
    enabled: Boolean(id),
  });
}

/** The API answers the workflow itself; tolerate a `{workflow}` wrapper too. */
export function unwrapWorkflow(r: Workflow | { workflow: Workflow }): Workflow {
  return "workflow" in r && r.workflow && typeof r.workflow === "object" ? r.workflow : (r as Workflow);
}

export function useCreateWorkflow() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { project_id: string; name: string; description?: string; graph?: Graph }) =>
      api.post<Workflow | { workflow: Workflow }>("/api/workflows", body).then(unwrapWorkflow),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["workflows"] }),
  });
}

export function useSaveWorkflow(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { name?: string; description?: string | null; graph: Graph }) =>
      api.put<Workflow | { workflow: Workflow }>(`/api/workflows/${id}`, body).then(unwrapWorkflow),
    onSuccess: (wf) => {
      qc.setQueryData(keys.workflow(id), wf);
      void qc.invalidateQueries({ queryKey: ["workflows"] });
    },
  });
}

export function buildWorkflow(id: string, input: unknown): Promise<BuildResponse> {
  return api.post<BuildResponse>(`/api/workflows/${id}/build`, { input });
}

/** Compiles `graph` (the builder's draft; else the saved graph) without storing anything. */
export function compileWorkflow(id: string, graph?: Graph): Promise<unknown> {
  return api.post<unknown>(`/api/workflows/${id}/compile`, graph ? { graph } : {});
}

export function useVersions(id: string | undefined) {
  return useQuery({
    queryKey: keys.versions(id ?? ""),
    queryFn: ({ signal }) =>
      api.get<{ versions: Version[] }>(`/api/workflows/${id}/versions`, signal).then((r) => r.versions),
    enabled: Boolean(id),
  });
}

export function useActivateVersion(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (version: number) => api.post<unknown>(`/api/workflows/${id}/versions/${version}/activate`),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: keys.versions(id) });
      void qc.invalidateQueries({ queryKey: keys.workflow(id) });
    },
  });
}

export function useExecutions(filter: { workflow_id?: string; project_id?: string; status?: string }) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) if (v) params.set(k, v);
  return useQuery({
    queryKey: keys.executions(filter),
    queryFn: ({ signal }) =>
      api.get<{ executions: Execution[] }>(`/api/executions?${params.toString()}`, signal).then((r) => r.executions),
    refetchInterval: 5000,
  });
}

export function useExecution(id: string | null | undefined) {
  return useQuery({
    queryKey: keys.execution(id ?? ""),
    queryFn: ({ signal }) =>
      api.get<{ execution: Execution }>(`/api/executions/${id}`, signal).then((r) => r.execution),
    enabled: Boolean(id),
  });
}

/**
 * Run history a page at a time (`query` is GET /api/executions's query without the
 * cursor); each further page follows the previous page's `next_cursor`. Only the first
 * pages are refreshed on their own: refreshing many would re-read all of them.
 */
export function useExecutionHistory(query: () => URLSearchParams, queryKey: string) {
  return useInfiniteQuery({
    queryKey: keys.history(queryKey),
    queryFn: ({ pageParam, signal }) => {
      const params = query();
      if (pageParam) params.set("cursor", pageParam);
      return api.get<ExecutionPage>(`/api/executions?${params.toString()}`, signal);
    },
    initialPageParam: "",
    getNextPageParam: (last) => last.next_cursor || undefined,
    refetchInterval: (q) => ((q.state.data?.pages.length ?? 0) <= 2 ? 5000 : false),
  });
}

/** Every step of a run, per node and per for_each item; refreshed while the run goes on. */
export function useSteps(executionId: string | null | undefined, open: boolean) {
  return useQuery({
    queryKey: keys.steps(executionId ?? ""),
    queryFn: ({ signal }) =>
      api.get<{ steps: StepDetail[] }>(`/api/executions/${executionId}/steps`, signal).then((r) => r.steps),
    enabled: Boolean(executionId),
    refetchInterval: open ? 2000 : false,
  });
}

/** The whole input or output of a step whose value was cut (`item`: one item of a for_each). */
export async function fetchStepValue(
  executionId: string,
  nodeId: string,
  part: "input" | "output",
  item: number | null,
): Promise<unknown> {
  const query = item === null ? "" : `?item=${item}`;
  const response = await rawRequest(
    `/api/executions/${executionId}/steps/${encodeURIComponent(nodeId)}/${part}${query}`,
  );
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A new run of the same workflow with the same input; `version` null: the active one. */
export function rerunExecution(id: string, version: number | null): Promise<Execution> {
  return api.post<{ execution: Execution }>(`/api/executions/${id}/rerun`, { version }).then((r) => r.execution);
}

/** Continues a failed run from its failed step (a new execution, `retry_of` this one). */
export function retryExecution(id: string): Promise<Execution> {
  return api.post<{ execution: Execution }>(`/api/executions/${id}/retry`).then((r) => r.execution);
}

export function cancelExecution(id: string): Promise<unknown> {
  return api.post<unknown>(`/api/executions/${id}/cancel`);
}

export function terminateExecution(id: string, reason: string | null): Promise<unknown> {
  return api.post<unknown>(`/api/executions/${id}/terminate`, { reason });
}

// Project secrets: names and dates only; values go in, never out.

export function useSecrets(projectId: string | undefined) {
  return useQuery({
    queryKey: keys.secrets(projectId ?? ""),
    queryFn: ({ signal }) =>
      api.get<{ secrets: Secret[] }>(`/api/projects/${projectId}/secrets`, signal).then((r) => r.secrets),
    enabled: Boolean(projectId),
  });
}

export function useSetSecret(projectId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ name, value }: { name: string; value: string }) =>
      api
        .put<{ secret: Secret }>(`/api/projects/${projectId}/secrets/${encodeURIComponent(name)}`, { value })
        .then((r) => r.secret),
    onSettled: () => qc.invalidateQueries({ queryKey: keys.secrets(projectId) }),
  });
}

export function useDeleteSecret(projectId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => api.del<void>(`/api/projects/${projectId}/secrets/${encodeURIComponent(name)}`),
    onSettled: () => qc.invalidateQueries({ queryKey: keys.secrets(projectId) }),
  });
}

// API keys: the key itself only in the answer to creating it.

export function useApiKeys() {
  return useQuery({
    queryKey: keys.apiKeys,
    queryFn: ({ signal }) => api.get<{ api_keys: ApiKey[] }>("/api/api-keys", signal).then((r) => r.api_keys),
  });
}

export function useCreateApiKey() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { name: string; project_id: string | null; expires_at: string | null }) =>
      api.post<ApiKeyCreated>("/api/api-keys", body),
    onSettled: () => qc.invalidateQueries({ queryKey: keys.apiKeys }),
  });
}

export function useRevokeApiKey() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.del<void>(`/api/api-keys/${id}`),
    onSettled: () => qc.invalidateQueries({ queryKey: keys.apiKeys }),
  });
}

// Triggers of a workflow: webhooks and schedules.

export function useTriggers(workflowId: string | undefined) {
  return useQuery({
    queryKey: keys.triggers(workflowId ?? ""),
    queryFn: ({ signal }) =>
      api.get<{ triggers: Trigger[] }>(`/api/workflows/${workflowId}/triggers`, signal).then((r) => r.triggers),
    enabled: Boolean(workflowId),
    // Next fire times move on: keep them fresh while the panel is open.
    refetchInterval: 10000,
  });
}

export type NewTrigger =
  | { type: "webhook" }
  | ({ type: "schedule"; input: Record<string, unknown>; overlap: Trigger["overlap"] } & ScheduleSpec);

export function useCreateTrigger(workflowId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: NewTrigger) =>
      api.post<{ trigger: TriggerCreated }>(`/api/workflows/${workflowId}/triggers`, body).then((r) => r.trigger),
    onSettled: () => qc.invalidateQueries({ queryKey: keys.triggers(workflowId) }),
  });
}

export type TriggerPatch = Partial<Pick<Trigger, "enabled" | "cron" | "interval_s" | "timezone" | "input" | "overlap">>;

export function useUpdateTrigger(workflowId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, patch }: { id: string; patch: TriggerPatch }) =>
      api.patch<{ trigger: Trigger }>(`/api/triggers/${id}`, patch).then((r) => r.trigger),
    onSuccess: (t) => {
      qc.setQueryData<Trigger[]>(keys.triggers(workflowId), (old) => old?.map((x) => (x.id === t.id ? t : x)));
    },
    onSettled: () => qc.invalidateQueries({ queryKey: keys.triggers(workflowId) }),
  });
}

export function useDeleteTrigger(workflowId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.del<void>(`/api/triggers/${id}`),
    onSuccess: (_void, id) => {
      qc.setQueryData<Trigger[]>(keys.triggers(workflowId), (old) => old?.filter((x) => x.id !== id));
    },
    onSettled: () => qc.invalidateQueries({ queryKey: keys.triggers(workflowId) }),
  });
}

export function useRunTrigger(workflowId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.post<unknown>(`/api/triggers/${id}/run`),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: ["executions"] });
      void qc.invalidateQueries({ queryKey: keys.triggers(workflowId) });
    },
  });
}

/** A schedule in words and its next five fire times; rejects (422) with what is wrong with it. */
export function describeSchedule(spec: ScheduleSpec, signal?: AbortSignal): Promise<ScheduleDescription> {
  const body: Record<string, unknown> = { timezone: spec.timezone };
  if (spec.cron !== null) body["cron"] = spec.cron;
  else body["interval_s"] = spec.interval_s;
  return request<ScheduleDescription>("/api/schedules/describe", { method: "POST", body, signal });
}
