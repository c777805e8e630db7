/** The task node: runs an action, with retries, a timeout and an optional compensation. */

import { paramExpressions, paramsProblems } from '../params';
import {
  a,
  anyValue,
  has,
  isInteger,
  isObject,
  NODE_ID_PATTERN,
  q,
  queueRule,
  retryRule,
  rule,
  timeoutRule,
} from '../rules';
import type { GraphNode } from '../types';
import type { CheckContext, NodeTypeDef } from './types';

const PRIORITY_OPTIONS = [
  ['', '5 (default)'],
  ...Array.from({ length: 10 }, (_, i) => [i, i === 9 ? '9 (highest)' : i === 0 ? '0 (lowest)' : String(i)] as const),
] as const;

export const task: NodeTypeDef = {
  type: 'task',
  palette: { title: 'Task', icon: '⚙', hint: 'Runs an action, with retries and a timeout.' },
  defaults: { action: 'builtin.noop' },
  summary: (node) => (typeof node.action === 'string' && node.action ? node.action : 'no action yet'),
  schema: {
    action: rule((value) => typeof value === 'string' && value.length >= 1, 'must name an action'),
    params: rule(isObject, 'must be an object'),
    retry: retryRule,
    queue: queueRule,
    priority: rule((value) => isInteger(value) && value >= 0 && value <= 9, 'must be an integer from 0 to 9'),
    timeout_s: timeoutRule,
    compensate_with: rule((value) => typeof value === 'string' && NODE_ID_PATTERN.test(value), 'must be a node id'),
    side_effects_reason: anyValue,
  },
  required: ['action'],
  inspector: [
    { kind: 'action', key: 'action' },
    { kind: 'group', legend: 'Retry', fields: [{ kind: 'retry', key: 'retry' }] },
    {
      kind: 'group',
      legend: 'Execution',
      fields: [
        {
          kind: 'row',
          fields: [
            {
              kind: 'text',
              key: 'queue',
              label: 'Queue',
              placeholder: ({ graph }) => (typeof graph.defaults?.queue === 'string' ? graph.defaults.queue : 'default'),
              mono: true,
            },
            { kind: 'select', key: 'priority', label: 'Priority', options: PRIORITY_OPTIONS, fallback: '', unset: '' },
          ],
        },
        {
          kind: 'number',
          key: 'timeout_s',
          label: 'Timeout per attempt (s)',
          min: 0,
          placeholder: ({ graph }) =>
            graph.defaults?.timeout_s !== undefined ? `${String(graph.defaults.timeout_s)} (inherited)` : '300 (inherited)',
        },
        {
          kind: 'node',
          key: 'compensate_with',
          label: 'Compensate with',
          nodeType: 'task',
          none: '— none —',
          hint: 'Task that undoes this one when the run fails later.',
        },
        {
          kind: 'text',
          key: 'side_effects_reason',
          label: 'Why no compensation',
          multiline: true,
          rows: 2,
          maxLength: 500,
          placeholder: 'e.g. the ledger entry is idempotent and reconciled nightly',
          hint: 'This action has side effects: say why undoing them is not needed, or pick a compensation.',
          visible: ({ node, action }) =>
            Boolean(action?.side_effects && node.compensate_with === undefined) || typeof node.side_effects_reason === 'string',
        },
      ],
    },
  ],
  edges: { onFailure: true },
  check(node, graph) {
    const id = node.id;
    const outgoing = graph.outgoing(id);
    const normal = outgoing.filter((edge) => edge.on !== 'failure');
    const failure = outgoing.filter((edge) => edge.on === 'failure');
    if (!graph.isCompensationOnly(id)) {
      if (normal.length !== 1) {
        graph.error(
          'task_edges',
          `task ${q(id)} needs exactly one outgoing edge for success (it has ${normal.length})`,
          { node_id: id },
        );
      }
      if (failure.length > 1) {
        graph.error('task_edges', `task ${q(id)} may have at most one on: failure edge (it has ${failure.length})`, {
          node_id: id,
        });
      }
      // Failing with no route fails the run, which then undoes what came before: a
      // saga's later steps need neither (as on the server).
      if (failure.length === 0 && node.compensate_with === undefined && !graph.afterCompensation(id)) {
        graph.warn(
          'no_failure_handling',
          `task ${q(id)} has no on: failure edge and no compensate_with; if it fails, the run fails`,
          id,
        );
      }
    }
    checkAction(node, graph);
    const compensation = node.compensate_with;
    if (compensation !== undefined) {
      const target = typeof compensation === 'string' ? graph.node(compensation) : undefined;
      let problem = '';
      if (compensation === id) problem = 'names the task itself';
      else if (target === undefined) problem = 'names no node';
      else if (target.type !== 'task') problem = `names ${a(target.type)} node, not a task`;
      if (problem) {
        graph.error('bad_compensation', `task ${q(id)}: compensate_with ${q(compensation)} ${problem}`, {
          node_id: id,
        });
      }
    }
  },
};

function checkAction(node: GraphNode, graph: CheckContext): void {
  const id = node.id;
  const params = node.params === undefined ? {} : node.params;
  for (const [path, source] of paramExpressions(params)) {
    if (source.trim() === '') {
      graph.error(
        'bad_expression',
        `task ${q(id)}: param ${path || '(params)'} is not a valid expression: expression is empty`,
        { node_id: id },
      );
    }
  }
  const action = node.action;
  const actions = graph.actions;
  if (actions === null || typeof action !== 'string' || action === '') return;
  const info = has(actions, action) ? actions[action] : undefined;
  if (info === undefined) {
    graph.error('unknown_action', `task ${q(id)} uses action ${q(action)}, which is not registered`, {
      node_id: id,
    });
    return;
  }
  if (!isObject(params)) return; // reported as a schema error
  for (const message of paramsProblems(info.params_schema, params)) {
    graph.error('bad_params', `task ${q(id)}: ${message}`, { node_id: id });
  }
}
