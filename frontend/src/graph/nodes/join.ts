/** The join node: waits for all (or any) of the branches a parallel started. */

import { q, rule } from '../rules';
import type { NodeTypeDef } from './types';

export const join: NodeTypeDef = {
  type: 'join',
  palette: { title: 'Join', icon: '⋈', hint: 'Waits for all (or any) parallel branches.' },
  defaults: { mode: 'all' },
  summary: (node) => (node.mode === 'any' ? 'waits for any' : 'waits for all'),
  schema: {
    mode: rule((value) => value === 'all' || value === 'any', 'must be "all" or "any"'),
  },
  inspector: [
    {
      kind: 'select',
      key: 'mode',
      label: 'Join mode',
      options: [
        ['all', 'all — wait for every branch'],
        ['any', 'any — continue after the first branch'],
      ],
      fallback: 'all',
    },
  ],
  checkPlacement(node, graph) {
    if (!graph.downstreamOf('parallel').has(node.id)) {
      graph.error('join_without_parallel', `join ${q(node.id)} is not downstream of any parallel node, so it has nothing to join`, {
        node_id: node.id,
      });
    }
  },
};
