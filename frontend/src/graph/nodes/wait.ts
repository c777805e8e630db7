/** The wait node: pauses the run for a number of seconds, or until a time an expression gives. */

import { isNumber, MAX_DURATION_S, q, rule } from '../rules';
import type { NodeTypeDef } from './types';

const MAX_UNTIL_LENGTH = 2000;

export const wait: NodeTypeDef = {
  type: 'wait',
  palette: { title: 'Wait', icon: '◷', hint: 'Pauses the run for some seconds, or until a time.' },
  defaults: { seconds: 60 },
  summary: (node) =>
    typeof node.until === 'string'
      ? `until ${node.until}`
      : typeof node.seconds === 'number'
        ? `${node.seconds} s`
        : typeof node.seconds === 'string'
          ? node.seconds
          : 'no delay set',
  schema: {
    seconds: rule(
      (value) => isNumber(value) && value >= 0 && value <= MAX_DURATION_S,
      `must be a number of seconds from 0 to ${MAX_DURATION_S} (a year)`,
    ),
    until: rule(
      (value) => typeof value === 'string' && value.length >= 1 && value.length <= MAX_UNTIL_LENGTH,
      `must be an expression of 1 to ${MAX_UNTIL_LENGTH} characters`,
    ),
  },
  inspector: [
    {
      kind: 'number',
      key: 'seconds',
      label: 'Wait (seconds)',
      min: 0,
      max: MAX_DURATION_S,
      hint: 'Or leave empty and give a time below.',
    },
    {
      kind: 'text',
      key: 'until',
      label: 'Or wait until (expression)',
      placeholder: 'input.deliver_at',
      mono: true,
      maxLength: MAX_UNTIL_LENGTH,
      hint: 'An ISO 8601 time with its zone, or Unix seconds; at most a year ahead.',
    },
  ],
  breaksLoops: true,
  check(node, graph) {
    const hasSeconds = node.seconds !== undefined;
    const hasUntil = node.until !== undefined;
    if (hasSeconds === hasUntil) {
      graph.error('wait_time', `wait ${q(node.id)} needs either seconds or until (not both)`, { node_id: node.id });
    }
  },
};
