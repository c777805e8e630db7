/**
 * The Runs page's search: read it from and write it to the address bar, turn it into
 * the run list's query and a bulk job's filter, and place the server's 400 errors
 * next to the fields they name (plain TypeScript, no React).
 */

import type { ApiErrorItem } from '../api/types';

/** The search fields, as the run list API names them (runs/run_filters.py). */
export const SEARCH_FIELDS = [
  'q',
  'workflow',
  'state',
  'version',
  'trigger',
  'key',
  'error_type',
  'started_after',
  'started_before',
] as const;

export type SearchField = (typeof SEARCH_FIELDS)[number];

export interface RunSearch {
  fields: Record<SearchField, string>;
  /** `input.<path>` filters, as [path, value] pairs (path without "input."). */
  inputs: [string, string][];
}

export const PAGE_SIZE = 50;

export function emptySearch(): RunSearch {
  const fields = Object.fromEntries(SEARCH_FIELDS.map((name) => [name, ''])) as Record<SearchField, string>;
  return { fields, inputs: [] };
}

/** Read the search and the page offset from a location's query string. */
export function readSearch(query: string): { search: RunSearch; offset: number } {
  const params = new URLSearchParams(query);
  const search = emptySearch();
  for (const name of SEARCH_FIELDS) search.fields[name] = params.get(name) ?? '';
  for (const [name, value] of params) {
    if (name.startsWith('input.') && name.length > 'input.'.length) search.inputs.push([name.slice(6), value]);
  }
  const offset = Number(params.get('offset') ?? '0');
  return { search, offset: Number.isInteger(offset) && offset > 0 ? offset : 0 };
}

/** Return the search as filter parameters: only the fields set, trimmed. */
export function filterParams(search: RunSearch): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of SEARCH_FIELDS) {
    const value = search.fields[name].trim();
    if (value) out[name] = value;
  }
  for (const [path, value] of search.inputs) {
    const key = path.trim();
    if (key) out[`input.${key}`] = value.trim();
  }
  return out;
}

/** Say whether the search filters at all (a bulk job needs a filter). */
export function isFiltered(search: RunSearch): boolean {
  return Object.keys(filterParams(search)).length > 0;
}

/** The query string of the address bar: the filters, and the offset past page one. */
export function writeSearch(search: RunSearch, offset: number): string {
  const params = new URLSearchParams(filterParams(search));
  if (offset > 0) params.set('offset', String(offset));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The run list API's query string for one page of the search. */
export function listQuery(search: RunSearch, offset: number, limit = PAGE_SIZE): string {
  const params = new URLSearchParams(filterParams(search));
  params.set('limit', String(limit));
  params.set('offset', String(offset));
  return params.toString();
}

/**
 * Read one "path=value" input condition as the form writes it ("customer.country=DE"),
 * or null when it has no "=" or no path.
 */
export function parseInputCondition(text: string): [string, string] | null {
  const eq = text.indexOf('=');
  if (eq <= 0) return null;
  const path = text.slice(0, eq).trim().replace(/^input\./, '');
  return path ? [path, text.slice(eq + 1).trim()] : null;
}

export function formatInputCondition(inputs: [string, string][]): string {
  return inputs.map(([path, value]) => `${path}=${value}`).join('; ');
}

/** Read the form's input conditions, separated by ";". */
export function parseInputConditions(text: string): [string, string][] | null {
  const parts = text.split(';').map((p) => p.trim()).filter(Boolean);
  const out: [string, string][] = [];
  for (const part of parts) {
    const parsed = parseInputCondition(part);
    if (parsed === null) return null;
    out.push(parsed);
  }
  return out;
}

/**
 * Split the server's errors into those naming a search field ("state: unknown
 * state 'x'", or `field: "filter.state"`) and the rest. `input.<path>` errors
 * belong to the input field.
 */
export function errorsByField(errors: ApiErrorItem[]): { fields: Partial<Record<SearchField | 'input', string>>; other: ApiErrorItem[] } {
  const fields: Partial<Record<SearchField | 'input', string>> = {};
  const other: ApiErrorItem[] = [];
  for (const error of errors) {
    const named = fieldOf(error);
    if (named !== null && fields[named] === undefined) fields[named] = error.message;
    else other.push(error);
  }
  return { fields, other };
}

function fieldOf(error: ApiErrorItem): SearchField | 'input' | null {
  const fromField = error.field?.replace(/^filter\./, '') ?? '';
  const fromMessage = /^([a-z_]+(?:\.[\w.-]+)?):\s/.exec(error.message)?.[1] ?? '';
  for (const candidate of [fromField, fromMessage]) {
    if (candidate.startsWith('input.') || candidate === 'input') return 'input';
    if ((SEARCH_FIELDS as readonly string[]).includes(candidate)) return candidate as SearchField;
  }
  return null;
}

/** An ISO time as the value of a datetime-local input (local time, minutes). */
export function toLocalInput(iso: string): string {
  if (!iso) return '';
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

/** A datetime-local value (local time) as an ISO time in UTC, or "" when empty or bad. */
export function fromLocalInput(value: string): string {
  if (!value) return '';
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? '' : at.toISOString();
}
