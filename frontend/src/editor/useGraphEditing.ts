/** Edit the graph from the canvas, the palette, the shortcuts and files: add, connect, copy, paste, lay out. */

import { useReactFlow } from '@xyflow/react';
import { useCallback, useRef, type ChangeEvent, type RefObject, type SetStateAction } from 'react';
import {
  addNode,
  autoLayout,
  connect,
  copyFragment,
  moveNodes,
  normalizeGraph,
  pasteFragment,
  positionOf,
  removeElements,
  type GraphNode,
  type NodeType,
  type WorkflowGraph,
} from '../graph';
import type { XY } from './flow';
import type { PinnedIssue } from './issues';
import { NODE_SIZE } from './nodeMeta';
import { EMPTY_SELECTION, selectionOf, type Selection } from './selection';
import type { EditorGraph } from './useEditorGraph';
import type { Notify } from './useNotice';

export interface GraphEditing {
  /** The canvas's box: new nodes from the palette land in the middle of the view. */
  canvasRef: RefObject<HTMLDivElement | null>;
  edit: (update: (graph: WorkflowGraph) => WorkflowGraph, coalesceKey?: string) => void;
  onMove: (positions: Record<string, XY>) => void;
  onConnect: (source: string, target: string) => void;
  /** Add a node; `fields` preset it (a task's action, from the palette's search). */
  onAddNode: (type: NodeType, position: XY, fields?: Partial<GraphNode>) => void;
  addInView: (type: NodeType, fields?: Partial<GraphNode>) => void;
  deleteSelection: () => void;
  copySelection: () => void;
  paste: () => void;
  selectAll: () => void;
  layout: () => void;
  /** Select the element an issue is about and move the view to it. */
  centerOn: (issue: PinnedIssue) => void;
  onSelectionChange: (update: SetStateAction<Selection>) => void;
  onImportFile: (event: ChangeEvent<HTMLInputElement>) => Promise<void>;
  exportJson: () => void;
}

export function useGraphEditing(slug: string, doc: EditorGraph, readOnly: boolean, notify: Notify): GraphEditing {
  const rf = useReactFlow();
  const { getGraph, commit, selection, setSelection, requestFit, current, dirty } = doc;
  const canvasRef = useRef<HTMLDivElement>(null);
  const clipboard = useRef<{ fragment: WorkflowGraph; pastes: number } | null>(null);

  const edit = useCallback(
    (update: (graph: WorkflowGraph) => WorkflowGraph, coalesceKey?: string) => {
      commit(update(getGraph()), coalesceKey);
    },
    [commit, getGraph],
  );

  const onMove = useCallback((positions: Record<string, XY>) => edit((g) => moveNodes(g, positions)), [edit]);

  const onConnect = useCallback(
    (source: string, target: string) => {
      const result = connect(getGraph(), source, target);
      if (result === null) {
        notify('error', `${source} is already connected to ${target}.`);
        return;
      }
      commit(result.graph);
    },
    [commit, getGraph, notify],
  );

  const onAddNode = useCallback(
    (type: NodeType, position: XY, fields?: Partial<GraphNode>) => {
      const result = addNode(getGraph(), type, position, fields);
      commit(result.graph);
      setSelection(selectionOf([result.id]));
    },
    [commit, getGraph, setSelection],
  );

  const addInView = useCallback(
    (type: NodeType, fields?: Partial<GraphNode>) => {
      const rect = canvasRef.current?.getBoundingClientRect();
      const center = rect
        ? rf.screenToFlowPosition({ x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 })
        : { x: 0, y: 0 };
      const g = getGraph();
      const boxes = g.nodes.map((n) => positionOf(g, n.id));
      const overlaps = (p: XY) =>
        boxes.some((b) => Math.abs(b.x - p.x) < NODE_SIZE.width + 20 && Math.abs(b.y - p.y) < NODE_SIZE.height + 20);
      // Start at the middle of the view and step down until the box is free.
      let position = { x: Math.round(center.x - NODE_SIZE.width / 2), y: Math.round(center.y - NODE_SIZE.height / 2) };
      for (let i = 0; i < 12 && overlaps(position); i += 1) {
        position = { x: position.x, y: position.y + NODE_SIZE.height + 30 };
      }
      onAddNode(type, position, fields);
    },
    [rf, getGraph, onAddNode],
  );

  const deleteSelection = useCallback(() => {
    if (readOnly || selection.nodes.size + selection.edges.size === 0) return;
    edit((g) => removeElements(g, [...selection.nodes], [...selection.edges]));
    setSelection(EMPTY_SELECTION);
  }, [edit, selection, readOnly, setSelection]);

  const copySelection = useCallback(() => {
    if (selection.nodes.size === 0) return;
    clipboard.current = { fragment: copyFragment(getGraph(), [...selection.nodes]), pastes: 0 };
    notify('info', `Copied ${selection.nodes.size} ${selection.nodes.size === 1 ? 'node' : 'nodes'}.`);
  }, [getGraph, selection, notify]);

  const paste = useCallback(() => {
    const held = clipboard.current;
    if (held === null || readOnly) return;
    held.pastes += 1;
    const offset = { x: 40 * held.pastes, y: 40 * held.pastes };
    const result = pasteFragment(getGraph(), held.fragment, offset);
    commit(result.graph);
    setSelection(selectionOf(result.nodeIds, result.edgeIds));
  }, [commit, getGraph, readOnly, setSelection]);

  const selectAll = useCallback(() => {
    const g = getGraph();
    setSelection(selectionOf(g.nodes.map((n) => n.id), g.edges.map((e) => e.id)));
  }, [getGraph, setSelection]);

  const layout = useCallback(() => {
    edit((g) => autoLayout(g, 'LR'));
    requestFit();
  }, [edit, requestFit]);

  const centerOn = useCallback(
    (issue: PinnedIssue) => {
      const nodeCenter = (id: string): XY | null => {
        const node = rf.getInternalNode(id);
        if (!node) return null;
        const { x, y } = node.internals.positionAbsolute;
        return { x: x + (node.measured.width ?? NODE_SIZE.width) / 2, y: y + (node.measured.height ?? NODE_SIZE.height) / 2 };
      };
      let point: XY | null = null;
      if (issue.node_id) {
        setSelection(selectionOf([issue.node_id]));
        point = nodeCenter(issue.node_id);
      } else if (issue.edge_id) {
        setSelection(selectionOf([], [issue.edge_id]));
        const edge = getGraph().edges.find((e) => e.id === issue.edge_id);
        const a = edge ? nodeCenter(edge.source) : null;
        const b = edge ? nodeCenter(edge.target) : null;
        point = a && b ? { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 } : (a ?? b);
      }
      if (point) void rf.setCenter(point.x, point.y, { zoom: Math.max(rf.getZoom(), 0.9), duration: 300 });
    },
    [rf, getGraph, setSelection],
  );

  const onSelectionChange = useCallback((update: SetStateAction<Selection>) => setSelection(update), [setSelection]);

  const onImportFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (!file || readOnly) return;
    try {
      const imported = normalizeGraph(await file.text());
      commit(imported);
      setSelection(EMPTY_SELECTION);
      requestFit();
      notify('info', `Imported ${imported.nodes.length} nodes and ${imported.edges.length} edges from ${file.name}. Save to keep them.`);
    } catch (error) {
      notify('error', `Cannot import ${file.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  const exportJson = () => {
    const blob = new Blob([`${JSON.stringify(getGraph(), null, 2)}\n`], { type: 'application/json' });
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = `${slug}-${current ? `v${current.number}` : 'new'}${dirty ? '-edited' : ''}.json`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  return {
    canvasRef,
    edit,
    onMove,
    onConnect,
    onAddNode,
    addInView,
    deleteSelection,
    copySelection,
    paste,
    selectAll,
    layout,
    centerOn,
    onSelectionChange,
    onImportFile,
    exportJson,
  };
}
