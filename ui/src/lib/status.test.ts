import { describe, expect, it } from "vitest";
import type { Worker } from "../api/types";
import { executionTone, isTerminal, nodeTone, summarizeWorkers, TONE_COLOURS, workerTone } from "./status";

function worker(status: Worker["status"], started: string, metadata: Record<string, unknown> = {}): Worker {
  return {
    id: `${status}-${started}`,
    worker_id: "w",
    status,
    host: "h",
    process_id: 1,
    started_at: started,
    stopped_at: null,
    last_heartbeat: started,
    cpu_usage_percent: 0,
    memory_usage_mb: 10,
    total_tasks_completed: 0,
    total_tasks_failed: 0,
    metadata,
  };
}

describe("execution and node colours", () => {
  it("maps every execution status", () => {
    expect(executionTone("completed")).toBe("green");
    expect(executionTone("running")).toBe("blue");
    expect(executionTone("pending")).toBe("yellow");
    expect(executionTone("failed")).toBe("red");
    expect(executionTone("timed_out")).toBe("red");
    expect(executionTone("terminated")).toBe("red");
    expect(executionTone("cancelled")).toBe("grey");
  });
  it("maps node states", () => {
    expect(nodeTone("completed")).toBe("green");
    expect(nodeTone("failed")).toBe("red");
    expect(nodeTone("running")).toBe("blue");
    expect(nodeTone("skipped")).toBe("grey");
    expect(nodeTone(undefined)).toBe("grey");
  });
  it("knows terminal states", () => {
    expect(isTerminal("running")).toBe(false);
    expect(isTerminal("pending")).toBe(false);
    expect(isTerminal("timed_out")).toBe(true);
  });
  it("has a colour for every tone", () => {
    expect(Object.keys(TONE_COLOURS).sort()).toEqual(["blue", "green", "grey", "red", "yellow"]);
  });
});

describe("worker indicator (seed: green running, yellow starting, red stopped/failed)", () => {
  it("is grey when no worker ever ran", () => {
    expect(summarizeWorkers([])).toMatchObject({ tone: "grey", label: "idle (scaled to zero)", worker: null });
    expect(summarizeWorkers(undefined).tone).toBe("grey");
  });
  it("follows the active row over older ones", () => {
    const rows = [worker("failed", "2024-01-01T00:00:00Z"), worker("running", "2024-01-02T00:00:00Z")];
    expect(summarizeWorkers(rows)).toMatchObject({ tone: "green", label: "running" });
    expect(summarizeWorkers([worker("starting", "2024-01-02T00:00:00Z")]).tone).toBe("yellow");
  });
  it("is red when the latest row stopped or failed", () => {
    const rows = [worker("stopped", "2024-01-01T00:00:00Z"), worker("failed", "2024-01-03T00:00:00Z")];
    expect(summarizeWorkers(rows)).toMatchObject({ tone: "red", label: "failed" });
    expect(summarizeWorkers([worker("stopped", "2024-01-01T00:00:00Z")]).label).toBe("stopped");
  });
  it("is grey when the worker scaled to zero for lack of work", () => {
    const s = summarizeWorkers([worker("stopped", "2024-01-01T00:00:00Z", { reason: "idle" })]);
    expect(s).toMatchObject({ tone: "grey", label: "idle (scaled to zero)" });
    expect(s.worker).not.toBeNull();
  });
});

describe("workerTone", () => {
  it("colours each registry state as the seed's dots do", () => {
    expect(["running", "starting", "stopping", "stopped", "failed", "??"].map(workerTone)).toEqual([
      "green",
      "yellow",
      "yellow",
      "red",
      "red",
      "grey",
    ]);
  });
});
