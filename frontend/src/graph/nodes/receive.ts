/** The receive node: the run waits for a named message with a correlation key (an event from outside). */

import { isNumber, MAX_DURATION_S, q, rule } from '../rules';
import type { NodeTypeDef } from './types';

const MESSAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;
const MAX_KEY_SOURCE = 2000;

export const receive: NodeTypeDef = {
  type: 'receive',
  palette: { title: 'Receive', icon: '✉', hint: 'Waits for a message with its key (an event from outside).' },
  defaults: { message: 'payment.confirmed', key: 'input.order_id', wait_s: 86400 },
  summary: (node) => (typeof node.message === 'string' && node.message ? `waits for ${node.message}` : 'no message set'),
  schema: {
    message: rule(
      (value) => typeof value === 'string' && MESSAGE_NAME.test(value),
      "must be 1 to 100 letters, digits, '_', '.', ':' or '-'",
    ),
    key: rule(
      (value) => typeof value === 'string' && value.length >= 1 && value.length <= MAX_KEY_SOURCE,
      `must be an expression of 1 to ${MAX_KEY_SOURCE} characters`,
    ),
    wait_s: rule(
      (value) => isNumber(value) && value > 0 && value <= MAX_DURATION_S,
      `must be a number of seconds above 0, at most ${MAX_DURATION_S} (a year)`,
    ),
  },
  required: ['message', 'key'],
  inspector: [
    { kind: 'text', key: 'message', label: 'Message name', placeholder: 'payment.confirmed', mono: true, maxLength: 100 },
    {
      kind: 'text',
      key: 'key',
      label: 'Correlation key (expression)',
      placeholder: 'input.order_id',
      mono: true,
      maxLength: MAX_KEY_SOURCE,
      hint: 'The sender gives the same key: POST /api/v1/messages/ {name, key, payload}.',
    },
    {
      kind: 'number',
      key: 'wait_s',
      label: 'Give up after (seconds)',
      min: 1,
      max: MAX_DURATION_S,
      hint: 'Then the on: timeout edge is taken.',
    },
  ],
  edges: { onTimeout: true },
  breaksLoops: true,
  check(node, graph) {
    const outgoing = graph.outgoing(node.id);
    const normal = outgoing.filter((edge) => edge.on === undefined);
    const timeout = outgoing.filter((edge) => edge.on === 'timeout');
    if (normal.length !== 1) {
      graph.error(
        'receive_edges',
        `receive ${q(node.id)} needs exactly one outgoing edge for the message (it has ${normal.length})`,
        { node_id: node.id },
      );
    }
    if (node.wait_s !== undefined && timeout.length !== 1) {
      graph.error(
        'receive_timeout',
        `receive ${q(node.id)} has wait_s, so it needs exactly one on: timeout edge (it has ${timeout.length})`,
        { node_id: node.id },
      );
    }
    if (timeout.length > 0 && node.wait_s === undefined) {
      graph.error('receive_timeout', `receive ${q(node.id)} has an on: timeout edge but no wait_s`, { node_id: node.id });
    }
    if (node.wait_s === undefined) {
      graph.warn('receive_no_timeout', `receive ${q(node.id)} has no wait_s; it may wait forever`, node.id);
    }
  },
};
