/** Hold the open version's graph: its undo history, the saved copy it is compared with, and the selection. */

import { useCallback, useEffect, useState, type Dispatch, type SetStateAction } from 'react';
import type { VersionSummary } from '../api/versions';
import { emptyGraph, type WorkflowGraph } from '../graph';
import { EMPTY_SELECTION, pruneSelection, type Selection } from './selection';
import { useGraphHistory } from './useGraphHistory';
import { useReadableFit } from './useReadableFit';

export interface EditorGraph {
  graph: WorkflowGraph;
  canUndo: boolean;
  canRedo: boolean;
  /** The newest graph, also between an edit and the next render. */
  getGraph: () => WorkflowGraph;
  /** Record a change; a read-only user's changes go nowhere. */
  commit: (next: WorkflowGraph, coalesceKey?: string) => void;
  undo: () => void;
  redo: () => void;
  /** The graph as last saved or opened. */
  base: WorkflowGraph;
  setBase: Dispatch<SetStateAction<WorkflowGraph>>;
  /** The open version; null before the first save. */
  current: VersionSummary | null;
  setCurrent: Dispatch<SetStateAction<VersionSummary | null>>;
  /** The graph differs from the saved one. */
  dirty: boolean;
  selection: Selection;
  setSelection: Dispatch<SetStateAction<Selection>>;
  /** Fit the whole graph into the view after the next render. */
  requestFit: () => void;
  /** Start over on `next`, opened from `version`: no undo past it, nothing selected. */
  show: (next: WorkflowGraph, version: VersionSummary | null) => void;
}

export function useEditorGraph(readOnly: boolean): EditorGraph {
  // Fit at a zoom that keeps node text readable, clear of the canvas's overlays.
  const { fit } = useReadableFit();
  // Destructured: the functions are stable, the history object itself is not.
  const { graph, canUndo, canRedo, get: getGraph, commit: commitChange, undo, redo, reset } = useGraphHistory(emptyGraph);
  // Every change goes through here, whichever control or shortcut asks: a read-only
  // user's changes go nowhere, so the graph never differs from the saved one.
  const commit = useCallback(
    (next: WorkflowGraph, coalesceKey?: string) => {
      if (!readOnly) commitChange(next, coalesceKey);
    },
    [readOnly, commitChange],
  );
  const [base, setBase] = useState<WorkflowGraph>(graph);
  const [current, setCurrent] = useState<VersionSummary | null>(null);
  const [selection, setSelection] = useState<Selection>(EMPTY_SELECTION);
  const [fitRequest, setFitRequest] = useState(0);
  const dirty = graph !== base;

  const requestFit = useCallback(() => setFitRequest((n) => n + 1), []);

  const show = useCallback(
    (next: WorkflowGraph, version: VersionSummary | null) => {
      reset(next);
      setBase(next);
      setCurrent(version);
      setSelection(EMPTY_SELECTION);
      setFitRequest((n) => n + 1);
    },
    [reset],
  );

  useEffect(() => {
    if (fitRequest === 0) return undefined;
    const frame = requestAnimationFrame(() => fit(200));
    return () => cancelAnimationFrame(frame);
  }, [fitRequest, fit]);

  // Warn before leaving with unsaved changes.
  useEffect(() => {
    if (!dirty) return undefined;
    const onBeforeUnload = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      event.returnValue = '';
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, [dirty]);

  // Keep the selection to elements that still exist (after undo, delete, paste).
  useEffect(() => {
    setSelection((prev) =>
      prev.nodes.size + prev.edges.size === 0
        ? prev
        : pruneSelection(prev, new Set(graph.nodes.map((n) => n.id)), new Set(graph.edges.map((e) => e.id))),
    );
  }, [graph]);

  return {
    graph,
    canUndo,
    canRedo,
    getGraph,
    commit,
    undo,
    redo,
    base,
    setBase,
    current,
    setCurrent,
    dirty,
    selection,
    setSelection,
    requestFit,
    show,
  };
}
