// Where nodes go: automatic layout (dagre), and the spot of a node added after another or
// inserted on an edge. Pure functions over positions, so that they can be tested.
import dagre from "@dagrejs/dagre";

export interface Box {
  id: string;
  position: { x: number; y: number };
  /** Measured size on the canvas, when known. */
  width?: number;
  height?: number;
}

export interface Link {
  source: string;
  target: string;
  /** The source's output handle (`true`, `false`, `timeout`, `error`, or plain). */
  handle?: string | null;
}

export const LAYOUT_NODE_WIDTH = 190;
export const LAYOUT_NODE_HEIGHT = 90;
/** Vertical distance between a node and the one placed below it. */
export const ROW = 140;
const GAP_X = 60;

/** Top-left positions of every node, in layers from the roots down (dagre, top to bottom). */
export function layoutGraph(nodes: Box[], links: Link[]): Map<string, { x: number; y: number }> {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: "TB", nodesep: GAP_X, ranksep: ROW - LAYOUT_NODE_HEIGHT + 10, marginx: 0, marginy: 0 });
  g.setDefaultEdgeLabel(() => ({}));
  const size = new Map<string, { w: number; h: number }>();
  for (const n of nodes) {
    const w = n.width ?? LAYOUT_NODE_WIDTH;
    const h = n.height ?? LAYOUT_NODE_HEIGHT;
    size.set(n.id, { w, h });
    g.setNode(n.id, { width: w, height: h });
  }
  // Branches in their handle order (true left of false), error paths to the right.
  const rank = (h: string | null | undefined) => (h === "true" ? 0 : h === "false" ? 1 : h === "timeout" ? 2 : h === "error" ? 3 : 0);
  const sorted = [...links].sort((a, b) => rank(a.handle) - rank(b.handle));
  sorted.forEach((l, i) => {
    if (size.has(l.source) && size.has(l.target) && l.source !== l.target) g.setEdge(l.source, l.target, {}, `e${i}`);
  });
  dagre.layout(g);
  const out = new Map<string, { x: number; y: number }>();
  let minX = Infinity;
  let minY = Infinity;
  for (const n of nodes) {
    const laid = g.node(n.id) as { x: number; y: number } | undefined;
    const s = size.get(n.id) ?? { w: LAYOUT_NODE_WIDTH, h: LAYOUT_NODE_HEIGHT };
    const p = { x: Math.round((laid?.x ?? 0) - s.w / 2), y: Math.round((laid?.y ?? 0) - s.h / 2) };
    minX = Math.min(minX, p.x);
    minY = Math.min(minY, p.y);
    out.set(n.id, p);
  }
  for (const [id, p] of out) out.set(id, { x: p.x - (Number.isFinite(minX) ? minX : 0), y: p.y - (Number.isFinite(minY) ? minY : 0) });
  return out;
}

/** Does a graph need laying out? Some node has no position, or they all share one. */
export function needsLayout(positions: ({ x: number; y: number } | null | undefined)[]): boolean {
  if (positions.some((p) => !p)) return true;
  if (positions.length < 2) return false;
  const first = positions[0] as { x: number; y: number };
  return positions.every((p) => p && p.x === first.x && p.y === first.y);
}

function overlaps(nodes: Box[], x: number, y: number, ignore: ReadonlySet<string>): boolean {
  return nodes.some(
    (n) =>
      !ignore.has(n.id) &&
      Math.abs(n.position.x - x) < LAYOUT_NODE_WIDTH + 20 &&
      Math.abs(n.position.y - y) < (n.height ?? LAYOUT_NODE_HEIGHT) + 20,
  );
}

/** Does the straight line of an edge pass through the box of a node put at (x, y)? */
function crossesEdge(nodes: Box[], links: Link[], x: number, y: number): boolean {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  return links.some((l) => {
    const a = byId.get(l.source);
    const b = byId.get(l.target);
    if (!a || !b) return false;
    const top = a.position.y + (a.height ?? LAYOUT_NODE_HEIGHT);
    const bottom = b.position.y;
    if (!(y < bottom && y + LAYOUT_NODE_HEIGHT > top)) return false;
    const left = Math.min(a.position.x, b.position.x);
    const right = Math.max(a.position.x, b.position.x) + LAYOUT_NODE_WIDTH;
    return x < right && x + LAYOUT_NODE_WIDTH > left;
  });
}

/**
 * A free spot for a new node near `around` (top-left): on no node and on no edge's path,
 * so that an edge never seems to run through it. Searches right, then down; never left,
 * where the palette is.
 */
export function freeSpotNear(nodes: Box[], links: Link[], around: { x: number; y: number }): { x: number; y: number } {
  const none = new Set<string>();
  for (let ring = 0; ring < 10; ring += 1) {
    for (let step = 0; step <= ring; step += 1) {
      // Down before right: a canvas is taller than the space right of a graph.
      const candidates = [
        { x: around.x + step * (LAYOUT_NODE_WIDTH + 40), y: around.y + ring * (ROW / 2) },
        { x: around.x + ring * (LAYOUT_NODE_WIDTH + 40), y: around.y + step * (ROW / 2) },
      ];
      for (const c of candidates) if (!overlaps(nodes, c.x, c.y, none) && !crossesEdge(nodes, links, c.x, c.y)) return c;
    }
  }
  return { x: around.x, y: around.y + 10 * ROW };
}

/** Where a node added after `source`'s output `handleIndex` (of `handleCount`) goes. */
export function spotAfter(
  nodes: Box[],
  links: Link[],
  sourceId: string,
  handleIndex = 0,
  handleCount = 1,
  errorSide = false,
): { x: number; y: number } {
  const source = nodes.find((n) => n.id === sourceId);
  if (!source) return freeSpotNear(nodes, links, { x: 0, y: 0 });
  const spread = handleCount > 1 ? (handleIndex - (handleCount - 1) / 2) * (LAYOUT_NODE_WIDTH + GAP_X) : 0;
  const x = errorSide ? source.position.x + LAYOUT_NODE_WIDTH + GAP_X * 2 : source.position.x + spread;
  const y = errorSide ? source.position.y + ROW / 2 : source.position.y + (source.height ?? LAYOUT_NODE_HEIGHT) + ROW - LAYOUT_NODE_HEIGHT;
  const none = new Set<string>();
  for (let i = 0; i < 12; i += 1) {
    const c = { x: x + (i % 2 === 1 ? Math.ceil(i / 2) * (LAYOUT_NODE_WIDTH + 40) : 0), y: y + Math.floor(i / 2) * ROW };
    if (!overlaps(nodes, c.x, c.y, none)) return c;
  }
  return freeSpotNear(nodes, links, { x, y });
}

/** Ids reachable from `start` along `links` (itself included), never passing `stop`. */
function downstream(start: string, links: Link[], stop: string): Set<string> {
  const seen = new Set<string>([start]);
  const stack = [start];
  while (stack.length > 0) {
    const cur = stack.pop() as string;
    for (const l of links) {
      if (l.source === cur && l.target !== stop && !seen.has(l.target)) {
        seen.add(l.target);
        stack.push(l.target);
      }
    }
  }
  return seen;
}

/**
 * Inserting a node on the edge `source → target`: where the new node goes, and the nodes
 * moved down a row to make room (the target and what follows it), when there is not room.
 */
export function insertOnEdge(
  nodes: Box[],
  links: Link[],
  sourceId: string,
  targetId: string,
): { position: { x: number; y: number }; moved: Map<string, { x: number; y: number }> } {
  const source = nodes.find((n) => n.id === sourceId);
  const target = nodes.find((n) => n.id === targetId);
  const moved = new Map<string, { x: number; y: number }>();
  if (!source || !target) return { position: freeSpotNear(nodes, links, { x: 0, y: 0 }), moved };
  const below = source.position.y + (source.height ?? LAYOUT_NODE_HEIGHT);
  const x = Math.round((source.position.x + target.position.x) / 2);
  const y = below + ROW - LAYOUT_NODE_HEIGHT;
  const needed = y + LAYOUT_NODE_HEIGHT + (ROW - LAYOUT_NODE_HEIGHT);
  const shift = Math.max(0, needed - target.position.y);
  if (shift > 0) {
    for (const id of downstream(targetId, links, sourceId)) {
      const n = nodes.find((m) => m.id === id);
      if (n && n.position.y >= target.position.y - 1) moved.set(id, { x: n.position.x, y: n.position.y + shift });
    }
  }
  return { position: { x, y }, moved };
}
