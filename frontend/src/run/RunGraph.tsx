/** The run's version graph, drawn read-only with the editor's nodes, colored by step state. */

import { Background, BackgroundVariant, Controls, ReactFlow, useReactFlow, type NodeMouseHandler } from '@xyflow/react';
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import { compensationEdges, flowEdges, flowNodes, type EdgeCacheEntry, type FlowEdge, type FlowNode } from '../editor/flow';
import { LABELED_EDGE_TYPES } from '../editor/LabeledEdge';
import { flowNodeTypes } from '../editor/nodes';
import { NODE_HEIGHT, NODE_WIDTH, type WorkflowGraph } from '../graph';
import { canvasHeight, graphBounds } from './view';

interface RunGraphProps {
  graph: WorkflowGraph;
  /** {node_id: latest step state}; nodes not in it were not reached. */
  states: Record<string, string>;
  /** {edge_id: times taken by this run}. */
  taken: ReadonlyMap<string, number>;
  selected: string | null;
  onSelect: (nodeId: string | null) => void;
}

const NO_SET: ReadonlySet<string> = new Set();
const NO_MARKS = new Map();
const NO_MOVES = new Map();
const NO_SIZES = new Map();
const FIT_VIEW_OPTIONS = { padding: 0.15, maxZoom: 1.1 };
const PRO_OPTIONS = { hideAttribution: true };
export const UNVISITED = 'unvisited';

export const RunGraph = memo(function RunGraph({ graph, states, taken, selected, onSelect }: RunGraphProps) {
  const nodeCache = useRef(new Map<string, FlowNode>());
  const edgeCache = useRef(new Map<string, EdgeCacheEntry>());
  const compensationCache = useRef(new Map<string, FlowEdge>());
  const { fitView } = useReactFlow();
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);

  useEffect(() => {
    const element = box.current;
    if (element === null) return undefined;
    const observer = new ResizeObserver(([entry]) => {
      if (entry) setWidth(Math.round(entry.contentRect.width));
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const bounds = useMemo(() => graphBounds(graph, NODE_WIDTH, NODE_HEIGHT), [graph]);
  const height = canvasHeight(bounds, width, { padding: FIT_VIEW_OPTIONS.padding, maxZoom: FIT_VIEW_OPTIONS.maxZoom });

  const nodes = useMemo(() => {
    const base = flowNodes(
      graph,
      {
        selected: selected ? new Set([selected]) : NO_SET,
        marks: NO_MARKS,
        diff: null,
        moving: NO_MOVES,
        measured: NO_SIZES,
        testIdPrefix: 'run-card-',
      },
      nodeCache.current,
    );
    // The state lives on React Flow's wrapper: the editor's card stays as it is.
    return base.map((node): FlowNode => {
      const state = states[node.id] ?? UNVISITED;
      return {
        ...node,
        className: `run-node run-node-${state}`,
        draggable: false,
        connectable: false,
        domAttributes: {
          'data-testid': `run-node-${node.id}`,
          'data-state': state,
          title: `${node.id}: ${state.replace(/_/g, ' ')}`,
        } as FlowNode['domAttributes'],
      };
    });
  }, [graph, states, selected]);

  const edges = useMemo(
    () => [
      ...flowEdges(
        graph,
        { selected: NO_SET, marks: NO_MARKS, diff: null, coverage: taken, testIdPrefix: 'run-' },
        edgeCache.current,
      ),
      // Dashed from each task to its compensation, which runs if the run fails later.
      ...compensationEdges(graph, 'run-', compensationCache.current),
    ],
    [graph, taken],
  );

  // A different version (a retry on another one) or a resize: frame the nodes again.
  useEffect(() => {
    const timer = setTimeout(() => void fitView(FIT_VIEW_OPTIONS), 50);
    return () => clearTimeout(timer);
  }, [graph, height, fitView]);

  const onNodeClick: NodeMouseHandler<FlowNode> = (_, node) => onSelect(node.id === selected ? null : node.id);

  return (
    <div className="run-canvas" data-testid="run-graph" ref={box} style={{ height }}>
      <ReactFlow<FlowNode, FlowEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={flowNodeTypes()}
        colorMode="system"
        edgeTypes={LABELED_EDGE_TYPES}
        nodesDraggable={false}
        nodesConnectable={false}
        edgesFocusable={false}
        elementsSelectable={false}
        onNodeClick={onNodeClick}
        onPaneClick={() => onSelect(null)}
        fitView
        fitViewOptions={FIT_VIEW_OPTIONS}
        minZoom={0.1}
        maxZoom={2}
        deleteKeyCode={null}
        zoomOnScroll={false}
        preventScrolling={false}
        proOptions={PRO_OPTIONS}
      >
        <Background variant={BackgroundVariant.Dots} gap={20} size={1.2} color="#cbd5e1" />
        <Controls showInteractive={false} position="bottom-right" orientation="horizontal" />
      </ReactFlow>
    </div>
  );
});
