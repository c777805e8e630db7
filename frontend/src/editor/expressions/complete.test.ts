import { describe, expect, it } from 'vitest';
import { applySuggestion, complete, type CompletionSources } from './complete';

const sources: CompletionSources = {
  inputSchema: {
    type: 'object',
    properties: { order_id: { type: 'string' }, customer: { type: 'object', properties: { email: { type: 'string' } } } },
  },
  runInput: { order_id: 'A-1', amount: 12 },
  nodeIds: ['start', 'fetch', 'notify-ops', 'done'],
  stepOutputs: { fetch: { status: 200, body: { items: [1, 2] } } },
};

const labels = (text: string, cursor = text.length) => complete(text, cursor, sources).items.map((i) => i.label);

describe('complete', () => {
  it('offers the context names and functions at the start', () => {
    const items = labels('');
    expect(items).toContain('input');
    expect(items).toContain('steps');
    expect(items).toContain('size');
    expect(labels('st')).toContain('steps');
  });

  it('offers input fields from the schema and from the chosen run', () => {
    const items = complete('input.', 6, sources).items;
    expect(items.map((i) => i.label).slice(0, 3)).toEqual(['order_id', 'customer', 'amount']);
    expect(items[0]?.detail).toContain('string');
    expect(items[2]?.detail).toContain('chosen run');
    expect(labels('input.customer.')).toContain('email');
    expect(labels('input.or')).toEqual(['order_id']);
  });

  it('offers node ids, then output, then the real output fields of the chosen run', () => {
    expect(labels('steps.')).toEqual(['start', 'fetch', 'done']);
    expect(labels('steps.fe')).toEqual(['fetch']);
    expect(labels('steps.fetch.')).toEqual(['output']);
    const output = labels('steps.fetch.output.');
    expect(output.slice(0, 2)).toEqual(['status', 'body']);
    expect(labels('steps.fetch.output.body.')).toContain('items');
    expect(labels('size(steps.fetch.output.b')).toContain('body');
  });

  it('works in the middle of an expression and with spaces around operators', () => {
    const text = 'input.amount > 3 && steps.fe == 1';
    const cursor = text.indexOf('fe') + 2;
    const completion = complete(text, cursor, sources);
    expect(completion.items.map((i) => i.label)).toEqual(['fetch']);
    const applied = applySuggestion(text, completion, completion.items[0]!);
    expect(applied.text).toBe('input.amount > 3 && steps.fetch == 1');
    expect(applied.cursor).toBe(text.indexOf('fe') + 5);
  });

  it('offers only methods after a call, and nothing inside a number', () => {
    expect(labels('size(input).')).toContain('startsWith');
    expect(labels('size(input).')).not.toContain('input');
    expect(labels('input.order_id.sta')).toEqual(['startsWith']);
    expect(labels('1.5')).toEqual([]);
  });

  it('inserts a call for a function', () => {
    const completion = complete('siz', 3, sources);
    expect(applySuggestion('siz', completion, completion.items[0]!).text).toBe('size(');
  });
});
