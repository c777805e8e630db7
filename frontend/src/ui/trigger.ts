/** Read a run's trigger ("api", "schedule:<id>", "webhook:<id>", "call:<run id>", "test") for people (no React). */

export type TriggerKind = 'api' | 'schedule' | 'webhook' | 'call' | 'test' | 'other';

export interface Trigger {
  kind: TriggerKind;
  /** The schedule, webhook or calling run's id; null for "api" and unknown shapes. */
  id: number | null;
  /** The badge's word: "schedule", "webhook", "api", "call", or the raw trigger. */
  label: string;
}

const KINDS: ReadonlySet<string> = new Set(['schedule', 'webhook', 'call']);

/** Parse a trigger string; an unknown or malformed one is kept as `other`. */
export function parseTrigger(trigger: string | null | undefined): Trigger {
  const raw = (trigger ?? '').trim();
  if (raw === '' || raw === 'api') return { kind: 'api', id: null, label: 'api' };
  if (raw === 'test') return { kind: 'test', id: null, label: 'test' };
  const colon = raw.indexOf(':');
  const kind = colon === -1 ? raw : raw.slice(0, colon);
  const rest = colon === -1 ? '' : raw.slice(colon + 1);
  if (KINDS.has(kind) && /^\d+$/.test(rest)) {
    return { kind: kind as TriggerKind, id: Number(rest), label: kind };
  }
  return { kind: 'other', id: null, label: raw };
}

/** The editor's address with the schedules panel open (on one schedule's fires when `id` is given). */
export function schedulesUrl(slug: string, id?: number | null): string {
  return panelUrl(slug, 'schedules', id);
}

/** The editor's address with the webhooks panel open (on one webhook when `id` is given). */
export function webhooksUrl(slug: string, id?: number | null): string {
  return panelUrl(slug, 'webhooks', id);
}

function panelUrl(slug: string, panel: string, id?: number | null): string {
  const base = `/workflows/${encodeURIComponent(slug)}/edit/#${panel}`;
  return id === undefined || id === null ? base : `${base}/${id}`;
}

/** Read the editor's hash: whether it asks for the schedules panel, and on which schedule. */
export function schedulesHash(hash: string): { open: boolean; id: number | null } {
  return panelHash(hash, 'schedules');
}

/** Read the editor's hash: whether it asks for the webhooks panel, and on which webhook. */
export function webhooksHash(hash: string): { open: boolean; id: number | null } {
  return panelHash(hash, 'webhooks');
}

function panelHash(hash: string, panel: string): { open: boolean; id: number | null } {
  const match = new RegExp(`^#${panel}(?:/(\\d+))?$`).exec(hash.trim());
  if (match === null) return { open: false, id: null };
  return { open: true, id: match[1] === undefined ? null : Number(match[1]) };
}

/** Return where a trigger's badge links: the schedule or webhook in the editor, the calling run, or nowhere. */
export function triggerHref(trigger: Trigger, workflow: string): string | null {
  if (trigger.kind === 'schedule') return schedulesUrl(workflow, trigger.id);
  if (trigger.kind === 'webhook') return webhooksUrl(workflow, trigger.id);
  if (trigger.kind === 'call') return `/runs/${trigger.id}/`;
  return null;
}

/** Say in a sentence who started the run (the badge's tooltip); `slot` is already formatted. */
export function triggerTitle(trigger: Trigger, slot: string | null): string {
  switch (trigger.kind) {
    case 'schedule':
      return `Started by schedule #${trigger.id}${slot ? ` for its slot of ${slot}` : ''}`;
    case 'webhook':
      return `Started by webhook #${trigger.id}`;
    case 'call':
      return `Called by run #${trigger.id}`;
    case 'api':
      return 'Started by a person or a program through the API';
    case 'test':
      return 'A test run of a draft ("run from here"), left out of the scorecard';
    default:
      return `Started by ${trigger.label}`;
  }
}
