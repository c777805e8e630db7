/** The definition of a node type: its palette entry, inspector fields, shape, edge rules and checks. */

import type { FieldRule, Json } from '../rules';
import type { ActionInfo, GraphEdge, GraphNode, IssueIds, WorkflowGraph } from '../types';

/** How the palette (and the inspector's and the canvas's headers) show the type. */
export interface PaletteEntry {
  title: string;
  /** A glyph; the colour comes from the type's CSS classes (`wf-node-<type>`, `wf-icon-<type>`). */
  icon: string;
  /** One line: what a node of this type does. */
  hint: string;
}

/** What an inspector field is drawn from: the node, its graph and the action a task names. */
export interface FieldContext {
  graph: WorkflowGraph;
  node: GraphNode;
  /** The registered action the node's `action` names, if any. */
  action: ActionInfo | null;
}

interface FieldBase {
  /** The node field it edits; its test id is `inspector-<key>`. */
  key: string;
  label: string;
  hint?: string;
  /** Show the field only when this holds (always when absent). */
  visible?: (context: FieldContext) => boolean;
}

export interface TextFieldSpec extends FieldBase {
  kind: 'text';
  placeholder?: string | ((context: FieldContext) => string);
  multiline?: boolean;
  rows?: number;
  maxLength?: number;
  /** Monospaced, no spell check (names, queues). */
  mono?: boolean;
}

export interface NumberFieldSpec extends FieldBase {
  kind: 'number';
  min?: number;
  max?: number;
  integer?: boolean;
  placeholder?: string | ((context: FieldContext) => string);
}

export interface SelectFieldSpec extends FieldBase {
  kind: 'select';
  options: readonly (readonly [value: string | number, label: string])[];
  /** The option shown when the field is unset or holds no option's value. */
  fallback: string | number;
  /** The option that stands for "not set": picking it removes the field. */
  unset?: string | number;
}

/** A comma-separated list of names. */
export interface ListFieldSpec extends FieldBase {
  kind: 'list';
  placeholder?: string;
}

/** Another node of `nodeType`, picked by id (a compensation task). */
export interface NodeRefFieldSpec extends FieldBase {
  kind: 'node';
  nodeType: string;
  /** The label of the empty choice, which removes the field. */
  none: string;
}

/**
 * An editor the inspector draws itself: `action` (the action, its side effects and a
 * params form from its schema), `retry` (a policy over the workflow's defaults),
 * `assignee` (group or user and a name).
 */
export interface CustomFieldSpec {
  kind: 'action' | 'retry' | 'assignee';
  key: string;
}

/**
 * An object of params edited as JSON, values starting with `=` being expressions: the
 * input a `call` gives its child run, or a `map` gives each child run.
 */
export interface ParamsFieldSpec extends FieldBase {
  kind: 'params';
}

/** The node's outgoing edges with their `when` conditions, and a radio for the default. */
export interface BranchesSpec {
  kind: 'branches';
  pickDefault: boolean;
}

/** Fields under a legend. */
export interface GroupSpec {
  kind: 'group';
  legend: string;
  fields: readonly InspectorField[];
}

/** Fields side by side. */
export interface RowSpec {
  kind: 'row';
  fields: readonly InspectorField[];
}

export type InspectorField =
  | TextFieldSpec
  | NumberFieldSpec
  | SelectFieldSpec
  | ListFieldSpec
  | NodeRefFieldSpec
  | CustomFieldSpec
  | ParamsFieldSpec
  | BranchesSpec
  | GroupSpec
  | RowSpec;

/** Which edges a node of the type may have; absent means the default. */
export interface EdgeRules {
  /** Edges may enter it (default true; the start has none). */
  incoming?: boolean;
  /** Edges may leave it (default true; an end has none). */
  outgoing?: boolean;
  /** Its outgoing edges may carry a `when` condition; `example` is the inspector's placeholder. */
  when?: { example: string };
  /** It can fail, so an outgoing edge may be `on: failure`. */
  onFailure?: boolean;
  /** It can time out, so an outgoing edge may be `on: timeout`. */
  onTimeout?: boolean;
}

/** What a node type's checks see of the graph being validated, and where they report. */
export interface CheckContext {
  /** The first node with this id (later duplicates are reported and ignored). */
  node(id: string): GraphNode | undefined;
  /** Edges leaving or entering a node whose both ends exist, in document order. */
  outgoing(id: string): readonly GraphEdge[];
  incoming(id: string): readonly GraphEdge[];
  /** Whether a task runs only as another's compensation, so routing rules spare it. */
  isCompensationOnly(id: string): boolean;
  /** Whether a task with `compensate_with` comes before the node: the run failing there undoes it (a saga). */
  afterCompensation(id: string): boolean;
  /** Ids of the nodes that some node of `type` leads to through one edge or more. */
  downstreamOf(type: string): ReadonlySet<string>;
  /** The registered actions, or null while they are not loaded (then actions are not checked). */
  readonly actions: Record<string, ActionInfo> | null;
  error(code: string, message: string, ids?: IssueIds): void;
  warn(code: string, message: string, nodeId: string): void;
}

/** One node type, in plain data and functions: everything about it on the client. */
export interface NodeTypeDef {
  /** The `type` of its nodes in the graph JSON. */
  type: string;
  palette: PaletteEntry;
  /** Fields a new node starts with, so that it is valid once wired (copied for each node). */
  defaults: Json;
  /** The one line under the node's label on the canvas. */
  summary(node: GraphNode): string;
  /** A variant of the canvas card (class `wf-node-<type>-<variant>`), if the node has one. */
  canvasVariant?(node: GraphNode): string | undefined;
  /**
   * Its own fields besides the common ones (id, type, label, description, owner,
   * max_visits), each with the rule for its shape; as on the server, a field's rule
   * applies wherever the field appears.
   */
  schema: Record<string, FieldRule>;
  /** Fields its nodes must have. */
  required?: readonly string[];
  /** What the inspector shows between the common fields (label, owner) and "More". */
  inspector: readonly InspectorField[];
  edges?: EdgeRules;
  /** A loop through it waits for time or a person between rounds, so it may loop. */
  breaksLoops?: boolean;
  /** Rules on one node and its edges, run once ids and edges are known. */
  check?(node: GraphNode, graph: CheckContext): void;
  /** Rules on where the node sits, run after reachability and loops (as on the server). */
  checkPlacement?(node: GraphNode, graph: CheckContext): void;
}
