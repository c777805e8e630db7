/** Hold the edited graph with undo/redo; typing into one field makes one undo step. */

import { useCallback, useMemo, useRef, useState } from 'react';
import { History, type WorkflowGraph } from '../graph';

// Edits to the same field closer together than this merge into one undo step.
const COALESCE_MS = 1000;

export interface GraphHistory {
  graph: WorkflowGraph;
  canUndo: boolean;
  canRedo: boolean;
  /** The newest graph, also between an edit and the next render. */
  get: () => WorkflowGraph;
  /** Record a new graph; edits with the same `coalesceKey` in a row merge. */
  commit: (next: WorkflowGraph, coalesceKey?: string) => void;
  undo: () => void;
  redo: () => void;
  /** Start over from `graph` (a version was opened): no undo past it. */
  reset: (graph: WorkflowGraph) => void;
}

export function useGraphHistory(initial: () => WorkflowGraph): GraphHistory {
  const historyRef = useRef<History<WorkflowGraph> | null>(null);
  historyRef.current ??= new History(initial());
  const history = historyRef.current;
  const last = useRef<{ key: string; at: number } | null>(null);
  const [, setTick] = useState(0);
  const refresh = useCallback(() => setTick((n) => n + 1), []);

  const get = useCallback(() => history.current, [history]);
  const commit = useCallback(
    (next: WorkflowGraph, coalesceKey?: string) => {
      if (next === history.current) return;
      const now = performance.now();
      const previous = last.current;
      if (coalesceKey && previous && previous.key === coalesceKey && now - previous.at < COALESCE_MS && history.canUndo) {
        history.undo();
      }
      history.push(next);
      last.current = coalesceKey ? { key: coalesceKey, at: now } : null;
      refresh();
    },
    [history, refresh],
  );
  const undo = useCallback(() => {
    if (!history.canUndo) return;
    history.undo();
    last.current = null;
    refresh();
  }, [history, refresh]);
  const redo = useCallback(() => {
    if (!history.canRedo) return;
    history.redo();
    last.current = null;
    refresh();
  }, [history, refresh]);
  const reset = useCallback(
    (graph: WorkflowGraph) => {
      history.reset(graph);
      last.current = null;
      refresh();
    },
    [history, refresh],
  );

  const graph = history.current;
  const canUndo = history.canUndo;
  const canRedo = history.canRedo;
  return useMemo(
    () => ({ graph, canUndo, canRedo, get, commit, undo, redo, reset }),
    [graph, canUndo, canRedo, get, commit, undo, redo, reset],
  );
}
