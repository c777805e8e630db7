/** The connection form without React: controls from a kind's JSON Schema, drafts, request bodies, errors by field. */

import type {
  Connection,
  ConnectionCreate,
  ConnectionKind,
  ConnectionPatch,
  KindFieldSchema,
  SecretSource,
} from '../api/connections';
import type { ApiErrorItem } from '../api/types';

/** How one non-secret field is edited. */
export interface FieldControl {
  name: string;
  label: string;
  control: 'text' | 'number' | 'checkbox' | 'select';
  required: boolean;
  /** A select's values; `''` first when the field may be left unset. */
  options?: string[];
  hint?: string;
  /** An example value (a description that is one word, such as a URL). */
  placeholder?: string;
  min?: number;
  max?: number;
  maxLength?: number;
}

// Names the generic rule ("use_tls" → "Use tls") would spell badly.
const LABELS: Record<string, string> = {
  base_url: 'Base URL',
  url: 'URL',
  dbname: 'Database',
  sslmode: 'SSL mode',
  use_tls: 'Use TLS',
  api_key: 'API key',
  webhook_url: 'Webhook URL',
  from_email: 'From address',
};

/** Return how a field or secret is labelled: "base_url" → "Base URL". */
export function labelOf(name: string): string {
  const known = LABELS[name];
  if (known) return known;
  const words = name.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function controlOf(name: string, schema: KindFieldSchema, required: boolean): FieldControl {
  // A description of one word is an example value ("https://api.example.com/v1").
  const example = schema.description !== undefined && !/\s/.test(schema.description.trim());
  const base = {
    name,
    label: labelOf(name),
    required,
    hint: example ? undefined : schema.description,
    placeholder: example ? schema.description : undefined,
  };
  if (schema.type === 'boolean') return { ...base, control: 'checkbox', required: false };
  if (schema.type === 'integer') return { ...base, control: 'number', min: schema.minimum, max: schema.maximum };
  if (Array.isArray(schema.enum)) {
    // Without a default or a requirement the field may stay unset: offer "" first.
    const unset = schema.default === undefined && !required;
    return { ...base, control: 'select', options: unset ? ['', ...schema.enum] : [...schema.enum] };
  }
  return { ...base, control: 'text', maxLength: schema.maxLength };
}

/** Return the controls of a kind's fields, required ones first, else in the kind's order. */
export function kindControls(kind: ConnectionKind): FieldControl[] {
  const required = new Set(kind.required);
  const controls = Object.entries(kind.fields).map(([name, schema]) => controlOf(name, schema, required.has(name)));
  return [...controls.filter((c) => c.required), ...controls.filter((c) => !c.required)];
}

/** What the form holds: every value as typed. */
export interface Draft {
  name: string;
  kind: string;
  description: string;
  team: string; // '' = no team
  source: SecretSource;
  secretPath: string;
  fields: Record<string, string | boolean>;
  /** Secrets typed in this form; never filled from the server. */
  secrets: Record<string, string>;
  /** Secrets to remove on save (an edit only). */
  removed: string[];
}

function typedValue(schema: KindFieldSchema, value: unknown): string | boolean {
  if (schema.type === 'boolean') return value === true;
  if (value === undefined || value === null) return '';
  return String(value);
}

/** Return a new connection's draft of `kind`, its fields at their defaults. */
export function emptyDraft(kind: ConnectionKind, team = ''): Draft {
  const fields = Object.fromEntries(
    Object.entries(kind.fields).map(([name, schema]) => [name, typedValue(schema, schema.default)]),
  );
  return { name: '', kind: kind.name, description: '', team, source: 'stored', secretPath: '', fields, secrets: {}, removed: [] };
}

/** Return the draft that edits `connection` (no secret: they are never read back). */
export function draftOf(connection: Connection, kind: ConnectionKind): Draft {
  const fields = Object.fromEntries(
    Object.entries(kind.fields).map(([name, schema]) => [name, typedValue(schema, connection.fields[name] ?? schema.default)]),
  );
  return {
    name: connection.name,
    kind: connection.kind,
    description: connection.description,
    team: connection.owner_group ?? '',
    source: connection.secret_source,
    secretPath: connection.secret_path,
    fields,
    secrets: {},
    removed: [],
  };
}

/** Return the problems the browser can see before sending: {"fields.port": "..."}. */
export function draftProblems(draft: Draft, kind: ConnectionKind): Record<string, string> {
  const problems: Record<string, string> = {};
  for (const control of kindControls(kind)) {
    if (control.control !== 'number') continue;
    const text = String(draft.fields[control.name] ?? '').trim();
    if (text === '') continue;
    const number = Number(text);
    const key = `fields.${control.name}`;
    if (!Number.isInteger(number)) problems[key] = 'Enter a whole number.';
    else if (control.min !== undefined && number < control.min) problems[key] = `At least ${control.min}.`;
    else if (control.max !== undefined && number > control.max) problems[key] = `At most ${control.max}.`;
  }
  return problems;
}

/** Return the fields as the API takes them: unset ones left out, integers as numbers. */
export function fieldsOf(draft: Draft, kind: ConnectionKind): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(kind.fields)) {
    const value = draft.fields[name];
    if (schema.type === 'boolean') {
      out[name] = value === true;
      continue;
    }
    const text = typeof value === 'string' ? value.trim() : '';
    if (text === '') continue;
    out[name] = schema.type === 'integer' ? Number(text) : text;
  }
  return out;
}

/** Return the body that creates the draft's connection. */
export function createBody(draft: Draft, kind: ConnectionKind): ConnectionCreate {
  const stored = draft.source === 'stored';
  const secrets = stored
    ? Object.fromEntries(kind.secrets.flatMap((name) => (draft.secrets[name] ? [[name, draft.secrets[name]]] : [])))
    : {};
  return {
    name: draft.name.trim(),
    kind: kind.name,
    description: draft.description,
    ...(draft.team ? { owner_group: draft.team } : {}),
    fields: fieldsOf(draft, kind),
    secrets,
    secret_source: draft.source,
    secret_path: stored ? '' : draft.secretPath.trim(),
  };
}

/** Return the change: every field, and only the secrets typed (replaced) or removed (""). */
export function patchBody(draft: Draft, kind: ConnectionKind): ConnectionPatch {
  const patch: ConnectionPatch = { description: draft.description, fields: fieldsOf(draft, kind) };
  if (draft.source !== 'stored') return patch;
  const secrets: Record<string, string> = {};
  for (const name of kind.secrets) {
    if (draft.removed.includes(name)) secrets[name] = '';
    else if (draft.secrets[name]) secrets[name] = draft.secrets[name];
  }
  if (Object.keys(secrets).length > 0) patch.secrets = secrets;
  return patch;
}

export type SecretStatus = 'set' | 'not set' | 'from env' | 'from vault';

/** Say where a connection's secret stands, without its value. */
export function secretStatus(connection: Pick<Connection, 'secret_source' | 'secrets'>, name: string): SecretStatus {
  if (connection.secret_source === 'env') return 'from env';
  if (connection.secret_source === 'vault') return 'from vault';
  return connection.secrets[name] === true ? 'set' : 'not set';
}

/** Return the environment variable a worker reads a secret from (designer.connections.EnvSecrets). */
export function envVariable(name: string, secretPath: string, secret: string): string {
  const prefix = (secretPath.trim() || name.trim() || '<name>').toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return `SWITCHYARD_SECRET_${prefix}_${secret.toUpperCase()}`;
}

const FORM_KEYS = new Set(['name', 'kind', 'description', 'owner_group', 'secret_source', 'secret_path']);
// "fields.port: from 1 to 65535" (the service names the field in its message).
const NAMED = /^((?:fields|secrets)\.[a-z0-9_]+|name|kind|secret_source|secret_path): (.+)$/;

/** Split the server's errors into those under a form field ({"fields.port": [...]}) and the rest. */
export function errorsByField(errors: readonly ApiErrorItem[]): {
  byField: Record<string, string[]>;
  other: ApiErrorItem[];
} {
  const byField: Record<string, string[]> = {};
  const other: ApiErrorItem[] = [];
  const add = (key: string, message: string) => (byField[key] ??= []).push(message);
  for (const error of errors) {
    const named = NAMED.exec(error.message);
    if (error.field && (FORM_KEYS.has(error.field) || /^(fields|secrets)\./.test(error.field))) {
      add(error.field, error.message);
    } else if (error.code === 'connection_exists') {
      add('name', `${error.message}; pick another name.`);
    } else if (named) {
      add(named[1]!, named[2]!);
    } else {
      other.push(error);
    }
  }
  return { byField, other };
}
