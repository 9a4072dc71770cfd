import { describe, expect, it } from "vitest";
import type { NodeType } from "../api/types";
import { humanize, problemsOfField } from "./problems";

const kinds = new Map<string, NodeType>([
  ["fetch", "http_request"],
  ["wait", "wait_for_signal"],
  ["code", "python"],
  ["d", "delay"],
]);

describe("humanize", () => {
  it("says a required field is required, under that field, keeping the original", () => {
    const original = "node 'fetch': field config.url: String should have at least 1 character.";
    const h = humanize({ code: "out_of_range", message: original, node_id: "fetch" }, kinds);
    expect(h).toMatchObject({ field: "url", fieldLabel: "URL", text: "URL is required", original, nodeId: "fetch" });
  });

  it("words number bounds, retry options and unknown fields", () => {
    const ge = humanize({ code: "out_of_range", message: "node 'd': field config.seconds: Input should be greater than or equal to 0.", node_id: "d" }, kinds);
    expect(ge.text).toBe("Seconds must be at least 0");
    const retry = humanize(
      { code: "out_of_range", message: "node 'fetch': field retry.maximum_attempts: Input should be greater than or equal to 1.", node_id: "fetch" },
      kinds,
    );
    expect(retry).toMatchObject({ field: "retry.maximum_attempts", text: "Max attempts must be at least 1" });
    const unknown = humanize(
      { code: "unknown_field", message: "node 'fetch': field config.urll: this field is not known; check its spelling.", node_id: "fetch" },
      kinds,
    );
    expect(unknown.text).toContain("not a setting");
    const missing = humanize({ code: "invalid_field", message: "node 'wait': field config.signal: Field required.", node_id: "wait" }, kinds);
    expect(missing).toMatchObject({ field: "signal", text: "Signal name is required" });
  });

  it("puts template, python and timeout problems on their fields", () => {
    const t = humanize(
      { code: "template_syntax", message: "node 'fetch': the template in config.headers.Accept is invalid: unexpected '}' (line 1).", node_id: "fetch" },
      kinds,
    );
    expect(t).toMatchObject({ field: "headers", text: "The template in Headers is invalid: unexpected '}' (line 1)" });
    const py = humanize(
      { code: "python_syntax", message: "node 'code': config.code is not valid Python at line 2: invalid syntax.", node_id: "code" },
      kinds,
    );
    expect(py).toMatchObject({ field: "code", text: "Code is not valid Python at line 2: invalid syntax" });
    const to = humanize(
      { code: "timeout_branch_without_timeout", message: "node 'wait' has a \"timeout\" edge but no config.timeout_s", node_id: "wait" },
      kinds,
    );
    expect(to.field).toBe("timeout_s");
  });

  it("keeps graph-level problems as sentences without a field", () => {
    const h = humanize({ code: "missing_end", message: "the graph has no end node; add one and connect the last step to it." }, kinds);
    expect(h).toMatchObject({ field: null, nodeId: null, text: "Add an End node and connect the last step to it" });
    const other = humanize({ code: "cycle", message: "the graph loops: 'a' -> 'b'; remove one of these edges." }, kinds);
    expect(other.text).toBe("The graph loops: 'a' -> 'b'; remove one of these edges");
  });

  it("finds the problems of one field", () => {
    const all = [
      humanize({ code: "out_of_range", message: "node 'fetch': field config.url: String should have at least 1 character.", node_id: "fetch" }, kinds),
      humanize({ code: "unreachable_node", message: "node 'fetch' cannot be reached", node_id: "fetch" }, kinds),
    ];
    expect(problemsOfField(all, "fetch", "url")).toHaveLength(1);
    expect(problemsOfField(all, "fetch", "method")).toHaveLength(0);
  });
});
