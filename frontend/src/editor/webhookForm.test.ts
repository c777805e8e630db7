/** Tests for the webhook form: checks, the fields a change sends, where server errors go, the URL and the signing example. */

import { execFileSync, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Webhook } from '../api/webhooks';
import { bodyFields, changedFields, emptyForm, exampleBody, formOf, placeErrors, shellQuote, signingExample, webhookOf, webhookUrl } from './webhookForm';

const saved: Webhook = {
  id: 3,
  workflow: 'orders',
  name: 'Shop orders',
  url: '/hooks/abc_DEF-123/',
  trigger: 'webhook:3',
  input_mapping: '{"order": input.body.order_id}',
  idempotency_field: 'delivery.id',
  message: '',
  state: 'active',
  created_at: '2025-01-06T09:00:00Z',
  rotated_at: null,
  last_delivery_at: null,
};

describe('webhookOf', () => {
  it('sends the trimmed fields', () => {
    const parsed = webhookOf({ name: '  Shop orders ', inputMapping: ' {"order": input.body.order_id}\n', idempotencyField: ' delivery.id ', message: '' });
    expect(parsed).toEqual({ ok: true, value: { name: 'Shop orders', input_mapping: '{"order": input.body.order_id}', idempotency_field: 'delivery.id', message: '' } });
  });

  it('takes empty optional fields', () => {
    expect(webhookOf({ ...emptyForm(), name: 'x' })).toEqual({ ok: true, value: { name: 'x', input_mapping: '', idempotency_field: '', message: '' } });
  });

  it('needs a name of at most 200 characters', () => {
    expect(webhookOf(emptyForm())).toEqual({ ok: false, errors: { name: 'Give the webhook a name.' } });
    expect(webhookOf({ ...emptyForm(), name: 'n'.repeat(201) })).toEqual({ ok: false, errors: { name: 'At most 200 characters.' } });
  });

  it('refuses a mapping over the server limit', () => {
    const parsed = webhookOf({ ...emptyForm(), name: 'x', inputMapping: 'a'.repeat(2001) });
    expect(parsed).toEqual({ ok: false, errors: { inputMapping: 'At most 2000 characters.' } });
  });

  it('needs a dotted path of names as the idempotency field', () => {
    for (const bad of ['delivery..id', '.id', 'delivery.', 'order-id', '1st', 'a b']) {
      const parsed = webhookOf({ ...emptyForm(), name: 'x', idempotencyField: bad });
      expect(parsed.ok, bad).toBe(false);
    }
    for (const good of ['id', 'delivery.id', '_meta.event_id2']) {
      expect(webhookOf({ ...emptyForm(), name: 'x', idempotencyField: good }).ok, good).toBe(true);
    }
  });

  it('takes a message name the server takes, and refuses others', () => {
    const ok = webhookOf({ ...emptyForm(), name: 'x', message: ' payment.confirmed ' });
    expect(ok.ok && ok.value.message).toBe('payment.confirmed');
    for (const bad of ['bad name', '-lead', 'n'.repeat(101)]) {
      const parsed = webhookOf({ ...emptyForm(), name: 'x', message: bad });
      expect(parsed.ok ? null : Object.keys(parsed.errors), bad).toEqual(['message']);
    }
  });
});

describe('changedFields', () => {
  it('sends only what differs', () => {
    const next = webhookOf({ ...formOf(saved), name: 'Shop orders v2' });
    expect(next.ok && changedFields(saved, next.value)).toEqual({ name: 'Shop orders v2' });
  });

  it('sends nothing when nothing changed', () => {
    const same = webhookOf(formOf(saved));
    expect(same.ok && changedFields(saved, same.value)).toEqual({});
  });

  it('sends a cleared mapping', () => {
    const next = webhookOf({ ...formOf(saved), inputMapping: '' });
    expect(next.ok && changedFields(saved, next.value)).toEqual({ input_mapping: '' });
  });
});

describe('placeErrors', () => {
  it('puts the mapping and idempotency codes under their fields, without the field prefix', () => {
    const placed = placeErrors([
      { code: 'bad_mapping', message: 'input_mapping: undeclared reference to "inptu"' },
      { code: 'bad_idempotency_field', message: 'idempotency_field: a dotted path of names, e.g. delivery.id' },
      { code: 'bad_message', message: "message: 1 to 100 letters, digits, '_', '.', ':' or '-'" },
      { code: 'max_length', message: 'Ensure this field has no more than 200 characters.', field: 'name' },
    ]);
    expect(placed.fields).toEqual({
      inputMapping: 'undeclared reference to "inptu"',
      idempotencyField: 'a dotted path of names, e.g. delivery.id',
      message: "1 to 100 letters, digits, '_', '.', ':' or '-'",
      name: 'Ensure this field has no more than 200 characters.',
    });
    expect(placed.rest).toEqual([]);
  });

  it('keeps the others, and a second error of one field, as a list', () => {
    const forbidden = { code: 'permission_denied', message: 'You do not have permission.' };
    const second = { code: 'blank', message: 'second', field: 'name' };
    const placed = placeErrors([{ code: 'blank', message: 'first', field: 'name' }, second, forbidden]);
    expect(placed.fields).toEqual({ name: 'first' });
    expect(placed.rest).toEqual([second, forbidden]);
  });
});

describe('webhookUrl', () => {
  it('joins the origin and the path once', () => {
    expect(webhookUrl('http://127.0.0.1:8000', '/hooks/abc/')).toBe('http://127.0.0.1:8000/hooks/abc/');
    expect(webhookUrl('https://sw.example.com/', '/hooks/abc/')).toBe('https://sw.example.com/hooks/abc/');
    expect(webhookUrl('https://sw.example.com', 'hooks/abc/')).toBe('https://sw.example.com/hooks/abc/');
  });
});

describe('example body', () => {
  it('names the body fields the mapping reads, once each', () => {
    expect(bodyFields('{"order": input.body.order_id, "again": input.body.order_id, "who": input.body.customer.name}')).toEqual(['order_id', 'customer']);
    expect(bodyFields('{"h": input.headers["x-event-type"]}')).toEqual([]);
  });

  it('holds those fields and the idempotency path', () => {
    expect(JSON.parse(exampleBody(saved))).toEqual({ order_id: 'example', delivery: { id: 'delivery-1' } });
    expect(JSON.parse(exampleBody({ input_mapping: '', idempotency_field: '', message: '' }))).toEqual({ hello: 'world' });
    expect(JSON.parse(exampleBody({ input_mapping: '', idempotency_field: 'id', message: '' }))).toEqual({ id: 'delivery-1' });
  });

  it('holds the key and payload a message webhook without a mapping needs', () => {
    expect(JSON.parse(exampleBody({ input_mapping: '', idempotency_field: '', message: 'paid' }))).toEqual({ key: '42', payload: {} });
    expect(JSON.parse(exampleBody({ input_mapping: '{"key": input.body.order_id, "payload": input.body}', idempotency_field: '', message: 'paid' }))).toEqual({ order_id: 'example' });
  });
});

describe('signingExample', () => {
  it('quotes values for the shell', () => {
    expect(shellQuote('plain')).toBe("'plain'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });

  it('uses the URL, the secret and the header format', () => {
    const text = signingExample('http://sw.test/hooks/abc/', 'whsec_s3cret', '{"a":1}');
    expect(text).toContain("SECRET='whsec_s3cret'");
    expect(text).toContain("BODY='{\"a\":1}'");
    expect(text).toContain("URL='http://sw.test/hooks/abc/'");
    expect(text).toContain('curl -sS -X POST "$URL"');
    expect(text).toContain('-H "X-Switchyard-Signature: t=$T,v1=$SIG"');
  });

  // Runs where bash and openssl are installed (the dev and CI images); skipped elsewhere.
  const shell = spawnSync('bash', ['-c', 'command -v openssl'], { encoding: 'utf8' });
  it.skipIf(shell.status !== 0)('computes the HMAC the server checks, when run by bash with openssl', () => {
    // Replace the network call by a print of the header, then run the signing lines.
    const secret = 'whsec_abc-DEF_123';
    const body = exampleBody(saved);
    const script = signingExample('http://sw.test/hooks/abc/', secret, body).replace(/curl[\s\S]*$/, 'echo "t=$T,v1=$SIG"');
    const header = execFileSync('bash', ['-c', script], { encoding: 'utf8' }).trim();
    const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
    expect(match, header).not.toBeNull();
    const expected = createHmac('sha256', secret).update(`${match![1]}.${body}`).digest('hex');
    expect(match![2]).toBe(expected);
  });
});
