import { beforeEach, describe, expect, it } from "vitest";
import { clearDraft, draftToRestore, loadDraft, storeDraft } from "./drafts";

class MemoryStorage {
  private items = new Map<string, string>();
  getItem(k: string) {
    return this.items.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.items.set(k, v);
  }
  removeItem(k: string) {
    this.items.delete(k);
  }
}

beforeEach(() => {
  (globalThis as { localStorage?: unknown }).localStorage = new MemoryStorage();
});

const graph = { nodes: [{ id: "start", type: "start" as const }], edges: [] };

describe("drafts", () => {
  it("stores, restores and clears a draft per workflow", () => {
    expect(storeDraft("w1", graph, "{}", 5)).toBe(true);
    expect(loadDraft("w1")).toEqual({ graph, base: "{}", savedAt: 5 });
    expect(loadDraft("w2")).toBeNull();
    expect(draftToRestore("w1", "{}")?.graph).toEqual(graph);
    clearDraft("w1");
    expect(loadDraft("w1")).toBeNull();
  });

  it("drops a draft equal to the saved graph, and ignores garbage", () => {
    storeDraft("w1", graph, "{}");
    expect(draftToRestore("w1", JSON.stringify(graph))).toBeNull();
    expect(loadDraft("w1")).toBeNull();
    localStorage.setItem("runloom.draft.w3", "{not json");
    expect(loadDraft("w3")).toBeNull();
  });
});
