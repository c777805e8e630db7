/** Merge local and server validation issues and pin them on nodes and edges (no React). */

import type { ApiErrorItem } from '../api/types';
import type { Issue } from '../graph';

export type IssueLevel = 'error' | 'warning';
export type IssueSource = 'local' | 'server';

export interface PinnedIssue {
  code: string;
  message: string;
  node_id?: string;
  edge_id?: string;
  level: IssueLevel;
  source: IssueSource;
}

/** What a node or an edge shows: counts and the messages for its tooltip. */
export interface Mark {
  errors: number;
  warnings: number;
  title: string;
}

export interface Marks {
  nodes: ReadonlyMap<string, Mark>;
  edges: ReadonlyMap<string, Mark>;
}

export interface IssueLists {
  errors: readonly (Issue | ApiErrorItem)[];
  warnings: readonly (Issue | ApiErrorItem)[];
}

const keyOf = (issue: { code: string; node_id?: string | null; edge_id?: string | null }) =>
  `${issue.code}|${issue.node_id ?? ''}|${issue.edge_id ?? ''}`;

function pin(issue: Issue | ApiErrorItem, level: IssueLevel, source: IssueSource): PinnedIssue {
  const pinned: PinnedIssue = { code: issue.code, message: issue.message, level, source };
  if (issue.node_id) pinned.node_id = issue.node_id;
  if (issue.edge_id) pinned.edge_id = issue.edge_id;
  return pinned;
}

/**
 * Return the server's issues first (they are authoritative), then the local ones the
 * server did not report; errors before warnings.
 */
export function mergeIssues(local: IssueLists | null, server: IssueLists | null): PinnedIssue[] {
  const seen = new Set<string>();
  const out: PinnedIssue[] = [];
  const add = (items: readonly (Issue | ApiErrorItem)[] | undefined, level: IssueLevel, source: IssueSource) => {
    for (const item of items ?? []) {
      const key = `${level}|${keyOf(item)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(pin(item, level, source));
    }
  };
  add(server?.errors, 'error', 'server');
  add(local?.errors, 'error', 'local');
  add(server?.warnings, 'warning', 'server');
  add(local?.warnings, 'warning', 'local');
  return out;
}

/** Count the issues per node and per edge. */
export function marksOf(issues: readonly PinnedIssue[]): Marks {
  const nodes = new Map<string, Mark>();
  const edges = new Map<string, Mark>();
  const bump = (map: Map<string, Mark>, id: string, issue: PinnedIssue) => {
    const mark = map.get(id) ?? { errors: 0, warnings: 0, title: '' };
    if (issue.level === 'error') mark.errors += 1;
    else mark.warnings += 1;
    mark.title = mark.title ? `${mark.title}\n${issue.message}` : issue.message;
    map.set(id, mark);
  };
  for (const issue of issues) {
    if (issue.node_id) bump(nodes, issue.node_id, issue);
    if (issue.edge_id) bump(edges, issue.edge_id, issue);
  }
  return { nodes, edges };
}

/** Return the test id of an issue row: issue-<code>-<node or edge id>, or issue-<code>. */
export function issueTestId(issue: PinnedIssue): string {
  const target = issue.node_id ?? issue.edge_id;
  return target ? `issue-${issue.code}-${target}` : `issue-${issue.code}`;
}

export function countLevels(issues: readonly PinnedIssue[]): { errors: number; warnings: number } {
  let errors = 0;
  for (const issue of issues) if (issue.level === 'error') errors += 1;
  return { errors, warnings: issues.length - errors };
}
