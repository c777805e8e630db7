/** Arrange a scorecard's finished runs by trigger into table rows (no React). */

import type { Scorecard, TriggerRuns } from '../api/metrics';

/** Known trigger kinds in the order the table lists them; others follow by name. */
export const TRIGGER_ORDER = ['api', 'schedule', 'webhook', 'call'] as const;

const TRIGGER_LABELS: Record<string, string> = {
  api: 'API',
  schedule: 'Schedule',
  webhook: 'Webhook',
  call: 'Called by a run',
};

export interface TriggerRow {
  trigger: string;
  label: string;
  /** The version cards' numbers; null where that card finished no run of this trigger. */
  a: TriggerRuns | null;
  b: TriggerRuns | null;
}

/** Return the label of a trigger kind ("Schedule"; unknown kinds as they are). */
export function triggerLabel(trigger: string): string {
  return TRIGGER_LABELS[trigger] ?? trigger;
}

function rank(trigger: string): number {
  const index = (TRIGGER_ORDER as readonly string[]).indexOf(trigger);
  return index < 0 ? TRIGGER_ORDER.length : index;
}

/** Return one row per trigger that finished runs in card a or b, known kinds first. */
export function triggerRows(a: Scorecard, b: Scorecard | null): TriggerRow[] {
  const byA = a.runs.by_trigger ?? {};
  const byB = b?.runs.by_trigger ?? {};
  const triggers = [...new Set([...Object.keys(byA), ...Object.keys(byB)])];
  triggers.sort((x, y) => rank(x) - rank(y) || x.localeCompare(y));
  return triggers.map((trigger) => ({ trigger, label: triggerLabel(trigger), a: byA[trigger] ?? null, b: b === null ? null : (byB[trigger] ?? null) }));
}

/** Return a bar width in percent of the largest finished count (0 for none). */
export function finishedShare(finished: number, rows: readonly TriggerRow[]): number {
  const most = Math.max(0, ...rows.flatMap((r) => [r.a?.finished ?? 0, r.b?.finished ?? 0]));
  return most === 0 ? 0 : Math.round((finished / most) * 1000) / 10;
}
