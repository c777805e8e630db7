/** A routing node's outgoing edges in the inspector: their conditions and the default, in one place. */

import { nodeType, updateEdge, type GraphEdge, type GraphNode, type WorkflowGraph } from '../graph';
import { labelOf } from './nodeMeta';
import { selectionOf, type Selection } from './selection';

type Update = (graph: WorkflowGraph) => WorkflowGraph;

/** The example a `when` input shows for edges out of `source` (its type's, or a choice's). */
export function whenExample(source: GraphNode | undefined): string {
  return nodeType(source?.type)?.edges?.when?.example ?? 'input.amount > 1000';
}

/** Make `edge` the default of its source (and no sibling), or clear its default. */
export function setDefault(graph: WorkflowGraph, edge: GraphEdge, on: boolean): WorkflowGraph {
  let next = updateEdge(graph, edge.id, { default: on ? true : undefined });
  if (on) {
    for (const sibling of graph.edges) {
      if (sibling.source === edge.source && sibling.id !== edge.id && sibling.default) {
        next = updateEdge(next, sibling.id, { default: undefined });
      }
    }
  }
  return next;
}

interface BranchesProps {
  graph: WorkflowGraph;
  node: GraphNode;
  /** Offer a radio per branch to pick the default (a choice needs exactly one). */
  pickDefault: boolean;
  onEdit: (update: Update, key?: string) => void;
  onSelect: (s: Selection) => void;
}

export function Branches({ graph, node, pickDefault, onEdit, onSelect }: BranchesProps) {
  const outgoing = graph.edges.filter((edge) => edge.source === node.id);
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  return (
    <fieldset className="inspector-group" data-testid="branches">
      <legend>Branches</legend>
      {outgoing.length === 0 ? (
        <p className="muted small">No outgoing edges yet: drag from this node's right handle to the next step.</p>
      ) : (
        <ul className="branches">
          {outgoing.map((edge) => (
            <li key={edge.id}>
              <div className="branch-head">
                <button type="button" className="link-button" onClick={() => onSelect(selectionOf([], [edge.id]))} data-testid={`branch-select-${edge.id}`}>
                  → {labelOf(byId.get(edge.target), edge.target)}
                </button>
                {pickDefault ? (
                  <label className="branch-default">
                    <input
                      type="radio"
                      name={`default-${node.id}`}
                      checked={edge.default === true}
                      onChange={() => onEdit((g) => setDefault(g, edge, true))}
                      data-testid={`branch-default-${edge.id}`}
                    />
                    default
                  </label>
                ) : null}
              </div>
              {edge.default ? null : (
                // A textarea: a long condition (or the example) wraps instead of being cut.
                <textarea
                  className="mono branch-when"
                  rows={2}
                  aria-label={`Condition of ${edge.id}`}
                  placeholder={whenExample(node)}
                  value={edge.when ?? ''}
                  spellCheck={false}
                  onChange={(e) => onEdit((g) => updateEdge(g, edge.id, { when: e.target.value || undefined }), `edge:${edge.id}:when`)}
                  data-testid={`branch-when-${edge.id}`}
                />
              )}
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}
