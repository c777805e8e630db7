/** The editable React Flow canvas: drop from the palette, drag, connect, select (only select when read-only). */

import {
  Background,
  BackgroundVariant,
  ConnectionLineType,
  ControlButton,
  Controls,
  MiniMap,
  useStore,
  ReactFlow,
  useReactFlow,
  type Connection,
  type EdgeChange,
  type NodeChange,
} from '@xyflow/react';
import { memo, useCallback, useMemo, useRef, useState, type DragEvent, type SetStateAction } from 'react';
import type { GraphNode, NodeType, WorkflowGraph } from '../graph';
import { compensationEdges, flowEdges, flowNodes, type EdgeCacheEntry, type FlowEdge, type FlowNode, type Size, type XY } from './flow';
import type { Marks } from './issues';
import type { PathHighlight } from './testCases';
import { NODE_SIZE, PALETTE_MIME } from './nodeMeta';
import { PALETTE_ACTION_MIME } from './paletteSearch';
import { useReadableFit } from './useReadableFit';
import { LABELED_EDGE_TYPES } from './LabeledEdge';
import { flowNodeTypes } from './nodes';
import { applyEdgeSelect, applyNodeSelect, type Selection } from './selection';
import { isNodeType } from '../graph';

interface EditorCanvasProps {
  graph: WorkflowGraph;
  selection: Selection;
  marks: Marks;
  coverage: ReadonlyMap<string, number> | null;
  /** The path of the test case shown: nodes that ran and edges taken. */
  path?: PathHighlight | null;
  /** Edges no test case takes, from the last test report. */
  uncovered?: ReadonlySet<string> | null;
  onSelectionChange: (update: SetStateAction<Selection>) => void;
  onMove: (positions: Record<string, XY>) => void;
  onConnect: (source: string, target: string) => void;
  /** Add a dropped node; `fields` preset it (the action of a task dropped from an action). */
  onAddNode: (type: NodeType, position: XY, fields?: Partial<GraphNode>) => void;
  onInit?: () => void;
  /** Nodes can be selected (to read them in the inspector), not moved, connected or dropped. */
  readOnly?: boolean;
}

// Above this many nodes React Flow renders only what is in view.
const VISIBLE_ONLY_THRESHOLD = 150;
const MULTI_SELECT_KEYS = ['Shift', 'Meta', 'Control'];
const PRO_OPTIONS = { hideAttribution: true };
// Small, and folded on a narrow canvas, where it would cover too much of the graph.
const MINIMAP_STYLE = { width: 120, height: 80 };
const MINIMAP_MIN_CANVAS_WIDTH = 720;
// A drop on these lands in the middle of the free canvas instead of under them.
const DROP_REDIRECT_SELECTOR = '.react-flow__minimap, .react-flow__controls, .react-flow__panel, .canvas-map-toggle';

function minimapColor(node: FlowNode): string {
  if (node.data.errors > 0) return '#dc2626';
  if (node.data.warnings > 0) return '#f59e0b';
  if (node.type === 'start') return '#16a34a';
  if (node.type === 'end') return '#475569';
  return '#93c5fd';
}

export const EditorCanvas = memo(function EditorCanvas({
  graph,
  selection,
  marks,
  coverage,
  path = null,
  uncovered = null,
  onSelectionChange,
  onMove,
  onConnect,
  onAddNode,
  onInit,
  readOnly = false,
}: EditorCanvasProps) {
  const { screenToFlowPosition } = useReactFlow();
  const { fit, center } = useReadableFit();
  const canvasWidth = useStore((state) => state.width);
  // null: folded or not by the canvas's width, until the user decides.
  const [mapChoice, setMapChoice] = useState<boolean | null>(null);
  const mapOpen = mapChoice ?? canvasWidth >= MINIMAP_MIN_CANVAS_WIDTH;
  const nodeCache = useRef(new Map<string, FlowNode>());
  const edgeCache = useRef(new Map<string, EdgeCacheEntry>());
  const compensationCache = useRef(new Map<string, FlowEdge>());
  // {node_id: position} while a drag is in progress; committed to the graph on drop.
  const [moving, setMoving] = useState<ReadonlyMap<string, XY>>(new Map());
  const movingRef = useRef(moving);
  movingRef.current = moving;
  const [measured, setMeasured] = useState<ReadonlyMap<string, Size>>(new Map());

  const nodes = useMemo(
    () =>
      flowNodes(
        graph,
        { selected: selection.nodes, marks: marks.nodes, diff: null, moving, measured, testIdPrefix: '', path: path?.nodes ?? null },
        nodeCache.current,
      ),
    [graph, selection.nodes, marks.nodes, moving, measured, path],
  );
  const edges = useMemo(
    () => [
      ...flowEdges(
        graph,
        {
          selected: selection.edges,
          marks: marks.edges,
          diff: null,
          coverage,
          testIdPrefix: '',
          path: path?.edges ?? null,
          uncovered,
        },
        edgeCache.current,
      ),
      ...compensationEdges(graph, '', compensationCache.current),
    ],
    [graph, selection.edges, marks.edges, coverage, path, uncovered],
  );

  const onNodesChange = useCallback(
    (changes: NodeChange<FlowNode>[]) => {
      let dragged: Map<string, XY> | null = null;
      const dropped: Record<string, XY> = {};
      let anyDropped = false;
      let sizes: Map<string, Size> | null = null;
      for (const change of changes) {
        if (change.type === 'position') {
          const position = change.position ?? movingRef.current.get(change.id);
          if (change.dragging) {
            if (change.position) {
              dragged ??= new Map(movingRef.current);
              dragged.set(change.id, change.position);
            }
          } else if (position) {
            dropped[change.id] = position;
            anyDropped = true;
          }
        } else if (change.type === 'dimensions' && change.dimensions) {
          sizes ??= new Map();
          sizes.set(change.id, { width: change.dimensions.width, height: change.dimensions.height });
        }
      }
      if (dragged) setMoving(dragged);
      if (anyDropped) {
        onMove(dropped);
        setMoving((prev) => {
          if (prev.size === 0) return prev;
          const next = new Map(prev);
          for (const id of Object.keys(dropped)) next.delete(id);
          return next;
        });
      }
      if (sizes) {
        const updates = sizes;
        setMeasured((prev) => {
          let next: Map<string, Size> | null = null;
          for (const [id, size] of updates) {
            const old = prev.get(id);
            if (old && old.width === size.width && old.height === size.height) continue;
            next ??= new Map(prev);
            next.set(id, size);
          }
          return next ?? prev;
        });
      }
      onSelectionChange((prev) => applyNodeSelect(prev, changes));
    },
    [onMove, onSelectionChange],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange<FlowEdge>[]) => onSelectionChange((prev) => applyEdgeSelect(prev, changes)),
    [onSelectionChange],
  );

  const handleConnect = useCallback(
    (connection: Connection) => {
      if (connection.source && connection.target) onConnect(connection.source, connection.target);
    },
    [onConnect],
  );

  const isValidConnection = useCallback(
    (connection: Connection | FlowEdge) => connection.source !== connection.target,
    [],
  );

  const onDragOver = useCallback((event: DragEvent) => {
    if (readOnly || !event.dataTransfer.types.includes(PALETTE_MIME)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
  }, [readOnly]);

  const onDrop = useCallback(
    (event: DragEvent) => {
      const type = event.dataTransfer.getData(PALETTE_MIME);
      if (readOnly || !isNodeType(type)) return;
      event.preventDefault();
      // Over the minimap or a control the node would be hidden (or far away): put it
      // in the middle of what the canvas shows.
      const onOverlay = event.target instanceof Element && event.target.closest(DROP_REDIRECT_SELECTOR) !== null;
      const point = onOverlay ? center() : screenToFlowPosition({ x: event.clientX, y: event.clientY });
      const action = event.dataTransfer.getData(PALETTE_ACTION_MIME);
      onAddNode(
        type,
        { x: Math.round(point.x - NODE_SIZE.width / 2), y: Math.round(point.y - NODE_SIZE.height / 2) },
        action ? { action } : undefined,
      );
    },
    [screenToFlowPosition, onAddNode, readOnly, center],
  );

  return (
    <div className={`editor-canvas${readOnly ? ' is-readonly' : ''}`} data-testid="canvas" onDragOver={onDragOver} onDrop={onDrop}>
      <ReactFlow<FlowNode, FlowEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={flowNodeTypes()}
        colorMode="system"
        edgeTypes={LABELED_EDGE_TYPES}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={handleConnect}
        isValidConnection={isValidConnection}
        onInit={onInit}
        minZoom={0.1}
        maxZoom={2}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        elementsSelectable
        deleteKeyCode={null}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={MULTI_SELECT_KEYS}
        connectionLineType={ConnectionLineType.Bezier}
        onlyRenderVisibleElements={graph.nodes.length > VISIBLE_ONLY_THRESHOLD}
        elevateEdgesOnSelect
        proOptions={PRO_OPTIONS}
      >
        <Background variant={BackgroundVariant.Dots} gap={20} size={1.2} color="#cbd5e1" />
        <Controls showInteractive={false} showFitView={false} orientation="horizontal">
          <ControlButton
            onClick={() => fit(200)}
            className="react-flow__controls-fitview"
            title="Fit view (at a readable zoom)"
            aria-label="Fit view"
            data-testid="fit-view"
          >
            ⤢
          </ControlButton>
        </Controls>
        {mapOpen ? (
          <MiniMap<FlowNode> pannable zoomable nodeColor={minimapColor} nodeStrokeWidth={3} style={MINIMAP_STYLE} ariaLabel="Minimap" />
        ) : null}
      </ReactFlow>
      <button
        type="button"
        className={`canvas-map-toggle btn btn-small${mapOpen ? ' is-on' : ''}`}
        onClick={() => setMapChoice(!mapOpen)}
        aria-pressed={mapOpen}
        title={mapOpen ? 'Hide the minimap' : 'Show the minimap'}
        data-testid="minimap-toggle"
      >
        Map
      </button>
    </div>
  );
});
