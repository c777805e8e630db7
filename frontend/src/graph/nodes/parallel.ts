/** The parallel node: starts every outgoing branch at once. */

import { q } from '../rules';
import type { NodeTypeDef } from './types';

export const parallel: NodeTypeDef = {
  type: 'parallel',
  palette: { title: 'Parallel', icon: '⇉', hint: 'Starts every outgoing branch at once.' },
  defaults: {},
  summary: () => 'all branches',
  schema: {},
  inspector: [],
  check(node, graph) {
    const count = graph.outgoing(node.id).length;
    if (count < 2) {
      graph.error('parallel_edges', `parallel ${q(node.id)} needs at least two outgoing edges (it has ${count})`, {
        node_id: node.id,
      });
    }
  },
};
