/** The choice node: routes on the first true `when` condition, or its default edge. */

import { q } from '../rules';
import { checkConditions } from './branches';
import type { NodeTypeDef } from './types';

export const choice: NodeTypeDef = {
  type: 'choice',
  palette: { title: 'Choice', icon: '◆', hint: 'The first true condition wins; needs a default.' },
  defaults: {},
  summary: () => 'first true condition',
  schema: {},
  inspector: [{ kind: 'branches', pickDefault: true }],
  edges: { when: { example: 'input.amount > 1000' } },
  check(node, graph) {
    const outgoing = graph.outgoing(node.id);
    const defaults = outgoing.filter((edge) => edge.default === true);
    if (defaults.length !== 1) {
      graph.error(
        'choice_default',
        `choice ${q(node.id)} needs exactly one edge with default: true (it has ${defaults.length})`,
        { node_id: node.id },
      );
    }
    checkConditions(node, outgoing, graph);
  },
};
