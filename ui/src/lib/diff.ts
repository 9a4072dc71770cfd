// Line diff (longest common subsequence) for comparing two versions' generated code.

export type DiffOp = "same" | "add" | "del";

export interface DiffLine {
  op: DiffOp;
  text: string;
  /** Line number in the old text (for same/del) and in the new text (for same/add). */
  oldNo: number | null;
  newNo: number | null;
}

export function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

export function diffLines(oldText: string, newText: string): DiffLine[] {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  // Trim the common prefix and suffix: generated code mostly differs in a few places.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start += 1;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA -= 1;
    endB -= 1;
  }
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const n = midA.length;
  const m = midB.length;
  // lcs[i][j] = LCS length of midA[i..] and midB[j..]
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i -= 1) {
    const row = lcs[i] as Uint32Array;
    const below = lcs[i + 1] as Uint32Array;
    for (let j = m - 1; j >= 0; j -= 1) {
      row[j] = midA[i] === midB[j] ? (below[j + 1] as number) + 1 : Math.max(below[j] as number, row[j + 1] as number);
    }
  }
  const out: DiffLine[] = [];
  let oldNo = 1;
  let newNo = 1;
  for (let k = 0; k < start; k += 1) out.push({ op: "same", text: a[k] as string, oldNo: oldNo++, newNo: newNo++ });
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && midA[i] === midB[j]) {
      out.push({ op: "same", text: midA[i] as string, oldNo: oldNo++, newNo: newNo++ });
      i += 1;
      j += 1;
    } else if (i < n && (j >= m || (lcs[i + 1]?.[j] ?? 0) >= (lcs[i]?.[j + 1] ?? 0))) {
      // Removals before additions, as diff tools show them.
      out.push({ op: "del", text: midA[i] as string, oldNo: oldNo++, newNo: null });
      i += 1;
    } else {
      out.push({ op: "add", text: midB[j] as string, oldNo: null, newNo: newNo++ });
      j += 1;
    }
  }
  for (let k = endA; k < a.length; k += 1) out.push({ op: "same", text: a[k] as string, oldNo: oldNo++, newNo: newNo++ });
  return out;
}

export function diffSummary(lines: DiffLine[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const l of lines) {
    if (l.op === "add") added += 1;
    else if (l.op === "del") removed += 1;
  }
  return { added, removed };
}

/**
 * Generated code names its version everywhere (`orders@v3`, `'orders@v3.fetch'`,
 * `OrdersV3Workflow`, "version 3", "v3: 5 nodes"): those names are made the same before
 * comparing, so that a diff shows what changed in the graph, not the version number.
 */
export function normaliseVersionNames(line: string): string {
  return line
    .replace(/@v\d+\b/g, "@vN")
    .replace(/V\d+Workflow\b/g, "VNWorkflow")
    .replace(/\bversion \d+\b/g, "version N")
    .replace(/\bv\d+\b/g, "vN");
}

/** {@link diffLines} of two versions' code, ignoring the version names; each line keeps its own text. */
export function diffVersionedCode(oldText: string, newText: string): DiffLine[] {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  const diff = diffLines(a.map(normaliseVersionNames).join("\n"), b.map(normaliseVersionNames).join("\n"));
  return diff.map((l) => ({
    ...l,
    text: (l.newNo !== null ? b[l.newNo - 1] : a[(l.oldNo ?? 1) - 1]) ?? l.text,
  }));
}
