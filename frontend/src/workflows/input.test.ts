/** Tests for run input parsing and slug suggestions. */

import { describe, expect, it } from 'vitest';
import { parseRunInput, slugify } from './input';

describe('parseRunInput', () => {
  it('accepts a JSON object', () => {
    expect(parseRunInput('{"order": {"amount": 5}}')).toEqual({ ok: true, value: { order: { amount: 5 } } });
  });

  it('treats blank input as an empty object', () => {
    expect(parseRunInput('  ')).toEqual({ ok: true, value: {} });
  });

  it.each(['{', '{"a": }', "{'a': 1}"])('rejects invalid JSON %s', (text) => {
    const result = parseRunInput(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/not valid JSON/);
  });

  it.each(['[]', '3', 'null', '"x"'])('rejects JSON that is not an object: %s', (text) => {
    const result = parseRunInput(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/JSON object/);
  });
});

describe('slugify', () => {
  it('makes a slug from a name', () => {
    expect(slugify('Order intake (EU)')).toBe('order-intake-eu');
    expect(slugify('  Café — refunds ')).toBe('cafe-refunds');
    expect(slugify('!!!')).toBe('');
  });
});
