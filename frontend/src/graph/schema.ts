/**
 * Check a graph's shape: the fields, types and bounds of GRAPH_SCHEMA in engine/graph/schema.py.
 *
 * Covers the fields the editor can get wrong, not all of JSON Schema. Each node type
 * brings its own fields and their rules (`schema` in graph/nodes/<type>.ts).
 */

import { nodeType, nodeTypes } from './nodes';
import {
  a,
  EDGE_ID_PATTERN,
  isInteger,
  isNumber,
  isObject,
  issue,
  MAX_DURATION_S,
  NODE_ID_PATTERN,
  q,
  queueRule,
  retryRule,
  rule,
  text,
  timeoutRule,
  type FieldRule,
  type Json,
} from './rules';
import type { Issue, IssueIds } from './types';

export const MAX_NODES = 2000;
export const MAX_EDGES = 5000;
export const MAX_CONCURRENT_RUNS = 100_000;
export const MAX_LAYOUT_COORDINATE = 10_000_000;

// Every node may have these; each type adds its own.
const COMMON_FIELDS = ['id', 'type', 'label', 'description', 'owner', 'max_visits'];
const COMMON_RULES: [string, FieldRule][] = [
  ['label', text(200)],
  ['description', text(5000)],
  ['owner', text(200)],
  ['max_visits', rule((value) => isInteger(value) && value >= 1 && value <= 1000, 'must be an integer from 1 to 1000')],
];
const EDGE_FIELDS = new Set(['id', 'source', 'target', 'when', 'default', 'on', 'label']);
const DEFAULTS_RULES: [string, FieldRule][] = [
  ['queue', queueRule],
  ['timeout_s', timeoutRule],
  ['retry', retryRule],
];
const GRAPH_FIELDS = new Set(['format', 'defaults', 'max_concurrent_runs', 'timeout_s', 'nodes', 'edges', 'layout']);

type Report = (message: string, ids?: IssueIds) => void;

/** Return a `schema` issue for every shape problem of the graph, its nodes, edges and layout. */
export function schemaIssues(graph: Json, rawNodes: unknown[], rawEdges: unknown[]): Issue[] {
  const errors: Issue[] = [];
  const error: Report = (message, ids = {}) => errors.push(issue('schema', message, ids));
  for (const key of Object.keys(graph)) {
    if (!GRAPH_FIELDS.has(key)) error(`graph: field ${q(key)} is not allowed`);
  }
  if (graph.format !== 1) error('format: must be 1');
  if (
    graph.max_concurrent_runs !== undefined &&
    !(isInteger(graph.max_concurrent_runs) && graph.max_concurrent_runs >= 1 && graph.max_concurrent_runs <= MAX_CONCURRENT_RUNS)
  ) {
    error(`max_concurrent_runs: must be an integer from 1 to ${MAX_CONCURRENT_RUNS}`);
  }
  if (
    graph.timeout_s !== undefined &&
    !(isNumber(graph.timeout_s) && graph.timeout_s > 0 && graph.timeout_s <= MAX_DURATION_S)
  ) {
    error(`timeout_s: must be a number of seconds above 0, at most ${MAX_DURATION_S} (a year)`);
  }
  if (graph.defaults !== undefined) {
    if (!isObject(graph.defaults)) {
      error('defaults: must be an object');
    } else {
      const defaults = graph.defaults;
      for (const key of Object.keys(defaults)) {
        if (!DEFAULTS_RULES.some(([field]) => field === key)) error(`defaults: field ${q(key)} is not allowed`);
      }
      for (const [field, check] of DEFAULTS_RULES) {
        if (defaults[field] !== undefined) checkField(error, check, defaults[field], `defaults.${field}`, {});
      }
    }
  }
  if (rawNodes.length > MAX_NODES) error(`nodes: a graph may have at most ${MAX_NODES} nodes`);
  if (rawEdges.length > MAX_EDGES) error(`edges: a graph may have at most ${MAX_EDGES} edges`);
  // {field: rule}: a field's rule applies wherever it appears, as in the server's schema.
  const rules = new Map<string, FieldRule>(COMMON_RULES);
  for (const def of nodeTypes()) {
    for (const [field, check] of Object.entries(def.schema)) if (!rules.has(field)) rules.set(field, check);
  }
  rawNodes.forEach((node, index) => checkNode(error, node, index, rules));
  rawEdges.forEach((edge, index) => checkEdge(error, edge, index));
  if (graph.layout !== undefined) checkLayout(error, graph.layout);
  return errors;
}

/** Return the given ids the item has: `node_id` for a node, `edge_id` for an edge. */
function idOf(item: unknown, key: 'node_id' | 'edge_id'): IssueIds {
  return isObject(item) && typeof item.id === 'string' ? { [key]: item.id } : {};
}

/** Report what `check` finds wrong with the value at `at` (`nodes[2].retry`, `defaults.retry`). */
function checkField(error: Report, check: FieldRule, value: unknown, at: string, ids: IssueIds): void {
  for (const [subpath, message] of check(value)) error(`${at}${subpath}: ${message}`, ids);
}

/** `{node_id: {x, y}}`: positions only, but finite and bounded like every number. */
function checkLayout(error: Report, layout: unknown): void {
  if (!isObject(layout)) {
    error('layout: must be an object');
    return;
  }
  const inBounds = (value: unknown) => isNumber(value) && value >= -MAX_LAYOUT_COORDINATE && value <= MAX_LAYOUT_COORDINATE;
  for (const [id, position] of Object.entries(layout)) {
    if (!isObject(position) || !inBounds(position.x) || !inBounds(position.y)) {
      error(`layout.${id}: must be {x, y}, each a number from -${MAX_LAYOUT_COORDINATE} to ${MAX_LAYOUT_COORDINATE}`, {
        node_id: id,
      });
    }
  }
}

function checkNode(error: Report, node: unknown, index: number, rules: Map<string, FieldRule>): void {
  const at = `nodes[${index}]`;
  const ids = idOf(node, 'node_id');
  if (!isObject(node)) {
    error(`${at}: must be an object`);
    return;
  }
  if (typeof node.id !== 'string' || !NODE_ID_PATTERN.test(node.id)) {
    error(`${at}.id: must start with a letter and hold up to 64 letters, digits, "_" or "-"`, ids);
  }
  const def = nodeType(node.type);
  if (def === undefined) {
    error(`${at}.type: ${JSON.stringify(node.type)} is not a node type`, ids);
    return;
  }
  const allowed = new Set([...COMMON_FIELDS, ...Object.keys(def.schema)]);
  for (const key of Object.keys(node)) {
    if (!allowed.has(key)) error(`${at}: field ${q(key)} is not allowed on ${a(def.type)} node`, ids);
  }
  for (const key of def.required ?? []) {
    if (node[key] === undefined) error(`${at}: ${q(key)} is a required property`, ids);
  }
  for (const [field, check] of rules) {
    if (node[field] !== undefined) checkField(error, check, node[field], `${at}.${field}`, ids);
  }
}

function checkEdge(error: Report, edge: unknown, index: number): void {
  const at = `edges[${index}]`;
  const ids = idOf(edge, 'edge_id');
  const bad = (field: string, message: string) => error(`${at}.${field}: ${message}`, ids);
  if (!isObject(edge)) {
    error(`${at}: must be an object`);
    return;
  }
  for (const key of Object.keys(edge)) {
    if (!EDGE_FIELDS.has(key)) error(`${at}: field ${q(key)} is not allowed on an edge`, ids);
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
  if (edge.on !== undefined && edge.on !== 'failure' && edge.on !== 'timeout') bad('on', 'must be "failure" or "timeout"');
  if (edge.label !== undefined && !(typeof edge.label === 'string' && edge.label.length <= 200)) {
    bad('label', 'must be a string of at most 200 characters');
  }
}
