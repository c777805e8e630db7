/** Tests for which connections a task's connection param offers. */

import { describe, expect, it } from 'vitest';
import type { Connection } from '../api/connections';
import { choiceLabel, connectionKinds, teamOf, usableConnections } from './connectionChoices';

const connection = (name: string, kind: string, team: string | null): Connection => ({
  id: name.length,
  name,
  kind,
  description: '',
  owner_group: team,
  fields: {},
  secret_source: 'stored',
  secret_path: '',
  secrets: {},
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
});

const ALL = [
  connection('shared-api', 'http', null),
  connection('risk-api', 'http', 'risk'),
  connection('billing-api', 'http', 'payments'),
  connection('alerts', 'slack', 'payments'),
];

describe('connectionKinds', () => {
  it('reads the kinds of a connection param, null for any other param', () => {
    expect(connectionKinds({ type: 'string', 'x-connection': ['http'] })).toEqual(['http']);
    expect(connectionKinds({ type: 'string', 'x-connection': [] })).toEqual([]);
    expect(connectionKinds({ type: 'string' })).toBeNull();
  });
});

describe('usableConnections', () => {
  it('offers the kinds the action takes, of the workflow team or of none, by name', () => {
    expect(usableConnections(ALL, ['http'], 'payments').map((c) => c.name)).toEqual(['billing-api', 'shared-api']);
  });

  it('offers only connections of no team to a workflow of no team', () => {
    expect(usableConnections(ALL, ['http', 'slack'], null).map((c) => c.name)).toEqual(['shared-api']);
  });

  it('offers every team while the workflow is not read, and every kind for none named', () => {
    expect(usableConnections(ALL, [], undefined).map((c) => c.name)).toEqual(['alerts', 'billing-api', 'risk-api', 'shared-api']);
  });
});

describe('choiceLabel', () => {
  it('names the team, and the kind when the param takes several', () => {
    expect(choiceLabel(ALL[2]!, ['http'])).toBe('billing-api (payments)');
    expect(choiceLabel(ALL[0]!, ['http', 'slack'])).toBe('shared-api · http');
  });
});

describe('teamOf', () => {
  it('reads the owner_group of the workflow as the API shows it', () => {
    expect(teamOf({ slug: 'a', owner_group: 'payments' })).toBe('payments');
    expect(teamOf({ slug: 'a', owner_group: null })).toBeNull();
    expect(teamOf({ slug: 'a' })).toBeUndefined();
    expect(teamOf(null)).toBeUndefined();
  });
});
