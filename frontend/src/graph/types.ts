/** Types of the workflow graph JSON, format v1 (placeholder until the editor lands). */

export type NodeType = 'start' | 'end' | 'task' | 'choice' | 'parallel' | 'join' | 'handoff' | 'wait';

export interface GraphNode {
  id: string;
  type: NodeType;
  label?: string;
  [field: string]: unknown;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  when?: string;
  default?: boolean;
  on?: 'failure';
}

export interface WorkflowGraph {
  format: 1;
  defaults?: Record<string, unknown>;
  max_concurrent_runs?: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
  layout?: Record<string, { x: number; y: number }>; // {node_id: position}
}
