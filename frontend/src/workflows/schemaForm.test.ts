import { describe, expect, it } from 'vitest';
import { formFields, inputProblems, parseNumber, problemField, setAt } from './schemaForm';

const schema = {
  type: 'object',
  required: ['order_id'],
  properties: {
    order_id: { type: 'string', minLength: 2 },
    amount: { type: 'number', minimum: 0 },
    count: { type: 'integer' },
    express: { type: 'boolean' },
    region: { enum: ['eu', 'us'] },
    customer: { type: 'object', required: ['email'], properties: { email: { type: 'string' } } },
    tags: { type: 'array', items: { type: 'string' } },
  },
};

describe('formFields', () => {
  it('draws each kind, nests objects and falls back to JSON, required fields first', () => {
    const fields = formFields({ ...schema, required: ['region', 'order_id'] }).filter((f) => f.name !== 'region');
    expect(fields.map((f) => [f.name, f.kind, f.required])).toEqual([
      ['order_id', 'string', true],
      ['amount', 'number', false],
      ['count', 'integer', false],
      ['express', 'boolean', false],
      ['customer', 'object', false],
      ['tags', 'raw', false],
    ]);
    expect(fields[4]?.children?.[0]?.path).toEqual(['customer', 'email']);
    expect(formFields({})).toEqual([]);
  });
});

describe('setAt', () => {
  it('sets nested values and removes emptied ones', () => {
    const value = setAt({}, ['customer', 'email'], 'a@b.c');
    expect(value).toEqual({ customer: { email: 'a@b.c' } });
    expect(setAt(value, ['customer', 'email'], undefined)).toEqual({});
  });
});

describe('inputProblems', () => {
  it('names each field as the server does', () => {
    const problems = inputProblems(schema, { amount: -1, count: 1.5, region: 'asia', customer: {} });
    expect(problems.map((p) => p.field)).toEqual(['input.order_id', 'input.amount', 'input.count', 'input.region', 'input.customer.email']);
    expect(inputProblems(schema, { order_id: 'A-1' })).toEqual([]);
  });
});

describe('parseNumber', () => {
  it('parses blanks, numbers and whole numbers', () => {
    expect(parseNumber(' ', false)).toEqual({ ok: true, value: undefined });
    expect(parseNumber('1.5', true).ok).toBe(false);
    expect(parseNumber('x', false).ok).toBe(false);
    expect(parseNumber('7', true)).toEqual({ ok: true, value: 7 });
  });
});

describe('problemField', () => {
  it('puts a missing field at its own path', () => {
    expect(problemField('input.customer', "'email' is a required property")).toEqual({ field: 'input.customer.email', message: 'is required' });
    expect(problemField('input.amount', 'must be at least 0')).toEqual({ field: 'input.amount', message: 'must be at least 0' });
  });
});
