/** The audit trail's entries and how they read: kinds as words, diffs as rows (no React). */

import { apiFetch } from '../api/client';

/** One change as the server's audit list gives it (GET …/audit/). */
export interface AuditEntry {
  id: number;
  kind: string;
  actor: string;
  created_at: string;
  workflow: string | null;
  subject: string;
  team: string | null;
  /** {field: {from, to}} or {field: {changed: true}} (a secret: no values), or {"…": {more: n}}. */
  changes: Record<string, AuditChange>;
}

export interface AuditChange {
  from?: unknown;
  to?: unknown;
  changed?: boolean;
  more?: number;
}

export interface AuditPage {
  count: number;
  next: string | null;
  results: AuditEntry[];
}

/** One line of a diff as the panel draws it. */
export interface ChangeRow {
  field: string;
  from: string;
  to: string;
  /** A secret changed: no values are known, only that. */
  secret: boolean;
}

export const AUDIT_PAGE = 30;

export function listAudit(slug: string, offset: number, signal?: AbortSignal): Promise<AuditPage> {
  return apiFetch<AuditPage>(`/api/v1/workflows/${encodeURIComponent(slug)}/audit/?limit=${AUDIT_PAGE}&offset=${offset}`, { signal });
}

const VERBS: Record<string, string> = {
  created: 'created',
  changed: 'changed',
  updated: 'changed',
  deleted: 'deleted',
  paused: 'paused',
  resumed: 'resumed',
  enabled: 'enabled',
  disabled: 'disabled',
  rotated: 'secret rotated',
};

/** Say what an entry did, in words: "settings changed", "schedule nightly paused". */
export function describeEntry(entry: Pick<AuditEntry, 'kind' | 'subject'>): string {
  const words = entry.kind.split('_');
  const verb = words.pop() ?? '';
  const subject = entry.subject || words.join(' ');
  return `${subject} ${VERBS[verb] ?? verb}`.trim();
}

/** Show a value of a diff compactly: absent as "—", strings as they are, a summary as its text, the rest as JSON. */
export function describeValue(value: unknown): string {
  if (value === undefined || value === null || value === '') return '—';
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && 'summary' in value) {
    return String((value as { summary: unknown }).summary);
  }
  return JSON.stringify(value);
}

/** Turn a diff into rows, fields in order, secrets marked, the count of fields left out last. */
export function changeRows(changes: Record<string, AuditChange>): ChangeRow[] {
  const rows: ChangeRow[] = [];
  for (const [field, change] of Object.entries(changes)) {
    if (change.more !== undefined) {
      rows.push({ field: `${change.more} more fields`, from: '', to: '', secret: false });
    } else if (change.changed) {
      rows.push({ field, from: '', to: '', secret: true });
    } else {
      rows.push({ field, from: describeValue(change.from), to: describeValue(change.to), secret: false });
    }
  }
  return rows;
}

/** Name the actor for people: "alice" for "user:alice", "system" stays. */
export function actorName(actor: string): string {
  return actor.startsWith('user:') ? actor.slice(5) : actor || 'system';
}
