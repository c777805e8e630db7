/** The end node: finishes the run, succeeded or failed. */

import { rule } from '../rules';
import type { NodeTypeDef } from './types';

export const end: NodeTypeDef = {
  type: 'end',
  palette: { title: 'End', icon: '■', hint: 'Finishes the run, succeeded or failed.' },
  defaults: {},
  summary: (node) => (node.status === 'failed' ? 'ends failed' : 'ends succeeded'),
  canvasVariant: (node) => (node.status === 'failed' ? 'failed' : undefined),
  schema: {
    status: rule((value) => value === 'succeeded' || value === 'failed', 'must be "succeeded" or "failed"'),
  },
  inspector: [
    {
      kind: 'select',
      key: 'status',
      label: 'Run ends',
      options: [
        ['succeeded', 'succeeded'],
        ['failed', 'failed'],
      ],
      fallback: 'succeeded',
      unset: 'succeeded',
    },
  ],
  edges: { outgoing: false },
};
