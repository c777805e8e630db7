/** Tests for the connection form's controls, drafts, request bodies and error placement. */

import { describe, expect, it } from 'vitest';
import type { Connection, ConnectionKind } from '../api/connections';
import {
  createBody,
  draftOf,
  draftProblems,
  emptyDraft,
  envVariable,
  errorsByField,
  kindControls,
  labelOf,
  patchBody,
  secretStatus,
} from './connectionForm';

const TEXT = { type: 'string', maxLength: 2000 } as const;

// As engine/connections.py describes them.
const HTTP: ConnectionKind = {
  name: 'http',
  title: 'HTTP API',
  fields: {
    base_url: { ...TEXT, description: 'https://api.example.com/v1' },
    auth: { type: 'string', enum: ['none', 'bearer', 'basic', 'api_key'], default: 'none' },
    username: { ...TEXT, description: 'For basic auth' },
    header: { ...TEXT, description: 'For api_key auth: the header, e.g. X-API-Key' },
  },
  secrets: ['token', 'password', 'api_key'],
  required: ['base_url'],
  required_secrets: [],
};

const POSTGRES: ConnectionKind = {
  name: 'postgres',
  title: 'PostgreSQL database',
  fields: {
    host: TEXT,
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    dbname: TEXT,
    user: TEXT,
    sslmode: { type: 'string', enum: ['disable', 'prefer', 'require', 'verify-full'] },
    read_only: { type: 'boolean', default: true },
  },
  secrets: ['password'],
  required: ['host', 'dbname', 'user'],
  required_secrets: [],
};

const connection = (over: Partial<Connection> = {}): Connection => ({
  id: 7,
  name: 'billing-api',
  kind: 'http',
  description: 'The billing service',
  owner_group: 'payments',
  fields: { base_url: 'https://billing.example.com', auth: 'bearer' },
  secret_source: 'stored',
  secret_path: '',
  secrets: { token: true, password: false, api_key: false },
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
  ...over,
});

describe('kindControls', () => {
  it('draws enums as selects, booleans as checkboxes, integers as numbers, required fields first', () => {
    const controls = kindControls(POSTGRES);
    expect(controls.map((c) => [c.name, c.control, c.required])).toEqual([
      ['host', 'text', true],
      ['dbname', 'text', true],
      ['user', 'text', true],
      ['port', 'number', false],
      ['sslmode', 'select', false],
      ['read_only', 'checkbox', false],
    ]);
    expect(controls.find((c) => c.name === 'port')).toMatchObject({ min: 1, max: 65535 });
  });

  it('offers an empty choice only for an enum without a default', () => {
    const sslmode = kindControls(POSTGRES).find((c) => c.name === 'sslmode');
    const auth = kindControls(HTTP).find((c) => c.name === 'auth');
    expect(sslmode?.options).toEqual(['', 'disable', 'prefer', 'require', 'verify-full']);
    expect(auth?.options).toEqual(['none', 'bearer', 'basic', 'api_key']);
  });

  it('keeps the schema description as the hint, or as the placeholder when it is one word', () => {
    const controls = kindControls(HTTP);
    expect(controls.find((c) => c.name === 'username')).toMatchObject({ hint: 'For basic auth', placeholder: undefined });
    expect(controls.find((c) => c.name === 'base_url')).toMatchObject({
      hint: undefined,
      placeholder: 'https://api.example.com/v1',
    });
  });
});

describe('labelOf', () => {
  it('spells known names and capitalizes the others', () => {
    expect(labelOf('base_url')).toBe('Base URL');
    expect(labelOf('api_key')).toBe('API key');
    expect(labelOf('read_only')).toBe('Read only');
  });
});

describe('drafts and bodies', () => {
  it('starts a new connection at the defaults', () => {
    expect(emptyDraft(POSTGRES).fields).toEqual({
      host: '',
      port: '',
      dbname: '',
      user: '',
      sslmode: '',
      read_only: true,
    });
  });

  it('creates with typed values: integers as numbers, unset fields and empty secrets left out', () => {
    const draft = emptyDraft(POSTGRES, 'data');
    draft.name = ' reports ';
    draft.fields = { ...draft.fields, host: 'db.internal', port: '5432', dbname: 'reports', user: 'ro' };
    draft.secrets = { password: 's3cret-value' };
    expect(createBody(draft, POSTGRES)).toEqual({
      name: 'reports',
      kind: 'postgres',
      description: '',
      owner_group: 'data',
      fields: { host: 'db.internal', port: 5432, dbname: 'reports', user: 'ro', read_only: true },
      secrets: { password: 's3cret-value' },
      secret_source: 'stored',
      secret_path: '',
    });
  });

  it('sends no secrets and no team for a connection of no team whose secrets live in the environment', () => {
    const draft = { ...emptyDraft(HTTP), name: 'api', source: 'env' as const, secretPath: 'prod-api', secrets: { token: 'x' } };
    const body = createBody(draft, HTTP);
    expect(body.secrets).toEqual({});
    expect(body.secret_path).toBe('prod-api');
    expect('owner_group' in body).toBe(false);
  });

  it('edits without the secrets: kept unless typed or removed', () => {
    const draft = draftOf(connection(), HTTP);
    expect(draft.secrets).toEqual({});
    expect(draft.team).toBe('payments');
    expect(patchBody(draft, HTTP)).toEqual({
      description: 'The billing service',
      fields: { base_url: 'https://billing.example.com', auth: 'bearer' },
    });
    const changed = { ...draft, secrets: { password: 'new-one' }, removed: ['token'] };
    expect(patchBody(changed, HTTP).secrets).toEqual({ token: '', password: 'new-one' });
  });

  it('fills a field the connection lacks from its default', () => {
    const draft = draftOf(connection({ fields: { base_url: 'https://x' } }), HTTP);
    expect(draft.fields.auth).toBe('none');
  });

  it('finds a port that is no whole number or out of range before sending', () => {
    const draft = emptyDraft(POSTGRES);
    expect(draftProblems({ ...draft, fields: { ...draft.fields, port: '54.5' } }, POSTGRES)).toEqual({
      'fields.port': 'Enter a whole number.',
    });
    expect(draftProblems({ ...draft, fields: { ...draft.fields, port: '70000' } }, POSTGRES)).toEqual({
      'fields.port': 'At most 65535.',
    });
    expect(draftProblems({ ...draft, fields: { ...draft.fields, port: '' } }, POSTGRES)).toEqual({});
  });
});

describe('secretStatus', () => {
  it('says set, not set, from env or from vault, never a value', () => {
    expect(secretStatus(connection(), 'token')).toBe('set');
    expect(secretStatus(connection(), 'password')).toBe('not set');
    expect(secretStatus(connection({ secret_source: 'env', secrets: { token: null } }), 'token')).toBe('from env');
    expect(secretStatus(connection({ secret_source: 'vault', secrets: { token: null } }), 'token')).toBe('from vault');
  });
});

describe('envVariable', () => {
  it('names the variable the workers read, from the path or else the name', () => {
    expect(envVariable('billing-api', '', 'token')).toBe('SWITCHYARD_SECRET_BILLING_API_TOKEN');
    expect(envVariable('billing-api', 'prod.billing', 'api_key')).toBe('SWITCHYARD_SECRET_PROD_BILLING_API_KEY');
  });
});

describe('errorsByField', () => {
  it('puts each server error under the field it names and keeps the rest', () => {
    const { byField, other } = errorsByField([
      { code: 'bad_connection', message: 'fields.base_url: required for http' },
      { code: 'bad_connection', message: 'secrets.webhook_url: required for slack' },
      { code: 'max_length', message: 'Ensure this field has no more than 64 characters.', field: 'name' },
      { code: 'not_member', message: "you are not in 'ops'", field: 'owner_group' },
      { code: 'connection_exists', message: "a connection 'api' exists" },
      { code: 'permission_denied', message: 'You do not have permission.' },
    ]);
    expect(byField).toEqual({
      'fields.base_url': ['required for http'],
      'secrets.webhook_url': ['required for slack'],
      name: ['Ensure this field has no more than 64 characters.', "a connection 'api' exists; pick another name."],
      owner_group: ["you are not in 'ops'"],
    });
    expect(other.map((e) => e.code)).toEqual(['permission_denied']);
  });
});
