// What the canvas's own controls (the "+" of outputs and edges) ask of the builder.
import { createContext, useContext } from "react";
import type { Output } from "../lib/canvasOps";

export interface CanvasActions {
  /** Open the step menu to add a node after `nodeId`'s output `handle`. */
  addAfter: (nodeId: string, handle: Output, anchor: HTMLElement) => void;
  /** Open the step menu to insert a node on edge `edgeId`. */
  insertOn: (edgeId: string, anchor: HTMLElement) => void;
}

const noop: CanvasActions = { addAfter: () => undefined, insertOn: () => undefined };

export const CanvasActionsContext = createContext<CanvasActions>(noop);

export function useCanvasActions(): CanvasActions {
  return useContext(CanvasActionsContext);
}
