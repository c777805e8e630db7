/** The call node: runs another workflow (a sub-workflow), waits for it, and takes its output. */

import { isInteger, isObject, q, retryRule, rule } from '../rules';
import type { NodeTypeDef } from './types';

const SLUG = /^[-a-zA-Z0-9_]{1,64}$/;

export const call: NodeTypeDef = {
  type: 'call',
  palette: { title: 'Call', icon: '↪', hint: 'Runs another workflow and waits for its output.' },
  defaults: { workflow: '', params: {} },
  summary: (node) => (typeof node.workflow === 'string' && node.workflow ? `calls ${node.workflow}` : 'no workflow yet'),
  schema: {
    workflow: rule((value) => typeof value === 'string' && SLUG.test(value), 'must be a workflow slug'),
    version: rule((value) => isInteger(value) && value >= 1 && value <= 1_000_000, 'must be a version number'),
    params: rule(isObject, 'must be an object'),
    retry: retryRule,
  },
  required: ['workflow'],
  inspector: [
    {
      kind: 'row',
      fields: [
        { kind: 'text', key: 'workflow', label: 'Workflow (slug)', placeholder: 'billing', mono: true, maxLength: 64 },
        {
          kind: 'number',
          key: 'version',
          label: 'Version',
          integer: true,
          min: 1,
          placeholder: 'live',
          hint: 'Empty: its live version.',
        },
      ],
    },
    {
      kind: 'params',
      key: 'params',
      label: 'Input of the child run',
      hint: 'The child run starts with this object as its input.',
    },
    { kind: 'group', legend: 'Retry (a new child run per attempt)', fields: [{ kind: 'retry', key: 'retry' }] },
  ],
  edges: { onFailure: true },
  check(node, graph) {
    const outgoing = graph.outgoing(node.id);
    const normal = outgoing.filter((edge) => edge.on === undefined);
    const failure = outgoing.filter((edge) => edge.on === 'failure');
    if (normal.length !== 1) {
      graph.error(
        'call_edges',
        `call ${q(node.id)} needs exactly one outgoing edge for success (it has ${normal.length})`,
        { node_id: node.id },
      );
    }
    if (failure.length > 1) {
      graph.error('call_edges', `call ${q(node.id)} may have at most one on: failure edge (it has ${failure.length})`, {
        node_id: node.id,
      });
    }
  },
};
