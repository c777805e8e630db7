/** Schedule endpoints: list, create, change, delete, pause, resume, preview, backfill, fires. */

import { api, apiFetch } from './client';
import type { Page } from './types';

export type ScheduleKind = 'cron' | 'interval';
export type OverlapPolicy = 'skip' | 'queue' | 'allow' | 'cancel_previous';
export type CatchupPolicy = 'none' | 'latest' | 'all';
export type ScheduleState = 'active' | 'paused';

/** What a schedule is made of, as it is sent (`POST .../schedules/`, `PATCH`). */
export interface ScheduleInput {
  name: string;
  kind: ScheduleKind;
  cron: string;
  interval_s: number | null;
  timezone: string;
  input: Record<string, unknown>;
  overlap: OverlapPolicy;
  catchup: CatchupPolicy;
  catchup_limit: number;
}

export interface Schedule extends ScheduleInput {
  id: number;
  workflow: string; // slug
  state: ScheduleState;
  trigger: string; // "schedule:<id>"
  next_fire_at: string | null; // null while paused
  last_slot_at: string | null;
  next_fire_times: string[]; // empty while paused
  created_at: string;
  updated_at: string;
}

/** The timetable part of a schedule, enough to preview its next fire times. */
export type TimetableInput = Pick<ScheduleInput, 'kind' | 'cron' | 'interval_s' | 'timezone'>;

export type FireState = 'pending' | 'queued' | 'backfill' | 'started' | 'skipped' | 'failed';

/** One slot the scheduler considered. */
export interface ScheduleFire {
  id: number;
  slot_at: string;
  state: FireState;
  run: number | null;
  reason: string;
  created_at: string;
}

/** `202` answer of a backfill: slots queued, started at `rate_per_s`. */
export interface BackfillAnswer {
  slots: number;
  rate_per_s: number;
}

const workflowSchedules = (slug: string) => `/api/v1/workflows/${encodeURIComponent(slug)}/schedules/`;
const schedulePath = (id: number) => `/api/v1/schedules/${id}/`;

export function listSchedules(slug: string, signal?: AbortSignal): Promise<{ results: Schedule[] }> {
  return api.get<{ results: Schedule[] }>(workflowSchedules(slug), signal);
}

export function createSchedule(slug: string, body: ScheduleInput): Promise<Schedule> {
  return api.post<Schedule>(workflowSchedules(slug), body);
}

export function updateSchedule(id: number, patch: Partial<ScheduleInput>): Promise<Schedule> {
  return apiFetch<Schedule>(schedulePath(id), { method: 'PATCH', body: patch });
}

export function deleteSchedule(id: number): Promise<void> {
  return apiFetch<void>(schedulePath(id), { method: 'DELETE' });
}

export function pauseSchedule(id: number): Promise<Schedule> {
  return api.post<Schedule>(`${schedulePath(id)}pause/`, {});
}

export function resumeSchedule(id: number): Promise<Schedule> {
  return api.post<Schedule>(`${schedulePath(id)}resume/`, {});
}

/** Queue the slots of a past range (ISO times); they start at a bounded rate. */
export function backfillSchedule(id: number, start: string, end: string): Promise<BackfillAnswer> {
  return api.post<BackfillAnswer>(`${schedulePath(id)}backfill/`, { start, end });
}

export function listFires(id: number, limit = 20, signal?: AbortSignal): Promise<Page<ScheduleFire>> {
  return api.get<Page<ScheduleFire>>(`${schedulePath(id)}fires/?limit=${limit}&offset=0`, signal);
}

/** The next 5 fire times of an unsaved timetable; a 400 ApiError says what is wrong. */
export function previewTimetable(timetable: TimetableInput, signal?: AbortSignal): Promise<{ next: string[] }> {
  return api.post<{ next: string[] }>('/api/v1/schedules/preview/', timetable, signal);
}
