/** The inbox's tabs, SLA wording, ordering and grouping of handoffs (plain TS, no React). */

import {
  ACTIVE_HANDOFF_STATES,
  type Assignee,
  type Handoff,
  type HandoffEvent,
  type HandoffQuery,
} from '../api/handoffs';

export type InboxTab = 'mine' | 'active' | 'completed';

export const TABS: readonly { id: InboxTab; label: string }[] = [
  { id: 'mine', label: 'Mine & my groups' },
  { id: 'active', label: 'All active' },
  { id: 'completed', label: 'Completed' },
];

export const PAGE_SIZE = 20;

/** Return the list query of a tab's page. */
export function tabQuery(tab: InboxTab, offset: number, limit = PAGE_SIZE): HandoffQuery {
  switch (tab) {
    case 'mine':
      return { status: 'active', mine: true, limit, offset };
    case 'active':
      return { status: 'active', mine: false, limit, offset };
    case 'completed':
      return { status: 'completed', mine: false, limit, offset };
  }
}

/** Read the tab and page offset from the address bar (`?tab=active&offset=20`). */
export function readLocation(search: string): { tab: InboxTab; offset: number } {
  const params = new URLSearchParams(search);
  const wanted = params.get('tab');
  const tab = TABS.some((t) => t.id === wanted) ? (wanted as InboxTab) : 'mine';
  const offset = Number.parseInt(params.get('offset') ?? '0', 10);
  return { tab, offset: Number.isFinite(offset) && offset > 0 ? offset : 0 };
}

/** Write the tab and offset into a query string, leaving out the defaults. */
export function writeLocation(search: string, tab: InboxTab, offset: number): string {
  const params = new URLSearchParams(search);
  if (tab === 'mine') params.delete('tab');
  else params.set('tab', tab);
  if (offset > 0) params.set('offset', String(offset));
  else params.delete('offset');
  const text = params.toString();
  return text ? `?${text}` : '';
}

export function isActive(handoff: Pick<Handoff, 'state'>): boolean {
  return ACTIVE_HANDOFF_STATES.includes(handoff.state);
}

function dueMs(handoff: Pick<Handoff, 'due_at'>): number | null {
  if (!handoff.due_at) return null;
  const at = Date.parse(handoff.due_at);
  return Number.isNaN(at) ? null : at;
}

/**
 * Say whether an active handoff is past its SLA: the server says so, or its due time
 * has passed since the list was read.
 */
export function isOverdue(handoff: Pick<Handoff, 'state' | 'due_at' | 'overdue'>, now: number): boolean {
  if (!isActive(handoff)) return false;
  if (handoff.overdue) return true;
  const due = dueMs(handoff);
  return due !== null && due <= now;
}

/** Return a span for people: "45 s", "12 min", "3 h", "3 h 5 min", "2 d", "2 d 4 h". */
export function formatSpan(ms: number): string {
  // Whole units, rounded down: 59 min 59 s left is "59 min", not "1 h".
  const seconds = Math.max(0, Math.floor(Math.abs(ms) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

/** How the SLA reads: overdue (red), soon (amber), ok, late/in time once done, or none. */
export type DueTone = 'overdue' | 'soon' | 'ok' | 'late' | 'in-time' | 'none';

export interface DueInfo {
  text: string;
  tone: DueTone;
}

// Under this much time left, or under this share of the SLA, the due time shows amber.
const SOON_MS = 15 * 60 * 1000;
const SOON_SHARE = 0.2;

/** Describe a handoff's SLA at `now`: "due in 12 min", "overdue by 5 min", "completed 3 min late". */
export function dueInfo(
  handoff: Pick<Handoff, 'state' | 'due_at' | 'overdue' | 'sla_s' | 'completed_at'>,
  now: number,
): DueInfo {
  const due = dueMs(handoff);
  if (due === null) return { text: isActive(handoff) ? 'no SLA' : '', tone: 'none' };
  if (!isActive(handoff)) {
    if (handoff.state !== 'completed' || !handoff.completed_at) return { text: '', tone: 'none' };
    const done = Date.parse(handoff.completed_at);
    if (Number.isNaN(done)) return { text: '', tone: 'none' };
    return done > due
      ? { text: `completed ${formatSpan(done - due)} late`, tone: 'late' }
      : { text: 'completed within its SLA', tone: 'in-time' };
  }
  if (isOverdue(handoff, now)) return { text: `overdue by ${formatSpan(now - due)}`, tone: 'overdue' };
  const left = due - now;
  const soon = left <= SOON_MS || (handoff.sla_s !== null && handoff.sla_s > 0 && left <= handoff.sla_s * 1000 * SOON_SHARE);
  return { text: `due in ${formatSpan(left)}`, tone: soon ? 'soon' : 'ok' };
}

/** Return "group reviewers", "user alice" or "agent triage-bot". */
export function assigneeLabel(to: Assignee | null | undefined): string {
  if (!to) return '—';
  return `${to.kind} ${to.name}`;
}

/** Return a person's name as the page shows it: "you" for the signed-in user. */
export function personLabel(name: string | null, me: string): string {
  if (!name) return '—';
  return name === me ? 'you' : name;
}

/** Return the handoff's heading: its title, else its node id. */
export function handoffTitle(handoff: Pick<Handoff, 'title' | 'node_id'>): string {
  return handoff.title.trim() || handoff.node_id;
}

function createdMs(handoff: Pick<Handoff, 'created_at'>): number {
  const at = Date.parse(handoff.created_at);
  return Number.isNaN(at) ? 0 : at;
}

/**
 * Order like the server: overdue first, then by due time (none last), then newest;
 * completed ones newest-completed first.
 */
export function compareHandoffs(a: Handoff, b: Handoff, now: number): number {
  const aActive = isActive(a);
  const bActive = isActive(b);
  if (aActive !== bActive) return aActive ? -1 : 1;
  if (!aActive) {
    const done = (h: Handoff) => (h.completed_at ? Date.parse(h.completed_at) : 0) || 0;
    return done(b) - done(a) || b.id - a.id;
  }
  const aLate = isOverdue(a, now);
  const bLate = isOverdue(b, now);
  if (aLate !== bLate) return aLate ? -1 : 1;
  const aDue = dueMs(a);
  const bDue = dueMs(b);
  if (aDue !== bDue) {
    if (aDue === null) return 1;
    if (bDue === null) return -1;
    return aDue - bDue;
  }
  return createdMs(b) - createdMs(a) || b.id - a.id;
}

export function sortHandoffs(handoffs: readonly Handoff[], now: number): Handoff[] {
  return [...handoffs].sort((a, b) => compareHandoffs(a, b, now));
}

export type GroupId = 'overdue' | 'yours' | 'waiting' | 'others' | 'done';

export interface HandoffGroup {
  id: GroupId;
  title: string;
  hint: string;
  items: Handoff[];
}

const GROUPS: readonly { id: GroupId; title: string; hint: string }[] = [
  { id: 'overdue', title: 'Overdue', hint: 'Past their SLA: take these first.' },
  { id: 'yours', title: 'Claimed by you', hint: 'You are working on these; complete or release them.' },
  { id: 'waiting', title: 'Waiting to be picked up', hint: 'Nobody has claimed these yet.' },
  { id: 'others', title: 'Claimed by someone else', hint: 'Someone is working on these.' },
  { id: 'done', title: 'Finished', hint: 'Completed or cancelled.' },
];

/** Return which group a handoff is shown in. */
export function groupOf(handoff: Handoff, me: string, now: number): GroupId {
  if (!isActive(handoff)) return 'done';
  if (isOverdue(handoff, now)) return 'overdue';
  if (handoff.state === 'claimed') return handoff.claimed_by === me ? 'yours' : 'others';
  return 'waiting';
}

/** Split a page of handoffs into groups (in a fixed order, empty ones left out), each sorted. */
export function groupHandoffs(handoffs: readonly Handoff[], me: string, now: number): HandoffGroup[] {
  const buckets = new Map<GroupId, Handoff[]>();
  for (const handoff of sortHandoffs(handoffs, now)) {
    const id = groupOf(handoff, me, now);
    const bucket = buckets.get(id);
    if (bucket) bucket.push(handoff);
    else buckets.set(id, [handoff]);
  }
  return GROUPS.filter((g) => buckets.has(g.id)).map((g) => ({ ...g, items: buckets.get(g.id) ?? [] }));
}

/** Replace one handoff of a list by its newer copy (by id); others stay as they are. */
export function replaceHandoff(handoffs: readonly Handoff[], updated: Handoff): Handoff[] {
  return handoffs.map((h) => (h.id === updated.id ? updated : h));
}

/**
 * Say whether a live event may change the list: any handoff event, or a run event of a
 * run the list shows (pausing a run stops its handoff from being completed).
 */
export function eventChangesList(event: HandoffEvent, runIds: ReadonlySet<number>): boolean {
  if (event.kind.startsWith('handoff_')) return true;
  return event.kind.startsWith('run_') && event.run_id !== null && runIds.has(event.run_id);
}

export interface PageInfo {
  first: number;
  last: number;
  hasPrevious: boolean;
  hasNext: boolean;
}

/** Describe the shown page: "21–40 of 57", and whether there are pages around it. */
export function pageInfo(offset: number, limit: number, shown: number, count: number): PageInfo {
  return {
    first: shown === 0 ? 0 : offset + 1,
    last: offset + shown,
    hasPrevious: offset > 0,
    hasNext: offset + limit < count,
  };
}

/** Return an offset on a page that exists once the list holds `count` items. */
export function clampOffset(offset: number, limit: number, count: number): number {
  if (offset < count || offset === 0) return offset;
  return Math.max(0, Math.floor((count - 1) / limit) * limit);
}
