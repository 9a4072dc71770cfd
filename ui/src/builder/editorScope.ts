// The data the editors of one node work with: the last run of the workflow (the one the
// builder shows, else the latest), what its steps returned, the project's secret names.
import { useMemo } from "react";
import { useSearchParams } from "react-router-dom";
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { useSecrets, useSteps, useWorkflow } from "../api/hooks";
import type { Execution } from "../api/types";
import { isErrorEdge, type StepEdge, type StepNode } from "../lib/graph";
import { upstreamOf } from "../lib/connectTargets";
import { isTerminal } from "../lib/status";
import type { ScopeInfo } from "../lib/templateScope";

export interface LastRun {
  execution: Execution | null;
  outputs: Record<string, unknown>;
  errors: Record<string, { type: string | null; message: string | null; node_id: string }>;
}

/** The run the builder shows (`?run=`), else the workflow's latest; its steps' outputs. */
export function useLastRun(workflowId: string): LastRun {
  const [params] = useSearchParams();
  const shown = params.get("run");
  const latest = useQuery({
    queryKey: ["executions", "latest", workflowId, shown ?? ""],
    queryFn: ({ signal }) =>
      shown
        ? api.get<{ execution: Execution }>(`/api/executions/${shown}`, signal).then((r) => r.execution)
        : api
            .get<{ executions: Execution[] }>(`/api/executions?workflow_id=${encodeURIComponent(workflowId)}&limit=1`, signal)
            .then((r) => r.executions[0] ?? null),
    refetchInterval: (q) => (q.state.data && isTerminal(q.state.data.status) ? 15000 : 3000),
  });
  const execution = latest.data ?? null;
  const live = execution ? !isTerminal(execution.status) : false;
  const steps = useSteps(execution?.id, live);
  return useMemo(() => {
    const outputs: LastRun["outputs"] = {};
    const errors: LastRun["errors"] = {};
    for (const s of steps.data ?? []) {
      if (s.item_index !== null) continue;
      if (s.status === "completed") outputs[s.node_id] = s.output;
      else if (s.status === "failed" && s.error) {
        errors[s.node_id] = { type: s.error.type, message: s.error.message, node_id: s.node_id };
      }
    }
    return { execution, outputs, errors };
  }, [execution, steps.data]);
}

/** What the templates of `node` can read, with the last run's values. */
export function useNodeScope(workflowId: string, node: StepNode, nodes: StepNode[], edges: StepEdge[]): ScopeInfo {
  const workflow = useWorkflow(workflowId);
  const secrets = useSecrets(workflow.data?.project_id);
  const run = useLastRun(workflowId);
  return useMemo(() => {
    const errorSources = edges.filter((e) => e.target === node.id && isErrorEdge(e)).map((e) => e.source);
    const failed = errorSources.map((id) => run.errors[id]).find(Boolean);
    return {
      input: run.execution?.input,
      steps: run.outputs,
      upstream: upstreamOf(node.id, edges),
      nodeIds: nodes.map((n) => n.id),
      secrets: (secrets.data ?? []).map((s) => s.name),
      inLoop: false,
      onErrorPath: errorSources.length > 0,
      ...(failed ? { error: failed } : {}),
    };
  }, [node.id, nodes, edges, run, secrets.data]);
}
