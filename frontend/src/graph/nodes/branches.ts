/** The rule on conditions shared by the routing nodes (choice, handoff). */

import { q } from '../rules';
import type { GraphEdge, GraphNode } from '../types';
import type { CheckContext } from './types';

/** Require `when` on every non-default edge, and none on the default. */
export function checkConditions(node: GraphNode, outgoing: readonly GraphEdge[], graph: CheckContext): void {
  for (const edge of outgoing) {
    if (edge.on === 'failure') continue; // reported as failure_edge_source
    if (edge.default === true && edge.when !== undefined) {
      graph.error(
        'choice_condition',
        `edge ${q(edge.id)} is the default out of ${node.type} ${q(node.id)}, so it must not have a \`when\` condition`,
        { edge_id: edge.id },
      );
    } else if (edge.default !== true && edge.when === undefined) {
      graph.error(
        'choice_condition',
        `edge ${q(edge.id)} leaves ${node.type} ${q(node.id)} without a \`when\` condition and is not the default edge`,
        { edge_id: edge.id },
      );
    }
  }
}
