// TanStack Query hooks over the HTTP API.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "./client";
import type {
  BuildResponse,
  Execution,
  Graph,
  Project,
  ProjectStats,
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

export function compileWorkflow(id: string): Promise<unknown> {
  return api.post<unknown>(`/api/workflows/${id}/compile`);
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
