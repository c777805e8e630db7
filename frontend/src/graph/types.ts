/** Types of the workflow graph JSON, format v1 (engine/graph/schema.py, docs/graph-format.md). */

/** A node type's name: one that graph/nodes registers, or whatever an imported graph holds. */
export type NodeType = string;

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
  on?: 'failure' | 'timeout';
  label?: string;
}

export interface Position {
  x: number;
  y: number;
}

export interface WorkflowGraph {
  format: 1;
  defaults?: Record<string, unknown>;
  max_concurrent_runs?: number;
  /** The whole run's deadline in seconds from its start (RunTimeout past it). */
  timeout_s?: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
  layout?: Record<string, Position>; // {node_id: top-left corner of its box}
}

/** One validation error or warning, as the server sends it (engine/graph/issues.py `Issue`). */
export interface Issue {
  code: string;
  message: string;
  node_id?: string;
  edge_id?: string;
}

/** The ids an issue is pinned on. */
export type IssueIds = Pick<Issue, 'node_id' | 'edge_id'>;

export interface ValidationResult {
  errors: Issue[];
  warnings: Issue[];
}

/** One registered action, as GET /api/v1/actions/ serves it in `{results: [...]}`. */
export interface ActionInfo {
  name: string;
  description?: string;
  params_schema: Record<string, unknown>;
  side_effects?: boolean;
}

/** Ids added and removed, and fields changed per id (`_diff_items` in engine/graph/diff.py). */
export interface ItemDiff {
  added: string[];
  removed: string[];
  changed: { id: string; fields: Record<string, { old: unknown; new: unknown }> }[];
}

/** The difference between two graphs, the shape of the server's `diff_graphs`. */
export interface GraphDiff {
  nodes: ItemDiff;
  edges: ItemDiff;
  // {"max_concurrent_runs" | "format" | "defaults.<key>": {old, new}}
  settings: Record<string, { old: unknown; new: unknown }>;
}
