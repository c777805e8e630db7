/** Show what started a run as a small badge: schedule (with its slot), webhook, api or call. */

import { formatDateTime } from './format';
import { parseTrigger, triggerHref, triggerTitle } from './trigger';

interface TriggerBadgeProps {
  trigger: string | undefined;
  triggerAt: string | null | undefined;
  /** The run's workflow slug, for the link to its schedules or webhooks. */
  workflow: string;
  /** Also write the slot time next to the badge (the run page), not only in its tooltip. */
  withSlot?: boolean;
  testId?: string;
}

export function TriggerBadge({ trigger, triggerAt, workflow, withSlot = false, testId }: TriggerBadgeProps) {
  const parsed = parseTrigger(trigger);
  const slot = triggerAt ? formatDateTime(triggerAt) : null;
  const title = triggerTitle(parsed, slot);
  const href = triggerHref(parsed, workflow);
  const props = { className: `trigger-badge trigger-${parsed.kind}`, title, 'data-testid': testId, 'data-trigger': parsed.kind };
  const badge = href === null ? <span {...props}>{parsed.label}</span> : <a {...props} href={href}>{parsed.label}</a>;
  if (!withSlot || parsed.id === null) return badge;
  return (
    <span className="trigger-line">
      {badge}
      <span className="muted small" data-testid={testId ? `${testId}-detail` : undefined}>
        {parsed.kind === 'schedule' ? `#${parsed.id}${slot ? ` · slot ${slot}` : ''}` : parsed.kind === 'call' ? `by run #${parsed.id}` : `#${parsed.id}`}
      </span>
    </span>
  );
}
