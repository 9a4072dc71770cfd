// Which nodes "Connect to" may offer: never one that runs before the source (a cycle), nor
// one the source already leads to.

interface Edge {
  source: string;
  target: string;
}

/** Ids of the nodes from which `id` can be reached (its ancestors). */
export function ancestorsOf(id: string, edges: readonly Edge[]): Set<string> {
  const seen = new Set<string>();
  const stack = [id];
  while (stack.length > 0) {
    const cur = stack.pop() as string;
    for (const e of edges) {
      if (e.target === cur && !seen.has(e.source)) {
        seen.add(e.source);
        stack.push(e.source);
      }
    }
  }
  return seen;
}

/** Ids of the nodes that run before `id`, sorted: what `steps.<id>` can refer to. */
export function upstreamOf(id: string, edges: readonly Edge[]): string[] {
  const ancestors = ancestorsOf(id, edges);
  ancestors.delete(id);
  return [...ancestors].sort();
}

/** The nodes an edge from `source` may go to, in the given order. */
export function connectTargets<N extends { id: string }>(
  source: string,
  nodes: readonly N[],
  edges: readonly Edge[],
  hasInput: (node: N) => boolean,
): N[] {
  const upstream = ancestorsOf(source, edges);
  const connected = new Set(edges.filter((e) => e.source === source).map((e) => e.target));
  return nodes.filter((n) => n.id !== source && hasInput(n) && !upstream.has(n.id) && !connected.has(n.id));
}
