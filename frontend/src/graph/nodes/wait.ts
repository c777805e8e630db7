/** The wait node: pauses the run for a number of seconds. */

import { isNumber, MAX_DURATION_S, rule } from '../rules';
import type { NodeTypeDef } from './types';

export const wait: NodeTypeDef = {
  type: 'wait',
  palette: { title: 'Wait', icon: '◷', hint: 'Pauses the run for a number of seconds.' },
  defaults: { seconds: 60 },
  summary: (node) =>
    typeof node.seconds === 'number' ? `${node.seconds} s` : typeof node.seconds === 'string' ? node.seconds : 'no delay set',
  schema: {
    seconds: rule(
      (value) => isNumber(value) && value >= 0 && value <= MAX_DURATION_S,
      `must be a number of seconds from 0 to ${MAX_DURATION_S} (a year)`,
    ),
  },
  required: ['seconds'],
  inspector: [{ kind: 'number', key: 'seconds', label: 'Wait (seconds)', min: 0, max: MAX_DURATION_S }],
  breaksLoops: true,
};
