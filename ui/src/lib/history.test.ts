import { describe, expect, it } from "vitest";
import { HISTORY_LIMIT, canRedo, canUndo, createHistory, push, redo, replace, seal, undo } from "./history";

describe("undo/redo history", () => {
  it("undoes and redoes steps in order", () => {
    let h = createHistory("a");
    h = push(h, "b");
    h = push(h, "c");
    expect(h.present).toBe("c");
    h = undo(h);
    expect(h.present).toBe("b");
    h = undo(h);
    expect(h.present).toBe("a");
    expect(canUndo(h)).toBe(false);
    expect(undo(h)).toBe(h);
    h = redo(h);
    h = redo(h);
    expect(h.present).toBe("c");
    expect(canRedo(h)).toBe(false);
    expect(redo(h)).toBe(h);
  });

  it("a new step after undo drops the redo branch", () => {
    let h = push(push(createHistory(1), 2), 3);
    h = undo(h);
    h = push(h, 4);
    expect(h.present).toBe(4);
    expect(canRedo(h)).toBe(false);
    expect(undo(h).present).toBe(2);
  });

  it("coalesces pushes with the same key into one step", () => {
    let h = createHistory("");
    h = push(h, "h", "field");
    h = push(h, "he", "field");
    h = push(h, "hey", "field");
    expect(h.past).toEqual([""]);
    h = push(h, "hey!", "other");
    expect(h.past).toEqual(["", "hey"]);
    expect(undo(undo(h)).present).toBe("");
  });

  it("seal ends a coalescing run", () => {
    let h = push(createHistory(0), 1, "drag");
    h = seal(h);
    h = push(h, 2, "drag");
    expect(h.past).toEqual([0, 1]);
  });

  it("undo ends a coalescing run too", () => {
    let h = push(push(createHistory(0), 1, "k"), 2, "x");
    h = undo(h);
    h = push(h, 3, "x");
    expect(h.past).toEqual([0, 1]);
  });

  it("replace changes the present without a step", () => {
    const h = replace(push(createHistory("a"), "b"), "b2");
    expect(h.present).toBe("b2");
    expect(undo(h).present).toBe("a");
  });

  it("ignores pushing the same object", () => {
    const v = { x: 1 };
    const h = createHistory(v);
    expect(push(h, v)).toBe(h);
  });

  it("keeps at most HISTORY_LIMIT steps", () => {
    let h = createHistory(0);
    for (let i = 1; i <= HISTORY_LIMIT + 20; i += 1) h = push(h, i);
    expect(h.past.length).toBe(HISTORY_LIMIT);
    expect(h.past[0]).toBe(20);
  });
});
