import { describe, expect, it } from "vitest";
import { formatFieldValue, parseJson, parseTemplateField, validateRunInput } from "./json";

describe("run input validation", () => {
  it("accepts an object and treats empty as {}", () => {
    expect(validateRunInput('{"order_id": 42}')).toEqual({ ok: true, value: { order_id: 42 } });
    expect(validateRunInput("   ")).toEqual({ ok: true, value: {} });
  });
  it("refuses non-objects with an example", () => {
    for (const text of ["[1]", "42", '"x"', "null"]) {
      const r = validateRunInput(text);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/JSON object/);
    }
  });
  it("says where invalid JSON breaks", () => {
    const r = validateRunInput('{\n  "a": 1,\n  "b": }');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^Invalid JSON/);
    // Where the engine tells the position, the message gives line and column; never the whole text.
    if (!r.ok) expect(r.error).not.toContain('"a": 1');
  });
});

describe("field parsing", () => {
  it("parses JSON", () => {
    expect(parseJson("[1, 2]")).toEqual({ ok: true, value: [1, 2] });
    expect(parseJson("{").ok).toBe(false);
  });
  it("keeps template strings as strings and parses JSON with templates", () => {
    expect(parseTemplateField("{{ steps.shape }}")).toEqual({ ok: true, value: "{{ steps.shape }}" });
    expect(parseTemplateField('{"t": "{{ input.a }}"}')).toEqual({ ok: true, value: { t: "{{ input.a }}" } });
    expect(parseTemplateField('{"t": ').ok).toBe(false);
    expect(parseTemplateField("hello {{ input.name }}")).toEqual({ ok: true, value: "hello {{ input.name }}" });
  });
  it("formats stored values for editing", () => {
    expect(formatFieldValue(undefined)).toBe("");
    expect(formatFieldValue("x")).toBe("x");
    expect(formatFieldValue({ a: 1 })).toBe('{\n  "a": 1\n}');
    expect(formatFieldValue(3)).toBe("3");
  });
});
