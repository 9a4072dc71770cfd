// Shapes of the runloom HTTP API (see shared/DESIGN.md, "HTTP API").

export interface User {
  id: string;
  email: string;
}

export interface AuthResponse {
  access_token: string;
  token_type: string;
  user: User;
}

export type WorkerStatus = "starting" | "running" | "stopping" | "stopped" | "failed";

export interface Worker {
  id: string;
  worker_id: string;
  status: WorkerStatus;
  host: string | null;
  process_id: number | null;
  started_at: string | null;
  stopped_at: string | null;
  last_heartbeat: string | null;
  cpu_usage_percent: number | null;
  memory_usage_mb: number | null;
  total_tasks_completed: number | null;
  total_tasks_failed: number | null;
  metadata: Record<string, unknown> | null;
}

export interface Project {
  id: string;
  name: string;
  description: string | null;
  task_queue_name: string;
  python_network?: boolean;
  created_at: string;
  updated_at: string;
  total_workflow_executions: number | null;
  avg_execution_duration_ms: number | null;
  last_execution_at: string | null;
  workflow_count: number | null;
  /** Workflows with an active version; 0: the project has no worker to start. */
  deployed_workflow_count?: number;
  workers?: Worker[];
}

export type NodeType =
  | "start"
  | "end"
  | "http_request"
  | "transform"
  | "condition"
  | "delay"
  | "wait_for_signal"
  | "python"
  | "for_each"
  | "child_workflow";

export interface RetryPolicy {
  maximum_attempts?: number;
  initial_interval_s?: number;
  backoff_coefficient?: number;
}

export interface GraphNode {
  id: string;
  type: NodeType;
  position?: { x: number; y: number };
  config?: Record<string, unknown>;
  retry?: RetryPolicy;
  timeout_s?: number;
  local?: boolean;
}

export type Branch = "true" | "false" | "timeout";

export interface GraphEdge {
  source: string;
  target: string;
  branch?: Branch;
  /** "error": taken when the source (an activity node) fails after its retries. */
  sourceHandle?: "error";
}

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface Workflow {
  id: string;
  project_id: string;
  name: string;
  key: string;
  description: string | null;
  graph: Graph | null;
  version: number | null;
  created_at: string;
  updated_at: string;
}

export interface Problem {
  code: string;
  message: string;
  node_id?: string | null;
  edge_index?: number | null;
}

export type ExecutionStatus =
  | "pending"
  | "running"
  | "completed"
  | "failed"
  | "cancelled"
  | "terminated"
  | "timed_out";

export type NodeRunStatus = "pending" | "running" | "completed" | "failed" | "skipped";

export interface NodeState {
  status: NodeRunStatus;
  started_at?: string | null;
  finished_at?: string | null;
  attempt?: number | null;
  error?: string | null;
}

export interface Execution {
  id: string;
  workflow_id: string;
  project_id: string;
  status: ExecutionStatus;
  input: unknown;
  output: unknown;
  error: unknown;
  node_states: Record<string, NodeState> | null;
  code_version: number | null;
  temporal_workflow_id: string | null;
  temporal_run_id: string | null;
  temporal_ui_url: string | null;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  /** What started the run; absent on servers from before triggers. */
  triggered_by?: TriggeredBy | null;
  trigger_id?: string | null;
  /** The failed run this one continues from its failed step (POST …/retry). */
  retry_of?: string | null;
  /** The run this one starts again from scratch (POST …/rerun). */
  rerun_of?: string | null;
}

/** A page of run history (GET /api/executions). */
export interface ExecutionPage {
  executions: Execution[];
  next_cursor: string | null;
  /** Matching runs by status, the status filter aside. */
  counts: Record<string, number>;
  /** Matching runs, every filter applied. */
  total: number;
}

export interface StepError {
  type: string | null;
  message: string | null;
  /** The traceback lines that belong to the user's code (python nodes). */
  traceback?: string[] | null;
}

/** What one node (or one item of a for_each) received, returned and printed. */
export interface StepDetail {
  node_id: string;
  /** The node's type in the version that ran. */
  type: string | null;
  status: NodeRunStatus | string;
  input: unknown;
  output: unknown;
  error: StepError | null;
  attempts: number | null;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  /** What the step printed or logged: a line each (or one text). */
  logs: string[] | string | null;
  item_index: number | null;
  /**
   * The input or output was cut (to the start of its JSON text and "…") or not kept: the
   * whole value loads from …/steps/{node_id}/input or …/output.
   */
  truncated: boolean;
}

export type TriggeredBy = "manual" | "api" | "webhook" | "schedule";

export interface BuildResponse {
  execution_id: string;
  temporal_workflow_id: string;
  temporal_run_id: string;
  version: number;
  temporal_ui_url: string;
}

export interface Version {
  version: number;
  code_id: string;
  is_active: boolean;
  compiled_at: string;
  execution_count: number | null;
  workflow_code: string;
  activities_code: string;
}

export interface ActivityStats {
  activity_name: string;
  execution_count: number;
  success_count: number;
  failure_count: number;
  avg_duration_ms: number | null;
  p95_duration_ms: number | null;
  p99_duration_ms: number | null;
  last_executed_at: string | null;
}

export interface ProjectStats {
  project: {
    total_workflow_executions: number | null;
    avg_execution_duration_ms: number | null;
    success_rate: number | null;
    last_execution_at: string | null;
  };
  workflows: {
    workflow_id: string;
    name: string;
    execution_count: number;
    error_count: number;
    avg_execution_duration_ms: number | null;
  }[];
  activities: ActivityStats[];
  top_activities: ActivityStats[];
  executions_over_time: { bucket: string; completed: number; failed: number }[];
  duration_histogram: { le_ms: number | null; count: number }[];
}

/** A project secret as the API lists it: never its value. */
export interface Secret {
  name: string;
  created_at: string;
  updated_at: string;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  project_id: string | null;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

/** The answer to creating a key: the key itself, this once. */
export interface ApiKeyCreated extends ApiKey {
  key: string;
}

export type TriggerType = "webhook" | "schedule";
export type OverlapPolicy = "skip" | "buffer_one" | "allow_all";

export interface Trigger {
  id: string;
  workflow_id: string;
  type: TriggerType;
  enabled: boolean;
  created_at: string;
  /** Webhook: the full URL to POST to. */
  url: string | null;
  /** Webhook: the first characters of its token. */
  token_prefix: string | null;
  cron: string | null;
  interval_s: number | null;
  timezone: string | null;
  input: Record<string, unknown> | null;
  overlap: OverlapPolicy | null;
  /** Schedule: its cron or interval in words. */
  description: string | null;
  /** Schedule: the next fire times (ISO, in its timezone); empty when paused. */
  next_runs: string[];
}

/** A webhook's answer on creation carries its token, this once. */
export interface TriggerCreated extends Trigger {
  token?: string | null;
}

export interface ScheduleSpec {
  cron: string | null;
  interval_s: number | null;
  timezone: string;
}

export interface ScheduleDescription {
  description: string;
  next_runs: string[];
}
