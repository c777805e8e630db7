/** Which connections a task's `connection` param may name (no React): of a kind its action takes, of the workflow's team or none. */

import type { Connection } from '../api/connections';

/** The schema key that marks a connection param with the kinds it takes (designer/connections.py). */
export const CONNECTION_KINDS_KEY = 'x-connection';

/** Return the kinds a param's schema takes, or null when it is no connection param ([]: any kind). */
export function connectionKinds(schema: Record<string, unknown>): string[] | null {
  const kinds = schema[CONNECTION_KINDS_KEY];
  if (!Array.isArray(kinds)) return null;
  return kinds.filter((kind): kind is string => typeof kind === 'string');
}

/**
 * Return the connections a param may name, by name: of one of `kinds` (any for none),
 * and of no team or the workflow's (`team`: null for a workflow of no team,
 * undefined while it is not known, which keeps every team's).
 */
export function usableConnections(connections: readonly Connection[], kinds: readonly string[], team: string | null | undefined): Connection[] {
  return connections
    .filter((c) => kinds.length === 0 || kinds.includes(c.kind))
    .filter((c) => team === undefined || c.owner_group === null || c.owner_group === team)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Return how a connection is offered: "billing-api", "· http" when kinds differ, "(payments)" for a team's. */
export function choiceLabel(connection: Connection, kinds: readonly string[]): string {
  const kind = kinds.length === 1 ? '' : ` · ${connection.kind}`;
  const team = connection.owner_group ? ` (${connection.owner_group})` : '';
  return `${connection.name}${kind}${team}`;
}

/** Return the team of a workflow as the API shows it (`owner_group`), or undefined when unread. */
export function teamOf(workflow: object | null): string | null | undefined {
  if (workflow === null || !('owner_group' in workflow)) return undefined;
  const team = (workflow as { owner_group: unknown }).owner_group;
  return typeof team === 'string' ? team : null;
}
