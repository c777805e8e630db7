/**
 * Check a graph in the browser with the server's rules and error codes.
 *
 * Mirrors `validate_graph` in engine/graph/validate.py so that the editor can pin issues on
 * nodes and edges while the user draws; the server stays the authority on save. Two
 * differences, both because the browser has less to go on:
 * - CEL cannot be compiled here, so a `when` or an "=" param is only checked to be
 *   non-empty (`bad_expression`); the server reports real syntax errors.
 * - The shape check (`schema`) covers the fields the editor can get wrong, not all of
 *   JSON Schema, and does not stop the semantic rules as it does on the server, so the
 *   user sees every problem at once. Params are checked against an action's schema
 *   only for required keys, top-level types and enums (`bad_params`).
 */

import type { ActionInfo, GraphEdge, GraphNode, Issue, ValidationResult } from './types';
import { EDGE_ID_PATTERN, NODE_ID_PATTERN } from './model';

export const MAX_NODES = 2000;
export const MAX_EDGES = 5000;
const QUEUE_PATTERN = /^[a-z0-9_.-]{1,64}$/;
// Bounds shared with engine/graph/schema.py: no timer, SLA or retry waits longer than this.
export const MAX_DURATION_S = 366 * 86400;
export const MAX_BACKOFF = 100;
export const MAX_CONCURRENT_RUNS = 100_000;
export const MAX_LAYOUT_COORDINATE = 10_000_000;
const NODE_TYPE_NAMES = ['start', 'end', 'task', 'choice', 'parallel', 'join', 'handoff', 'wait'];
// Node types whose outgoing edges may carry a `when` condition.
const ROUTING_TYPES = new Set(['choice', 'handoff']);
// A loop must pass one of these, so it waits for time or a person between rounds.
const LOOP_BREAKING_TYPES = new Set(['wait', 'handoff']);

const COMMON_FIELDS = ['id', 'type', 'label', 'description', 'owner', 'max_visits'];
const TYPE_FIELDS: Record<string, string[]> = {
  start: [],
  end: ['status'],
  task: ['action', 'params', 'retry', 'queue', 'priority', 'timeout_s', 'compensate_with', 'side_effects_reason'],
  choice: [],
  parallel: [],
  join: ['mode'],
  handoff: ['to', 'outcomes', 'sla_s', 'context', 'instructions', 'escalate_to'],
  wait: ['seconds'],
};
const TYPE_REQUIRED: Record<string, string[]> = {
  task: ['action'],
  handoff: ['to', 'outcomes'],
  wait: ['seconds'],
};
const EDGE_FIELDS = new Set(['id', 'source', 'target', 'when', 'default', 'on', 'label']);
const RETRY_FIELDS = new Set([
  'max_attempts',
  'initial_interval_s',
  'backoff',
  'max_interval_s',
  'jitter',
  'non_retryable',
]);
const DEFAULTS_FIELDS = new Set(['queue', 'retry', 'timeout_s']);
const GRAPH_FIELDS = new Set(['format', 'defaults', 'max_concurrent_runs', 'nodes', 'edges', 'layout']);

type Json = Record<string, unknown>;

/** `{"group"|"user"|"agent": name}`: who a handoff goes to (users by username, never id). */
function isAssignee(value: unknown): boolean {
  if (!isObject(value) || Object.keys(value).length !== 1) return false;
  const [kind, name] = Object.entries(value)[0] ?? ['', undefined];
  return (
    ['group', 'user', 'agent'].includes(kind) && typeof name === 'string' && name.length >= 1 && name.length <= 150
  );
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

function has(object: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}

/** Quote a name the way the server's messages do (Python's repr of a string). */
function q(value: unknown): string {
  return `'${String(value)}'`;
}

/** Return the node type with its article: "a task", "an end". */
function a(kind: string): string {
  return /^[aeiou]/.test(kind) ? `an ${kind}` : `a ${kind}`;
}

/** Return whether a param value is an expression ("=..." but not "==..."). */
export function isExpression(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('=') && !value.startsWith('==');
}

/** Return [path, source] for every "=" expression in params, in document order. */
export function paramExpressions(params: unknown, path = ''): [string, string][] {
  if (Array.isArray(params)) {
    return params.flatMap((item, index) => paramExpressions(item, `${path}[${index}]`));
  }
  if (isObject(params)) {
    return Object.entries(params).flatMap(([key, item]) => paramExpressions(item, path ? `${path}.${key}` : key));
  }
  return isExpression(params) ? [[path, params.slice(1)]] : [];
}

// Find string literals compared with the handoff outcome: outcome == 'approve',
// 'approve' != outcome, outcome in ['a', 'b']. Best effort, as on the server.
const OUTCOME_NAME = String.raw`(?<![\w.])outcome(?!\w)`;
const STRING_LITERAL = String.raw`(?:'([^'\\\n]*)'|"([^"\\\n]*)")`;
const OUTCOME_COMPARISONS = [
  new RegExp(OUTCOME_NAME + String.raw`\s*[!=]=\s*` + STRING_LITERAL, 'g'),
  new RegExp(STRING_LITERAL + String.raw`\s*[!=]=\s*` + OUTCOME_NAME, 'g'),
];
const OUTCOME_IN = new RegExp(OUTCOME_NAME + String.raw`\s+in\s+\[([^\]]*)\]`, 'g');
const STRING_LITERALS = new RegExp(STRING_LITERAL, 'g');

/** Return the string literals an expression compares `outcome` with. */
export function outcomeLiterals(source: string): string[] {
  const literals: string[] = [];
  for (const pattern of OUTCOME_COMPARISONS) {
    for (const match of source.matchAll(pattern)) {
      literals.push(match[1] ?? match[2] ?? '');
    }
  }
  for (const match of source.matchAll(OUTCOME_IN)) {
    for (const literal of (match[1] ?? '').matchAll(STRING_LITERALS)) {
      literals.push(literal[1] ?? literal[2] ?? '');
    }
  }
  return literals;
}

/** Check a graph's shape and every semantic rule the browser can; collect all issues. */
export function validateGraph(graph: unknown, actions: Record<string, ActionInfo> | null): ValidationResult {
  if (!isObject(graph)) {
    return { errors: [issue('schema', 'graph: must be a JSON object')], warnings: [] };
  }
  if (!Array.isArray(graph.nodes) || !Array.isArray(graph.edges)) {
    const missing = ['nodes', 'edges'].filter((key) => !Array.isArray(graph[key]));
    return {
      errors: missing.map((key) => issue('schema', `${key}: must be an array`)),
      warnings: [],
    };
  }
  const checker = new Checker(graph, graph.nodes, graph.edges, actions);
  checker.check();
  return { errors: checker.errors, warnings: checker.warnings };
}

function issue(code: string, message: string, ids: { node_id?: string; edge_id?: string } = {}): Issue {
  const result: Issue = { code, message };
  if (ids.node_id !== undefined) result.node_id = ids.node_id;
  if (ids.edge_id !== undefined) result.edge_id = ids.edge_id;
  return result;
}

/** Return the given ids the item has: `node_id` for a node, `edge_id` for an edge. */
function idOf(item: unknown, key: 'node_id' | 'edge_id'): { node_id?: string; edge_id?: string } {
  return isObject(item) && typeof item.id === 'string' ? { [key]: item.id } : {};
}

class Checker {
  readonly errors: Issue[] = [];
  readonly warnings: Issue[] = [];
  // First node with each id; later duplicates are reported and ignored.
  private readonly nodes = new Map<string, GraphNode>();
  // Edges whose both ends exist, in document order.
  private readonly edges: GraphEdge[] = [];
  // {node_id: [edge, ...]}
  private readonly outgoing = new Map<string, GraphEdge[]>();
  private readonly incoming = new Map<string, GraphEdge[]>();
  private readonly compensationOnly = new Set<string>();

  constructor(
    private readonly graph: Json,
    private readonly rawNodes: unknown[],
    private readonly rawEdges: unknown[],
    private readonly actions: Record<string, ActionInfo> | null,
  ) {}

  private error(code: string, message: string, ids: { node_id?: string; edge_id?: string } = {}): void {
    this.errors.push(issue(code, message, ids));
  }

  private warn(code: string, message: string, nodeId: string): void {
    this.warnings.push(issue(code, message, { node_id: nodeId }));
  }

  private out(id: string): GraphEdge[] {
    return this.outgoing.get(id) ?? [];
  }

  private in(id: string): GraphEdge[] {
    return this.incoming.get(id) ?? [];
  }

  check(): void {
    this.checkShape();
    this.checkIds();
    this.checkEdgeEnds();
    this.findCompensationOnly();
    const all = [...this.nodes.values()];
    const starts = all.filter((node) => node.type === 'start');
    const ends = all.filter((node) => node.type === 'end');
    this.checkStartAndEnd(starts, ends);
    this.checkEdges();
    for (const node of all) this.checkNode(node);
    if (starts.length > 0) {
      const reachable = this.checkReachability(starts.map((node) => node.id));
      if (ends.length > 0) this.checkDeadEnds(reachable, ends);
    }
    this.checkCycles();
    this.checkJoins();
  }

  // -- shape ------------------------------------------------------------------------

  private checkShape(): void {
    const graph = this.graph;
    for (const key of Object.keys(graph)) {
      if (!GRAPH_FIELDS.has(key)) this.error('schema', `graph: field ${q(key)} is not allowed`);
    }
    if (graph.format !== 1) this.error('schema', 'format: must be 1');
    if (
      graph.max_concurrent_runs !== undefined &&
      !(isInteger(graph.max_concurrent_runs) && graph.max_concurrent_runs >= 1 && graph.max_concurrent_runs <= MAX_CONCURRENT_RUNS)
    ) {
      this.error('schema', `max_concurrent_runs: must be an integer from 1 to ${MAX_CONCURRENT_RUNS}`);
    }
    if (graph.defaults !== undefined) {
      if (!isObject(graph.defaults)) {
        this.error('schema', 'defaults: must be an object');
      } else {
        const defaults = graph.defaults;
        for (const key of Object.keys(defaults)) {
          if (!DEFAULTS_FIELDS.has(key)) this.error('schema', `defaults: field ${q(key)} is not allowed`);
        }
        if (defaults.queue !== undefined && !(typeof defaults.queue === 'string' && QUEUE_PATTERN.test(defaults.queue))) {
          this.error('schema', 'defaults.queue: must be 1-64 lowercase letters, digits, "_", "." or "-"');
        }
        if (defaults.timeout_s !== undefined) this.checkTimeout(defaults.timeout_s, 'defaults.timeout_s', {});
        if (defaults.retry !== undefined) this.checkRetry(defaults.retry, 'defaults.retry', {});
      }
    }
    if (this.rawNodes.length > MAX_NODES) this.error('schema', `nodes: a graph may have at most ${MAX_NODES} nodes`);
    if (this.rawEdges.length > MAX_EDGES) this.error('schema', `edges: a graph may have at most ${MAX_EDGES} edges`);
    this.rawNodes.forEach((node, index) => this.checkNodeShape(node, index));
    this.rawEdges.forEach((edge, index) => this.checkEdgeShape(edge, index));
    if (graph.layout !== undefined) this.checkLayout(graph.layout);
  }

  /** `{node_id: {x, y}}`: positions only, but finite and bounded like every number. */
  private checkLayout(layout: unknown): void {
    if (!isObject(layout)) {
      this.error('schema', 'layout: must be an object');
      return;
    }
    const inBounds = (value: unknown) =>
      isNumber(value) && value >= -MAX_LAYOUT_COORDINATE && value <= MAX_LAYOUT_COORDINATE;
    for (const [id, position] of Object.entries(layout)) {
      if (!isObject(position) || !inBounds(position.x) || !inBounds(position.y)) {
        this.error(
          'schema',
          `layout.${id}: must be {x, y}, each a number from -${MAX_LAYOUT_COORDINATE} to ${MAX_LAYOUT_COORDINATE}`,
          { node_id: id },
        );
      }
    }
  }

  private checkNodeShape(node: unknown, index: number): void {
    const at = `nodes[${index}]`;
    const ids = idOf(node, 'node_id');
    const bad = (field: string, message: string) => this.error('schema', `${at}.${field}: ${message}`, ids);
    if (!isObject(node)) {
      this.error('schema', `${at}: must be an object`);
      return;
    }
    if (typeof node.id !== 'string' || !NODE_ID_PATTERN.test(node.id)) {
      bad('id', 'must start with a letter and hold up to 64 letters, digits, "_" or "-"');
    }
    const kind = node.type;
    if (typeof kind !== 'string' || !NODE_TYPE_NAMES.includes(kind)) {
      bad('type', `${JSON.stringify(kind)} is not a node type`);
      return;
    }
    const allowed = new Set([...COMMON_FIELDS, ...(TYPE_FIELDS[kind] ?? [])]);
    for (const key of Object.keys(node)) {
      if (!allowed.has(key)) this.error('schema', `${at}: field ${q(key)} is not allowed on ${a(kind)} node`, ids);
    }
    for (const key of TYPE_REQUIRED[kind] ?? []) {
      if (node[key] === undefined) this.error('schema', `${at}: ${q(key)} is a required property`, ids);
    }
    const text = (field: string, max: number) => {
      const value = node[field];
      if (value !== undefined && !(typeof value === 'string' && value.length <= max)) {
        bad(field, `must be a string of at most ${max} characters`);
      }
    };
    text('label', 200);
    text('description', 5000);
    text('owner', 200);
    text('instructions', 10000);
    if (node.max_visits !== undefined && !(isInteger(node.max_visits) && node.max_visits >= 1 && node.max_visits <= 1000)) {
      bad('max_visits', 'must be an integer from 1 to 1000');
    }
    if (node.status !== undefined && node.status !== 'succeeded' && node.status !== 'failed') {
      bad('status', 'must be "succeeded" or "failed"');
    }
    if (node.action !== undefined && !(typeof node.action === 'string' && node.action.length >= 1)) {
      bad('action', 'must name an action');
    }
    if (node.params !== undefined && !isObject(node.params)) bad('params', 'must be an object');
    if (node.retry !== undefined) this.checkRetry(node.retry, `${at}.retry`, ids);
    if (node.queue !== undefined && !(typeof node.queue === 'string' && QUEUE_PATTERN.test(node.queue))) {
      bad('queue', 'must be 1-64 lowercase letters, digits, "_", "." or "-"');
    }
    if (node.priority !== undefined && !(isInteger(node.priority) && node.priority >= 0 && node.priority <= 9)) {
      bad('priority', 'must be an integer from 0 to 9');
    }
    if (node.timeout_s !== undefined) this.checkTimeout(node.timeout_s, `${at}.timeout_s`, ids);
    if (
      node.compensate_with !== undefined &&
      !(typeof node.compensate_with === 'string' && NODE_ID_PATTERN.test(node.compensate_with))
    ) {
      bad('compensate_with', 'must be a node id');
    }
    if (node.mode !== undefined && node.mode !== 'all' && node.mode !== 'any') bad('mode', 'must be "all" or "any"');
    for (const field of ['to', 'escalate_to'] as const) {
      const to = node[field];
      if (to === undefined) continue;
      if (!isAssignee(to)) bad(field, 'must be {"group": name}, {"user": name} or {"agent": name}');
    }
    if (node.outcomes !== undefined) {
      const outcomes = node.outcomes;
      if (
        !Array.isArray(outcomes) ||
        outcomes.length < 1 ||
        outcomes.length > 50 ||
        !outcomes.every((o) => typeof o === 'string' && o.length >= 1 && o.length <= 100) ||
        new Set(outcomes).size !== outcomes.length
      ) {
        bad('outcomes', 'must be a list of 1 to 50 different, non-empty names');
      }
    }
    if (node.sla_s !== undefined && !(isNumber(node.sla_s) && node.sla_s > 0 && node.sla_s <= MAX_DURATION_S)) {
      bad('sla_s', `must be a number of seconds above 0, at most ${MAX_DURATION_S} (a year)`);
    }
    if (node.context !== undefined) {
      const context = node.context;
      if (!Array.isArray(context) || context.length > 50 || !context.every((c) => typeof c === 'string' && c.length >= 1)) {
        bad('context', 'must be a list of at most 50 non-empty paths');
      }
    }
    if (node.seconds !== undefined && !(isNumber(node.seconds) && node.seconds >= 0 && node.seconds <= MAX_DURATION_S)) {
      bad('seconds', `must be a number of seconds from 0 to ${MAX_DURATION_S} (a year)`);
    }
  }

  private checkEdgeShape(edge: unknown, index: number): void {
    const at = `edges[${index}]`;
    const ids = idOf(edge, 'edge_id');
    const bad = (field: string, message: string) => this.error('schema', `${at}.${field}: ${message}`, ids);
    if (!isObject(edge)) {
      this.error('schema', `${at}: must be an object`);
      return;
    }
    for (const key of Object.keys(edge)) {
      if (!EDGE_FIELDS.has(key)) this.error('schema', `${at}: field ${q(key)} is not allowed on an edge`, ids);
    }
    if (typeof edge.id !== 'string' || !EDGE_ID_PATTERN.test(edge.id)) {
      bad('id', 'must hold up to 128 letters, digits, "_", ".", ":" or "-"');
    }
    for (const end of ['source', 'target']) {
      const value = edge[end];
      if (!(typeof value === 'string' && value.length >= 1 && value.length <= 200)) bad(end, 'must be a node id');
    }
    if (edge.when !== undefined && typeof edge.when !== 'string') bad('when', 'must be a string');
    if (edge.default !== undefined && typeof edge.default !== 'boolean') bad('default', 'must be true or false');
    if (edge.on !== undefined && edge.on !== 'failure') bad('on', 'must be "failure"');
    if (edge.label !== undefined && !(typeof edge.label === 'string' && edge.label.length <= 200)) {
      bad('label', 'must be a string of at most 200 characters');
    }
  }

  private checkTimeout(value: unknown, at: string, ids: { node_id?: string }): void {
    if (!(isNumber(value) && value > 0 && value <= 86400)) {
      this.error('schema', `${at}: must be a number of seconds above 0, at most 86400`, ids);
    }
  }

  private checkRetry(retry: unknown, at: string, ids: { node_id?: string }): void {
    const bad = (message: string) => this.error('schema', `${at}${message}`, ids);
    if (!isObject(retry)) {
      bad(': must be an object');
      return;
    }
    for (const key of Object.keys(retry)) {
      if (!RETRY_FIELDS.has(key)) bad(`: field ${q(key)} is not allowed`);
    }
    const { max_attempts, initial_interval_s, backoff, max_interval_s, jitter, non_retryable } = retry;
    if (max_attempts !== undefined && !(isInteger(max_attempts) && max_attempts >= 1 && max_attempts <= 100)) {
      bad('.max_attempts: must be an integer from 1 to 100');
    }
    if (initial_interval_s !== undefined && !(isNumber(initial_interval_s) && initial_interval_s >= 0 && initial_interval_s <= MAX_DURATION_S)) {
      bad(`.initial_interval_s: must be a number of seconds from 0 to ${MAX_DURATION_S}`);
    }
    if (backoff !== undefined && !(isNumber(backoff) && backoff >= 1 && backoff <= MAX_BACKOFF)) {
      bad(`.backoff: must be a number from 1 to ${MAX_BACKOFF}`);
    }
    if (max_interval_s !== undefined && !(isNumber(max_interval_s) && max_interval_s >= 0 && max_interval_s <= MAX_DURATION_S)) {
      bad(`.max_interval_s: must be a number of seconds from 0 to ${MAX_DURATION_S}`);
    }
    if (jitter !== undefined && jitter !== 'full' && jitter !== 'equal' && jitter !== 'none') {
      bad('.jitter: must be "full", "equal" or "none"');
    }
    if (
      non_retryable !== undefined &&
      !(
        Array.isArray(non_retryable) &&
        non_retryable.length <= 100 &&
        non_retryable.every((name) => typeof name === 'string' && name.length >= 1 && name.length <= 200)
      )
    ) {
      bad('.non_retryable: must be a list of error names');
    }
  }

  // -- ids and ends -----------------------------------------------------------------

  private checkIds(): void {
    for (const raw of this.rawNodes) {
      if (!isObject(raw) || typeof raw.id !== 'string') continue;
      const node = raw as GraphNode;
      if (this.nodes.has(node.id)) {
        this.error('duplicate_id', `node id ${q(node.id)} is used by more than one node`, { node_id: node.id });
      } else {
        this.nodes.set(node.id, node);
      }
    }
    const seen = new Set<string>();
    for (const raw of this.rawEdges) {
      if (!isObject(raw) || typeof raw.id !== 'string') continue;
      if (seen.has(raw.id)) {
        this.error('duplicate_id', `edge id ${q(raw.id)} is used by more than one edge`, { edge_id: raw.id });
      }
      seen.add(raw.id);
    }
  }

  private checkEdgeEnds(): void {
    for (const raw of this.rawEdges) {
      if (!isObject(raw) || typeof raw.id !== 'string') continue;
      const edge = raw as unknown as GraphEdge;
      const missing = [...new Set([edge.source, edge.target])].filter(
        (end) => typeof end !== 'string' || !this.nodes.has(end),
      );
      if (missing.length > 0) {
        const names = missing.map(q).join(' and ');
        this.error('dangling_edge', `edge ${q(edge.id)} connects to ${names}, which is not a node`, {
          edge_id: edge.id,
        });
        continue;
      }
      this.edges.push(edge);
      if (!this.outgoing.has(edge.source)) this.outgoing.set(edge.source, []);
      this.outgoing.get(edge.source)!.push(edge);
      if (!this.incoming.has(edge.target)) this.incoming.set(edge.target, []);
      this.incoming.get(edge.target)!.push(edge);
    }
  }

  /** Note tasks that run only as a compensation, so routing rules spare them. */
  private findCompensationOnly(): void {
    for (const node of this.nodes.values()) {
      const name = node.compensate_with;
      const target = typeof name === 'string' ? this.nodes.get(name) : undefined;
      if (target && target.type === 'task' && this.out(target.id).length === 0 && this.in(target.id).length === 0) {
        this.compensationOnly.add(target.id);
      }
    }
  }

  private checkStartAndEnd(starts: GraphNode[], ends: GraphNode[]): void {
    if (starts.length === 0) this.error('no_start', 'the graph has no start node');
    for (const extra of starts.slice(1)) {
      this.error(
        'multiple_starts',
        `node ${q(extra.id)} is a second start node; a graph has exactly one (the first is ${q(starts[0]!.id)})`,
        { node_id: extra.id },
      );
    }
    if (ends.length === 0) this.error('no_end', 'the graph has no end node');
  }

  // -- edges ------------------------------------------------------------------------

  private checkEdges(): void {
    for (const raw of this.rawEdges) {
      if (!isObject(raw) || typeof raw.id !== 'string') continue;
      if (typeof raw.when === 'string' && raw.when.trim() === '') {
        this.error('bad_expression', `edge ${q(raw.id)}: \`when\` is not a valid expression: expression is empty`, {
          edge_id: raw.id,
        });
      }
    }
    for (const edge of this.edges) {
      const source = this.nodes.get(edge.source)!;
      const target = this.nodes.get(edge.target)!;
      if (target.type === 'start') {
        this.error('start_incoming', `edge ${q(edge.id)} leads into the start node ${q(target.id)}`, {
          node_id: target.id,
          edge_id: edge.id,
        });
      }
      if (source.type === 'end') {
        this.error('end_outgoing', `edge ${q(edge.id)} leaves the end node ${q(source.id)}`, {
          node_id: source.id,
          edge_id: edge.id,
        });
      }
      if (edge.when !== undefined && !ROUTING_TYPES.has(source.type)) {
        this.error(
          'when_not_allowed',
          `edge ${q(edge.id)} has a \`when\` condition, but ${q(source.id)} is ${a(source.type)}; ` +
            'only edges out of a choice or a handoff take conditions',
          { edge_id: edge.id },
        );
      }
      if (edge.on === 'failure' && source.type !== 'task') {
        this.error(
          'failure_edge_source',
          `edge ${q(edge.id)} is an on: failure edge, but ${q(source.id)} is ${a(source.type)}; only tasks fail`,
          { edge_id: edge.id },
        );
      }
    }
  }

  // -- nodes ------------------------------------------------------------------------

  private checkNode(node: GraphNode): void {
    if (node.type === 'task') this.checkTask(node);
    else if (node.type === 'choice') this.checkChoice(node);
    else if (node.type === 'handoff') this.checkHandoff(node);
    else if (node.type === 'parallel') {
      const count = this.out(node.id).length;
      if (count < 2) {
        this.error('parallel_edges', `parallel ${q(node.id)} needs at least two outgoing edges (it has ${count})`, {
          node_id: node.id,
        });
      }
    }
  }

  private checkTask(node: GraphNode): void {
    const id = node.id;
    const outgoing = this.out(id);
    const normal = outgoing.filter((edge) => edge.on !== 'failure');
    const failure = outgoing.filter((edge) => edge.on === 'failure');
    if (!this.compensationOnly.has(id)) {
      if (normal.length !== 1) {
        this.error(
          'task_edges',
          `task ${q(id)} needs exactly one outgoing edge for success (it has ${normal.length})`,
          { node_id: id },
        );
      }
      if (failure.length > 1) {
        this.error('task_edges', `task ${q(id)} may have at most one on: failure edge (it has ${failure.length})`, {
          node_id: id,
        });
      }
      if (failure.length === 0 && node.compensate_with === undefined) {
        this.warn(
          'no_failure_handling',
          `task ${q(id)} has no on: failure edge and no compensate_with; if it fails, the run fails`,
          id,
        );
      }
    }
    this.checkAction(node);
    const compensation = node.compensate_with;
    if (compensation !== undefined) {
      const target = typeof compensation === 'string' ? this.nodes.get(compensation) : undefined;
      let problem = '';
      if (compensation === id) problem = 'names the task itself';
      else if (target === undefined) problem = 'names no node';
      else if (target.type !== 'task') problem = `names ${a(target.type)} node, not a task`;
      if (problem) {
        this.error('bad_compensation', `task ${q(id)}: compensate_with ${q(compensation)} ${problem}`, {
          node_id: id,
        });
      }
    }
  }

  private checkAction(node: GraphNode): void {
    const id = node.id;
    const params = node.params === undefined ? {} : node.params;
    for (const [path, source] of paramExpressions(params)) {
      if (source.trim() === '') {
        this.error(
          'bad_expression',
          `task ${q(id)}: param ${path || '(params)'} is not a valid expression: expression is empty`,
          { node_id: id },
        );
      }
    }
    const action = node.action;
    if (this.actions === null || typeof action !== 'string' || action === '') return;
    const info = has(this.actions, action) ? this.actions[action] : undefined;
    if (info === undefined) {
      this.error('unknown_action', `task ${q(id)} uses action ${q(action)}, which is not registered`, {
        node_id: id,
      });
      return;
    }
    if (!isObject(params)) return; // reported as a schema error
    for (const message of paramsProblems(info.params_schema, params)) {
      this.error('bad_params', `task ${q(id)}: ${message}`, { node_id: id });
    }
  }

  private checkChoice(node: GraphNode): void {
    const outgoing = this.out(node.id);
    const defaults = outgoing.filter((edge) => edge.default === true);
    if (defaults.length !== 1) {
      this.error(
        'choice_default',
        `choice ${q(node.id)} needs exactly one edge with default: true (it has ${defaults.length})`,
        { node_id: node.id },
      );
    }
    this.checkConditions(node, outgoing);
  }

  private checkHandoff(node: GraphNode): void {
    const id = node.id;
    const outgoing = this.out(id);
    const defaults = outgoing.filter((edge) => edge.default === true);
    const conditional = outgoing.filter((edge) => edge.when !== undefined && edge.default !== true);
    if (defaults.length > 1) {
      this.error('handoff_default', `handoff ${q(id)} may have at most one default edge (it has ${defaults.length})`, {
        node_id: id,
      });
    } else if (defaults.length === 0 && conditional.length === 0) {
      this.error(
        'handoff_default',
        `handoff ${q(id)} needs a default edge or edges with \`when\` conditions on the outcome`,
        { node_id: id },
      );
    }
    this.checkConditions(node, outgoing);
    const outcomes = node.outcomes;
    if (Array.isArray(outcomes)) {
      for (const edge of conditional) {
        if (typeof edge.when !== 'string') continue;
        for (const literal of outcomeLiterals(edge.when)) {
          if (!outcomes.includes(literal)) {
            this.error(
              'outcome_unknown',
              `edge ${q(edge.id)} tests outcome ${q(literal)}, which is not an outcome of handoff ${q(id)} ` +
                `(${outcomes.join(', ')})`,
              { edge_id: edge.id },
            );
          }
        }
      }
    }
    if (node.sla_s === undefined) {
      this.warn('handoff_no_sla', `handoff ${q(id)} has no sla_s; it may wait forever unnoticed`, id);
    }
  }

  /** Require `when` on every non-default edge, and none on the default. */
  private checkConditions(node: GraphNode, outgoing: GraphEdge[]): void {
    for (const edge of outgoing) {
      if (edge.on === 'failure') continue; // reported as failure_edge_source
      if (edge.default === true && edge.when !== undefined) {
        this.error(
          'choice_condition',
          `edge ${q(edge.id)} is the default out of ${node.type} ${q(node.id)}, so it must not have a \`when\` condition`,
          { edge_id: edge.id },
        );
      } else if (edge.default !== true && edge.when === undefined) {
        this.error(
          'choice_condition',
          `edge ${q(edge.id)} leaves ${node.type} ${q(node.id)} without a \`when\` condition and is not the default edge`,
          { edge_id: edge.id },
        );
      }
    }
  }

  // -- graph-wide -------------------------------------------------------------------

  private successors = (id: string): string[] => this.out(id).map((edge) => edge.target);

  private predecessors = (id: string): string[] => this.in(id).map((edge) => edge.source);

  private checkReachability(startIds: string[]): Set<string> {
    const reachable = closure(startIds, this.successors);
    for (const id of this.nodes.keys()) {
      if (!reachable.has(id) && !this.compensationOnly.has(id)) {
        this.error('unreachable', `node ${q(id)} cannot be reached from the start node`, { node_id: id });
      }
    }
    return reachable;
  }

  private checkDeadEnds(reachable: Set<string>, ends: GraphNode[]): void {
    const finishing = closure(
      ends.map((end) => end.id),
      this.predecessors,
    );
    for (const id of this.nodes.keys()) {
      if (reachable.has(id) && !finishing.has(id)) {
        this.error('dead_end', `no end node can be reached from node ${q(id)}`, { node_id: id });
      }
    }
  }

  private checkJoins(): void {
    const parallels = [...this.nodes.values()].filter((node) => node.type === 'parallel').map((node) => node.id);
    const downstream = closure(parallels.flatMap(this.successors), this.successors);
    for (const node of this.nodes.values()) {
      if (node.type === 'join' && !downstream.has(node.id)) {
        this.error(
          'join_without_parallel',
          `join ${q(node.id)} is not downstream of any parallel node, so it has nothing to join`,
          { node_id: node.id },
        );
      }
    }
  }

  /**
   * Allow a loop only through a wait or handoff, with an exit and a bound.
   *
   * Every cycle must have all three, so each is checked on its own: a cycle that
   * survives removing every wait/handoff node lacks the first, and so on.
   */
  private checkCycles(): void {
    const requirements: [string, (id: string) => boolean, (edge: GraphEdge) => boolean][] = [
      ['a wait or handoff node', (id) => LOOP_BREAKING_TYPES.has(this.nodes.get(id)!.type), () => false],
      ['an edge with a `when` condition to leave it', () => false, (edge) => edge.when !== undefined],
      ['a node with max_visits to bound it', (id) => this.nodes.get(id)!.max_visits !== undefined, () => false],
    ];
    // {back edge id: [edge, cycle path, [missing requirement, ...]]}
    const found = new Map<string, [GraphEdge, string[], string[]]>();
    for (const [requirement, dropNode, dropEdge] of requirements) {
      for (const [edge, path] of backEdges([...this.nodes.keys()], this.outgoing, dropNode, dropEdge)) {
        let entry = found.get(edge.id);
        if (entry === undefined) {
          entry = [edge, path, []];
          found.set(edge.id, entry);
        }
        entry[2].push(requirement);
      }
    }
    for (const [edge, path, missing] of found.values()) {
      const shown = path.length <= 8 ? path : [...path.slice(0, 7), '…'];
      const loop = [...shown, path[0]].join(' → ');
      this.error('cycle', `loop ${loop} is not allowed: a loop needs ${missing.join('; ')}`, {
        node_id: edge.target,
        edge_id: edge.id,
      });
    }
  }
}

/** Return the seeds and every node reachable from them through `neighbours`. */
function closure(seeds: Iterable<string>, neighbours: (id: string) => string[]): Set<string> {
  const seen = new Set(seeds);
  const queue = [...seen];
  for (let head = 0; head < queue.length; head += 1) {
    for (const other of neighbours(queue[head]!)) {
      if (!seen.has(other)) {
        seen.add(other);
        queue.push(other);
      }
    }
  }
  return seen;
}

/**
 * Return [edge, cycle path] for each back edge of a depth-first search.
 *
 * Nodes and edges for which `dropNode`/`dropEdge` return true are left out; the graph
 * without them is acyclic exactly when this returns nothing. Same order as the server.
 */
function backEdges(
  nodeIds: string[],
  outgoing: Map<string, GraphEdge[]>,
  dropNode: (id: string) => boolean,
  dropEdge: (edge: GraphEdge) => boolean,
): [GraphEdge, string[]][] {
  const found: [GraphEdge, string[]][] = [];
  const done = new Set<string>();
  for (const root of nodeIds) {
    if (done.has(root) || dropNode(root)) continue;
    // Iterative DFS: [node, its outgoing edges, next edge index]; `onStack` holds each
    // node's index in `path`, so a back edge can name the cycle it closes.
    const stack: [string, GraphEdge[], number][] = [[root, outgoing.get(root) ?? [], 0]];
    const onStack = new Map<string, number>([[root, 0]]);
    const path = [root];
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const [id, edges, index] = frame;
      if (index >= edges.length) {
        stack.pop();
        path.pop();
        onStack.delete(id);
        done.add(id);
        continue;
      }
      frame[2] = index + 1;
      const edge = edges[index]!;
      const target = edge.target;
      if (dropEdge(edge) || done.has(target) || dropNode(target)) continue;
      const position = onStack.get(target);
      if (position !== undefined) {
        found.push([edge, path.slice(position)]);
        continue;
      }
      onStack.set(target, path.length);
      path.push(target);
      stack.push([target, outgoing.get(target) ?? [], 0]);
    }
  }
  return found;
}

// -- params ----------------------------------------------------------------------------

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  const actual = jsonType(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

/**
 * Return messages for params that certainly fail the action's schema.
 *
 * Checks only what needs no JSON Schema engine: required keys, `additionalProperties:
 * false`, and each top-level property's `type` and `enum`. An "=" expression passes
 * any check (it is evaluated at run time); "==x" is checked as the literal "=x".
 */
export function paramsProblems(schema: unknown, params: Record<string, unknown>): string[] {
  if (!isObject(schema)) return [];
  const problems: string[] = [];
  const properties = isObject(schema.properties) ? schema.properties : {};
  if (Array.isArray(schema.required)) {
    for (const key of schema.required) {
      if (typeof key === 'string' && !has(params, key)) problems.push(`params: ${q(key)} is a required property`);
    }
  }
  if (schema.additionalProperties === false) {
    for (const key of Object.keys(params)) {
      if (!has(properties, key)) problems.push(`params: additional property ${q(key)} is not allowed`);
    }
  }
  for (const [key, raw] of Object.entries(params)) {
    const property = has(properties, key) ? properties[key] : undefined;
    if (!isObject(property) || isExpression(raw)) continue;
    const value = typeof raw === 'string' && raw.startsWith('==') ? raw.slice(1) : raw;
    const types = typeof property.type === 'string' ? [property.type] : Array.isArray(property.type) ? property.type : null;
    if (types && !types.some((type) => typeof type === 'string' && matchesType(value, type))) {
      problems.push(`params.${key}: ${JSON.stringify(value)} is not of type ${types.map(q).join(', ')}`);
      continue;
    }
    if (Array.isArray(property.enum) && !property.enum.some((option) => JSON.stringify(option) === JSON.stringify(value))) {
      problems.push(`params.${key}: ${JSON.stringify(value)} is not one of ${JSON.stringify(property.enum)}`);
    }
  }
  return problems;
}
