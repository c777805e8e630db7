/** The handoff node: hands the step to a person (or an agent); the outcome they pick routes. */

import { isNumber, isObject, MAX_DURATION_S, q, rule, text } from '../rules';
import { checkConditions } from './branches';
import type { NodeTypeDef } from './types';

/** `{"group"|"user"|"agent": name}`: who a handoff goes to (users by username, never id). */
function isAssignee(value: unknown): boolean {
  if (!isObject(value) || Object.keys(value).length !== 1) return false;
  const [kind, name] = Object.entries(value)[0] ?? ['', undefined];
  return (
    ['group', 'user', 'agent'].includes(kind) && typeof name === 'string' && name.length >= 1 && name.length <= 150
  );
}

const assigneeRule = rule(isAssignee, 'must be {"group": name}, {"user": name} or {"agent": name}');

// Find string literals compared with the handoff outcome: outcome == 'approve',
// 'approve' != outcome, outcome in ['a', 'b']. Best effort, as on the server.
const OUTCOME_NAME = String.raw`(?<![\w.])outcome(?!\w)`;
const STRING_LITERAL = String.raw`(?:'([^'\\\n]*)'|"([^"\\\n]*)")`;
const OUTCOME_COMPARISONS = [
  new RegExp(OUTCOME_NAME + String.raw`\s*[!=]=\s*` + STRING_LITERAL, 'g'),
  new RegExp(STRING_LITERAL + String.raw`\s*[!=]=\s*` + OUTCOME_NAME, 'g'),
];
const OUTCOME_IN = new RegExp(OUTCOME_NAME + String.raw`\s+in\s+\[([^\]]*)\]`, 'g');
const STRING_LITERALS = new RegExp(STRING_LITERAL, 'g');

/** Return the string literals an expression compares `outcome` with. */
export function outcomeLiterals(source: string): string[] {
  const literals: string[] = [];
  for (const pattern of OUTCOME_COMPARISONS) {
    for (const match of source.matchAll(pattern)) {
      literals.push(match[1] ?? match[2] ?? '');
    }
  }
  for (const match of source.matchAll(OUTCOME_IN)) {
    for (const literal of (match[1] ?? '').matchAll(STRING_LITERALS)) {
      literals.push(literal[1] ?? literal[2] ?? '');
    }
  }
  return literals;
}

export const handoff: NodeTypeDef = {
  type: 'handoff',
  palette: { title: 'Handoff', icon: '☺', hint: 'Hands the step to a person; the outcome routes.' },
  defaults: { to: { group: '' }, outcomes: ['approve', 'reject'] },
  summary(node) {
    const to = node.to as { group?: unknown; user?: unknown } | undefined;
    if (to && typeof to.group === 'string') return `to group ${to.group}`;
    if (to && (typeof to.user === 'string' || typeof to.user === 'number')) return `to user ${to.user}`;
    return 'no assignee';
  },
  schema: {
    instructions: text(10000),
    to: assigneeRule,
    escalate_to: assigneeRule,
    outcomes: rule(
      (outcomes) =>
        Array.isArray(outcomes) &&
        outcomes.length >= 1 &&
        outcomes.length <= 50 &&
        outcomes.every((o) => typeof o === 'string' && o.length >= 1 && o.length <= 100) &&
        new Set(outcomes).size === outcomes.length,
      'must be a list of 1 to 50 different, non-empty names',
    ),
    sla_s: rule(
      (value) => isNumber(value) && value > 0 && value <= MAX_DURATION_S,
      `must be a number of seconds above 0, at most ${MAX_DURATION_S} (a year)`,
    ),
    context: rule(
      (context) =>
        Array.isArray(context) && context.length <= 50 && context.every((c) => typeof c === 'string' && c.length >= 1),
      'must be a list of at most 50 non-empty paths',
    ),
  },
  required: ['to', 'outcomes'],
  inspector: [
    { kind: 'branches', pickDefault: false },
    {
      kind: 'group',
      legend: 'Handoff',
      fields: [
        { kind: 'assignee', key: 'to' },
        {
          kind: 'list',
          key: 'outcomes',
          label: 'Outcomes',
          placeholder: 'approve, reject',
          hint: "Route on them with when: outcome == 'approve'.",
        },
        {
          kind: 'number',
          key: 'sla_s',
          label: 'SLA (s)',
          min: 0,
          max: MAX_DURATION_S,
          hint: 'Escalates when nobody completes it in time.',
        },
        { kind: 'text', key: 'instructions', label: 'Instructions', multiline: true },
        { kind: 'list', key: 'context', label: 'Context shown', placeholder: 'input.order, steps.charge.output' },
      ],
    },
  ],
  edges: { when: { example: "outcome == 'approve'" } },
  breaksLoops: true,
  check(node, graph) {
    const id = node.id;
    const outgoing = graph.outgoing(id);
    const defaults = outgoing.filter((edge) => edge.default === true);
    const conditional = outgoing.filter((edge) => edge.when !== undefined && edge.default !== true);
    if (defaults.length > 1) {
      graph.error('handoff_default', `handoff ${q(id)} may have at most one default edge (it has ${defaults.length})`, {
        node_id: id,
      });
    } else if (defaults.length === 0 && conditional.length === 0) {
      graph.error(
        'handoff_default',
        `handoff ${q(id)} needs a default edge or edges with \`when\` conditions on the outcome`,
        { node_id: id },
      );
    }
    checkConditions(node, outgoing, graph);
    const outcomes = node.outcomes;
    if (Array.isArray(outcomes)) {
      for (const edge of conditional) {
        if (typeof edge.when !== 'string') continue;
        for (const literal of outcomeLiterals(edge.when)) {
          if (!outcomes.includes(literal)) {
            graph.error(
              'outcome_unknown',
              `edge ${q(edge.id)} tests outcome ${q(literal)}, which is not an outcome of handoff ${q(id)} ` +
                `(${outcomes.join(', ')})`,
              { edge_id: edge.id },
            );
          }
        }
      }
    }
    if (node.sla_s === undefined) {
      graph.warn('handoff_no_sla', `handoff ${q(id)} has no sla_s; it may wait forever unnoticed`, id);
    }
  },
};
