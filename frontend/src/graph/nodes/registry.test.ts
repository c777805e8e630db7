/** A new node type is its module plus one registry line: shown with a `note` type defined here. */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS, end, graphOf, node, start } from '../fixtures';
import { addNode, emptyGraph, isNodeType } from '../model';
import { q } from '../rules';
import { validateGraph } from '../validate';
import { nodeType, nodeTypes, registerNodeType } from './index';
import type { NodeTypeDef } from './types';

// All of a `note` type, as graph/nodes/note.ts would hold it: it does nothing and passes
// through (one edge in, one out, no fields of its own).
const note: NodeTypeDef = {
  type: 'note',
  palette: { title: 'Note', icon: '✎', hint: 'Does nothing; the run passes through.' },
  defaults: {},
  summary: () => 'passes through',
  schema: {},
  inspector: [],
  check(node, graph) {
    const count = graph.outgoing(node.id).length;
    if (count !== 1) {
      graph.error('note_edges', `note ${q(node.id)} needs exactly one outgoing edge (it has ${count})`, {
        node_id: node.id,
      });
    }
  },
};

const throughNote = () =>
  graphOf(
    [start(), node('memo', 'note'), end()],
    [
      ['e1', 'start', 'memo'],
      ['e2', 'memo', 'done'],
    ],
  );

describe('a node type nobody registered', () => {
  it('is a schema error', () => {
    expect(isNodeType('note')).toBe(false);
    expect(validateGraph(throughNote(), ACTIONS).errors).toContainEqual({
      code: 'schema',
      message: 'nodes[1].type: "note" is not a node type',
      node_id: 'memo',
    });
  });
});

describe('a registered node type', () => {
  // The one registry line (in graph/nodes/index.ts it is an entry of BUILT_IN).
  let unregister: () => void;
  beforeAll(() => {
    unregister = registerNodeType(note);
  });
  afterAll(() => unregister());

  it('passes validation through the graph-wide rules', () => {
    expect(validateGraph(throughNote(), ACTIONS)).toEqual({ errors: [], warnings: [] });
  });

  it('gets its own check run, with its code on the node', () => {
    const graph = throughNote();
    graph.nodes.push(end('other'));
    graph.edges.push({ id: 'e3', source: 'memo', target: 'other' });
    expect(validateGraph(graph, ACTIONS).errors).toEqual([
      { code: 'note_edges', message: "note 'memo' needs exactly one outgoing edge (it has 2)", node_id: 'memo' },
    ]);
  });

  it('gets the default field and edge rules', () => {
    const graph = throughNote();
    graph.nodes[1]!.seconds = 5;
    graph.edges[1]!.when = 'input.go';
    expect(validateGraph(graph, ACTIONS).errors.map((issue) => issue.message)).toEqual([
      "nodes[1]: field 'seconds' is not allowed on a note node",
      "edge 'e2' has a `when` condition, but 'memo' is a note; only edges out of a choice or a handoff take conditions",
    ]);
  });

  it('is offered by the palette, after the built-in types', () => {
    // The editor's palette lists nodeTypes() as they are.
    expect(nodeTypes().map((def) => def.type)).toEqual([
      'start',
      'task',
      'call',
      'map',
      'choice',
      'parallel',
      'join',
      'wait',
      'receive',
      'handoff',
      'end',
      'note',
    ]);
    expect(nodeType('note')?.palette.title).toBe('Note');
  });

  it('can be added to a graph', () => {
    const { graph, id } = addNode(emptyGraph(), 'note', { x: 0, y: 0 });
    expect(id).toBe('note_1');
    expect(graph.nodes.find((n) => n.id === id)).toEqual({ id: 'note_1', type: 'note' });
    expect(isNodeType('note')).toBe(true);
  });

  it('cannot be registered twice', () => {
    expect(() => registerNodeType(note)).toThrow('already registered');
  });
});

describe('unregistering', () => {
  it('takes the type away again', () => {
    const remove = registerNodeType(note);
    remove();
    expect(nodeType('note')).toBeUndefined();
    expect(nodeTypes().map((def) => def.type)).not.toContain('note');
  });
});
