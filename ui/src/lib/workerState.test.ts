import { describe, expect, it } from "vitest";
import type { Worker } from "../api/types";
import { NOTHING_DEPLOYED, STDERR_LINES, workerState } from "./workerState";

function row(status: Worker["status"], started: string, metadata: Record<string, unknown> = {}, stopped: string | null = null): Worker {
  return {
    id: `${status}-${started}`,
    worker_id: "w",
    status,
    host: "h",
    process_id: 1,
    started_at: started,
    stopped_at: stopped,
    last_heartbeat: started,
    cpu_usage_percent: 0,
    memory_usage_mb: 10,
    total_tasks_completed: 0,
    total_tasks_failed: 0,
    metadata,
  };
}

describe("workerState", () => {
  it("says it is loading, not idle, before the project arrives", () => {
    const s = workerState(undefined);
    expect(s.kind).toBe("loading");
    expect(s.label).not.toMatch(/idle/);
    expect(s.disabled.start && s.disabled.stop && s.disabled.restart).toBeTruthy();
  });

  it("has no worker and offers no action while nothing is deployed", () => {
    const s = workerState({ workers: [], deployed_workflow_count: 0 });
    expect(s).toMatchObject({ kind: "nothing_deployed", label: NOTHING_DEPLOYED, tone: "grey", worker: null });
    expect(s.disabled.start).toMatch(/no workflow deployed yet/i);
    expect(s.disabled.stop).toBeTruthy();
    expect(s.disabled.restart).toBeTruthy();
  });

  it("does not show an old failure in red once nothing is deployed", () => {
    const s = workerState({ workers: [row("failed", "2024-01-01T00:00:00Z")], deployed_workflow_count: 0 });
    expect(s.tone).toBe("grey");
    expect(s.kind).toBe("nothing_deployed");
  });

  it("offers only the actions that make sense", () => {
    const running = workerState({ workers: [row("running", "2024-01-02T00:00:00Z")], deployed_workflow_count: 1 });
    expect(running).toMatchObject({ kind: "running", tone: "green" });
    expect(running.disabled).toEqual({ start: "The worker is already running." });
    const idle = workerState({ workers: [], deployed_workflow_count: 1 });
    expect(idle.kind).toBe("idle");
    expect(idle.disabled.start).toBeUndefined();
    expect(idle.disabled.stop && idle.disabled.restart).toBeTruthy();
    const starting = workerState({ workers: [row("starting", "2024-01-02T00:00:00Z")], deployed_workflow_count: 1 });
    expect(starting.disabled.stop).toBeUndefined();
    expect(starting.disabled.start && starting.disabled.restart).toBeTruthy();
    const stopped = workerState({ workers: [row("stopped", "2024-01-02T00:00:00Z", { reason: "requested" })], deployed_workflow_count: 1 });
    expect(stopped).toMatchObject({ kind: "stopped", tone: "grey" });
    expect(stopped.disabled.start).toBeUndefined();
  });

  it("gives a failure's reason, time and last stderr lines", () => {
    const tail = Array.from({ length: 30 }, (_, i) => `line ${i}`).join("\n");
    const failed = row(
      "failed",
      "2024-01-02T00:00:00Z",
      { reason: "crash_loop", error: "exit code 1; gave up", stderr_tail: tail },
      "2024-01-02T00:00:05Z",
    );
    const s = workerState({ workers: [row("running", "2024-01-01T00:00:00Z"), failed].filter((w) => w.status === "failed"), deployed_workflow_count: 2 });
    expect(s).toMatchObject({ kind: "failed", tone: "red" });
    expect(s.failure?.reason).toBe("exit code 1; gave up");
    expect(s.failure?.at).toBe("2024-01-02T00:00:05Z");
    expect(s.failure?.stderr).toHaveLength(STDERR_LINES);
    expect(s.failure?.stderr.at(-1)).toBe("line 29");
    expect(s.disabled.start).toBeUndefined();
  });

  it("prefers the active row over a newer failed one", () => {
    const s = workerState({
      workers: [row("failed", "2024-01-03T00:00:00Z"), row("running", "2024-01-02T00:00:00Z")],
      deployed_workflow_count: 1,
    });
    expect(s.kind).toBe("running");
  });
});
