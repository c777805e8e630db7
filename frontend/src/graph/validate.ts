/**
 * Check a graph in the browser with the server's rules and error codes.
 *
 * Mirrors `validate_graph` in engine/graph/validate.py so that the editor can pin issues on
 * nodes and edges while the user draws; the server stays the authority on save. This
 * module holds the graph-wide rules (ids, edges, start and end, reachability, loops);
 * the shape check is schema.ts and each node type's own checks are in
 * graph/nodes/<type>.ts, run through the registry. Two differences from the server,
 * both because the browser has less to go on:
 * - CEL cannot be compiled here, so a `when` or an "=" param is only checked to be
 *   non-empty (`bad_expression`); the server reports real syntax errors.
 * - The shape check (`schema`) covers the fields the editor can get wrong, not all of
 *   JSON Schema, and does not stop the semantic rules as it does on the server, so the
 *   user sees every problem at once. Params are checked against an action's schema
 *   only for required keys, top-level types and enums (`bad_params`).
 */

import { nodeType, nodeTypes, type CheckContext } from './nodes';
import { a, either, isObject, issue, q } from './rules';
import { schemaIssues } from './schema';
import type { ActionInfo, GraphEdge, GraphNode, Issue, IssueIds, ValidationResult } from './types';

export { MAX_BACKOFF, MAX_DURATION_S } from './rules';
export { MAX_CONCURRENT_RUNS, MAX_EDGES, MAX_LAYOUT_COORDINATE, MAX_NODES } from './schema';
export { isExpression, paramExpressions, paramsProblems } from './params';

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
  const checker = new Checker(graph.nodes, graph.edges, actions);
  checker.check();
  return { errors: [...schemaIssues(graph, graph.nodes, graph.edges), ...checker.errors], warnings: checker.warnings };
}

/** Run the graph-wide rules, and each node type's checks through the registry (graph/nodes). */
class Checker implements CheckContext {
  readonly errors: Issue[] = [];
  readonly warnings: Issue[] = [];
  // First node with each id; later duplicates are reported and ignored.
  private readonly nodes = new Map<string, GraphNode>();
  // Edges whose both ends exist, in document order.
  private readonly edges: GraphEdge[] = [];
  // {node_id: [edge, ...]}
  private readonly outgoingEdges = new Map<string, GraphEdge[]>();
  private readonly incomingEdges = new Map<string, GraphEdge[]>();
  private readonly compensationOnly = new Set<string>();
  // {node type: ids downstream of its nodes}, computed when a check first asks.
  private readonly downstream = new Map<string, Set<string>>();
  // Nodes after some task with compensate_with, computed when a check first asks.
  private afterCompensated: Set<string> | null = null;

  constructor(
    private readonly rawNodes: unknown[],
    private readonly rawEdges: unknown[],
    readonly actions: Record<string, ActionInfo> | null,
  ) {}

  error(code: string, message: string, ids: IssueIds = {}): void {
    this.errors.push(issue(code, message, ids));
  }

  warn(code: string, message: string, nodeId: string): void {
    this.warnings.push(issue(code, message, { node_id: nodeId }));
  }

  node(id: string): GraphNode | undefined {
    return this.nodes.get(id);
  }

  outgoing(id: string): GraphEdge[] {
    return this.outgoingEdges.get(id) ?? [];
  }

  incoming(id: string): GraphEdge[] {
    return this.incomingEdges.get(id) ?? [];
  }

  isCompensationOnly(id: string): boolean {
    return this.compensationOnly.has(id);
  }

  afterCompensation(id: string): boolean {
    if (this.afterCompensated === null) {
      const compensating = [...this.nodes.values()]
        .filter((node) => node.type === 'task' && node.compensate_with !== undefined)
        .map((node) => node.id);
      this.afterCompensated = closure(compensating.flatMap(this.successors), this.successors);
    }
    return this.afterCompensated.has(id);
  }

  downstreamOf(type: string): ReadonlySet<string> {
    let ids = this.downstream.get(type);
    if (ids === undefined) {
      const sources = [...this.nodes.values()].filter((node) => node.type === type).map((node) => node.id);
      ids = closure(sources.flatMap(this.successors), this.successors);
      this.downstream.set(type, ids);
    }
    return ids;
  }

  check(): void {
    this.checkIds();
    this.checkEdgeEnds();
    this.findCompensationOnly();
    const all = [...this.nodes.values()];
    const starts = all.filter((node) => node.type === 'start');
    const ends = all.filter((node) => node.type === 'end');
    this.checkStartAndEnd(starts, ends);
    this.checkEdges();
    for (const node of all) nodeType(node.type)?.check?.(node, this);
    if (starts.length > 0) {
      const reachable = this.checkReachability(starts.map((node) => node.id));
      if (ends.length > 0) this.checkDeadEnds(reachable, ends);
    }
    this.checkCycles();
    for (const node of all) nodeType(node.type)?.checkPlacement?.(node, this);
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
      if (!this.outgoingEdges.has(edge.source)) this.outgoingEdges.set(edge.source, []);
      this.outgoingEdges.get(edge.source)!.push(edge);
      if (!this.incomingEdges.has(edge.target)) this.incomingEdges.set(edge.target, []);
      this.incomingEdges.get(edge.target)!.push(edge);
    }
  }

  /** Note tasks that run only as a compensation, so routing rules spare them. */
  private findCompensationOnly(): void {
    for (const node of this.nodes.values()) {
      const name = node.compensate_with;
      const target = typeof name === 'string' ? this.nodes.get(name) : undefined;
      if (target && target.type === 'task' && this.outgoing(target.id).length === 0 && this.incoming(target.id).length === 0) {
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
    // The types' edge rules: no edge into a start (start_incoming) or out of an end
    // (end_outgoing); `when` only out of routing types; `on: failure` only out of tasks.
    const conditional = nodeTypes().filter((def) => def.edges?.when).map((def) => a(def.type));
    const failing = nodeTypes().filter((def) => def.edges?.onFailure).map((def) => `${def.type}s`);
    for (const edge of this.edges) {
      const source = this.nodes.get(edge.source)!;
      const target = this.nodes.get(edge.target)!;
      const from = nodeType(source.type)?.edges ?? {};
      if (nodeType(target.type)?.edges?.incoming === false) {
        this.error(`${target.type}_incoming`, `edge ${q(edge.id)} leads into the ${target.type} node ${q(target.id)}`, {
          node_id: target.id,
          edge_id: edge.id,
        });
      }
      if (from.outgoing === false) {
        this.error(`${source.type}_outgoing`, `edge ${q(edge.id)} leaves the ${source.type} node ${q(source.id)}`, {
          node_id: source.id,
          edge_id: edge.id,
        });
      }
      if (edge.when !== undefined && !from.when) {
        this.error(
          'when_not_allowed',
          `edge ${q(edge.id)} has a \`when\` condition, but ${q(source.id)} is ${a(source.type)}; ` +
            `only edges out of ${either(conditional)} take conditions`,
          { edge_id: edge.id },
        );
      }
      if (edge.default === true && !from.when) {
        this.error(
          'default_not_allowed',
          `edge ${q(edge.id)} is marked default, but ${q(source.id)} is ${a(source.type)}; ` +
            `only edges out of ${either(conditional)} can be the default branch`,
          { edge_id: edge.id },
        );
      }
      if (edge.on === 'timeout' && !from.onTimeout) {
        this.error(
          'timeout_edge_source',
          `edge ${q(edge.id)} is an on: timeout edge, but ${q(source.id)} is ${a(source.type)}; only a receive times out`,
          { edge_id: edge.id },
        );
      }
      if (edge.on === 'failure' && !from.onFailure) {
        this.error(
          'failure_edge_source',
          `edge ${q(edge.id)} is an on: failure edge, but ${q(source.id)} is ${a(source.type)}; only ${either(failing)} fail`,
          { edge_id: edge.id },
        );
      }
    }
  }

  // -- graph-wide -------------------------------------------------------------------

  private successors = (id: string): string[] => this.outgoing(id).map((edge) => edge.target);

  private predecessors = (id: string): string[] => this.incoming(id).map((edge) => edge.source);

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

  /**
   * Allow a loop only through a wait or handoff, with an exit and a bound.
   *
   * Every cycle must have all three, so each is checked on its own: a cycle that
   * survives removing every wait/handoff node lacks the first, and so on.
   */
  private checkCycles(): void {
    const breaking = nodeTypes().filter((def) => def.breaksLoops).map((def) => def.type);
    const requirements: [string, (id: string) => boolean, (edge: GraphEdge) => boolean][] = [
      [`${a(either(breaking))} node`, (id) => nodeType(this.nodes.get(id)!.type)?.breaksLoops === true, () => false],
      ['an edge with a `when` condition to leave it', () => false, (edge) => edge.when !== undefined],
      ['a node with max_visits to bound it', (id) => this.nodes.get(id)!.max_visits !== undefined, () => false],
    ];
    // {back edge id: [edge, cycle path, [missing requirement, ...]]}
    const found = new Map<string, [GraphEdge, string[], string[]]>();
    for (const [requirement, dropNode, dropEdge] of requirements) {
      for (const [edge, path] of backEdges([...this.nodes.keys()], this.outgoingEdges, dropNode, dropEdge)) {
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
