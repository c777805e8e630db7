/** The start node: where every run begins; the run's input is its output. */

import type { NodeTypeDef } from './types';

export const start: NodeTypeDef = {
  type: 'start',
  palette: { title: 'Start', icon: '▶', hint: 'Where every run begins (exactly one).' },
  defaults: {},
  summary: () => 'run input',
  schema: {},
  inspector: [],
  edges: { incoming: false },
};
