/** The map node: runs an action once per item of a list (for-each), a bounded number at a time. */

import { isInteger, isNumber, isObject, q, queueRule, retryRule, rule } from '../rules';
import type { NodeTypeDef } from './types';

const MAX_ITEMS = 10_000;

export const map: NodeTypeDef = {
  type: 'map',
  palette: { title: 'Map', icon: '⁂', hint: 'Runs an action once per item of a list (for-each).' },
  defaults: { items: 'input.items', action: 'builtin.noop', max_concurrency: 10 },
  summary: (node) =>
    typeof node.action === 'string' && node.action ? `${node.action} per item` : 'no action yet',
  schema: {
    items: rule((value) => typeof value === 'string' && value.length >= 1 && value.length <= 2000, 'must be an expression'),
    action: rule((value) => typeof value === 'string' && value.length >= 1, 'must name an action'),
    workflow: rule((value) => typeof value === 'string' && /^[-a-zA-Z0-9_]{1,64}$/.test(value), 'must be a workflow slug'),
    version: rule((value) => isInteger(value) && value >= 1 && value <= 1_000_000, 'must be a version number'),
    params: rule(isObject, 'must be an object'),
    retry: retryRule,
    queue: queueRule,
    max_concurrency: rule((value) => isInteger(value) && value >= 1 && value <= 1000, 'must be an integer from 1 to 1000'),
    tolerate_failures: rule(
      (value) => isInteger(value) && value >= 0 && value <= MAX_ITEMS,
      `must be an integer from 0 to ${MAX_ITEMS}`,
    ),
    tolerate_percent: rule((value) => isNumber(value) && value >= 0 && value <= 100, 'must be a percentage from 0 to 100'),
  },
  required: ['items'],
  inspector: [
    {
      kind: 'text',
      key: 'items',
      label: 'Items (expression giving a list)',
      placeholder: 'input.orders',
      mono: true,
      hint: `At most ${MAX_ITEMS} items; params may read item and index.`,
    },
    { kind: 'action', key: 'action' },
    {
      kind: 'text',
      key: 'workflow',
      label: 'Or call a workflow per item (slug)',
      placeholder: 'send-receipt',
      mono: true,
      hint: 'Instead of an action: a child run per item, params as its input.',
    },
    {
      kind: 'params',
      key: 'params',
      label: 'Input of each child run',
      hint: 'Values may read item and index, e.g. {"line": "=item"}.',
      visible: ({ node }) => node.action === undefined,
    },
    {
      kind: 'row',
      fields: [
        { kind: 'number', key: 'max_concurrency', label: 'At a time', integer: true, min: 1, max: 1000, placeholder: '10' },
        { kind: 'number', key: 'tolerate_failures', label: 'Failures tolerated', integer: true, min: 0, placeholder: '0' },
        { kind: 'number', key: 'tolerate_percent', label: 'Or % tolerated', min: 0, max: 100 },
      ],
    },
    { kind: 'group', legend: 'Retry (per item)', fields: [{ kind: 'retry', key: 'retry' }] },
  ],
  edges: { onFailure: true },
  check(node, graph) {
    const outgoing = graph.outgoing(node.id);
    const normal = outgoing.filter((edge) => edge.on === undefined);
    const failure = outgoing.filter((edge) => edge.on === 'failure');
    if (normal.length !== 1) {
      graph.error('map_edges', `map ${q(node.id)} needs exactly one outgoing edge for success (it has ${normal.length})`, {
        node_id: node.id,
      });
    }
    if (failure.length > 1) {
      graph.error('map_edges', `map ${q(node.id)} may have at most one on: failure edge (it has ${failure.length})`, {
        node_id: node.id,
      });
    }
    if ((node.action !== undefined) === (node.workflow !== undefined)) {
      graph.error('map_target', `map ${q(node.id)} needs either an action or a workflow (not both)`, { node_id: node.id });
    }
    if (node.tolerate_failures !== undefined && node.tolerate_percent !== undefined) {
      graph.error('map_tolerance', `map ${q(node.id)}: give tolerate_failures or tolerate_percent, not both`, {
        node_id: node.id,
      });
    }
  },
};
