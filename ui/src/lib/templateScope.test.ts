import { describe, expect, it } from "vitest";
import { completionsAt, insideTag, problemLine, sampleScope, unknownStepRefs, type ScopeInfo } from "./templateScope";

const scope: ScopeInfo = {
  input: { order: { id: 7, lines: [1, 2] }, name: "Ada" },
  steps: { fetch: { status: 200, body: { total: 42, items: [] } }, shape: "x" },
  upstream: ["fetch", "shape"],
  nodeIds: ["start", "fetch", "shape", "end"],
  secrets: ["API_TOKEN"],
  inLoop: false,
  onErrorPath: false,
};

const labels = (text: string, mode: "template" | "expression" = "template", s: ScopeInfo = scope) =>
  completionsAt(text, text.length, mode, s)?.options.map((o) => o.label) ?? null;

describe("template completions", () => {
  it("offer the roots right after {{", () => {
    expect(labels("{{ ")).toEqual(["input", "steps", "secrets"]);
    expect(labels("{{ in")).toContain("input");
    expect(labels("hello ")).toBeNull();
  });

  it("offer item, index and error only where they exist", () => {
    expect(labels("{{ ", "template", { ...scope, inLoop: true, onErrorPath: true })).toEqual(
      expect.arrayContaining(["item", "index", "error"]),
    );
  });

  it("offer the upstream step ids and the fields seen in the last run", () => {
    expect(labels("{{ steps.")).toEqual(["fetch", "shape"]);
    expect(labels("{{ steps.fetch.")).toEqual(["status", "body"]);
    expect(labels("{{ steps.fetch.body.to")).toEqual(["total", "items"]);
    const r = completionsAt("{{ steps.fetch.body.to", 22, "template", scope);
    expect(r?.from).toBe(20);
  });

  it("offer input fields and secret names", () => {
    expect(labels("{{ input.")).toEqual(["order", "name"]);
    expect(labels("{{ input.order.")).toEqual(["id", "lines"]);
    expect(labels("{{ secrets.")).toEqual(["API_TOKEN"]);
  });

  it("work in expressions without braces", () => {
    expect(labels("steps.fetch.body.total > 1 and input.", "expression")).toEqual(["order", "name"]);
  });

  it("know when the cursor is inside a tag", () => {
    expect(insideTag("{{ a }} b", 8)).toBe(false);
    expect(insideTag("{% if x %}", 5)).toBe(true);
  });
});

describe("unknown step references", () => {
  it("flag steps that are no node, wherever they are written", () => {
    const text = "{{ steps.nope.x }} {{ steps['gone'] }} {{ steps.fetch }} {{ steps.get('a') }}";
    const found = unknownStepRefs(text, "template", scope.nodeIds);
    expect(found.map((r) => text.slice(r.from, r.to))).toEqual(["steps.nope", "steps['gone']"]);
    expect(found[0]?.message).toContain("nope");
  });

  it("ignore text outside template tags", () => {
    expect(unknownStepRefs("steps.nope {{ 1 }}", "template", scope.nodeIds)).toEqual([]);
    expect(unknownStepRefs("steps.nope", "expression", scope.nodeIds)).toHaveLength(1);
  });
});

describe("helpers", () => {
  it("find the line a problem names", () => {
    expect(problemLine("node 'x': config.code is not valid Python at line 3: invalid syntax.")).toBe(3);
    expect(problemLine("template invalid: unexpected '}' (line 2).")).toBe(2);
    expect(problemLine("no line here")).toBeNull();
  });

  it("build the sample scope from the last run", () => {
    expect(sampleScope({ ...scope, error: { message: "boom" } })).toEqual({
      input: scope.input,
      steps: scope.steps,
      error: { message: "boom" },
    });
  });
});
