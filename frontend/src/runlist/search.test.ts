import { describe, expect, it } from 'vitest';
import {
  emptySearch,
  errorsByField,
  filterParams,
  fromLocalInput,
  isFiltered,
  listQuery,
  parseInputConditions,
  readSearch,
  toLocalInput,
  writeSearch,
} from './search';

describe('run search', () => {
  it('reads the filters, input conditions and offset from the address bar', () => {
    const { search, offset } = readSearch('?workflow=orders&state=failed&input.customer.country=DE&offset=50&sort=x');
    expect(search.fields.workflow).toBe('orders');
    expect(search.fields.state).toBe('failed');
    expect(search.inputs).toEqual([['customer.country', 'DE']]);
    expect(offset).toBe(50);
  });

  it('ignores a bad offset', () => {
    expect(readSearch('?offset=-3').offset).toBe(0);
    expect(readSearch('?offset=abc').offset).toBe(0);
  });

  it('writes only what is set, and round-trips', () => {
    const search = emptySearch();
    search.fields.q = ' ORD-1 ';
    search.fields.error_type = 'Timeout';
    search.inputs = [['amount', '42']];
    expect(filterParams(search)).toEqual({ q: 'ORD-1', error_type: 'Timeout', 'input.amount': '42' });
    const written = writeSearch(search, 100);
    expect(written).toBe('?q=ORD-1&error_type=Timeout&input.amount=42&offset=100');
    expect(filterParams(readSearch(written).search)).toEqual(filterParams(search));
    expect(writeSearch(emptySearch(), 0)).toBe('');
  });

  it('builds the list query with paging', () => {
    const search = emptySearch();
    search.fields.state = 'running';
    expect(listQuery(search, 50)).toBe('state=running&limit=50&offset=50');
  });

  it('says whether the search filters', () => {
    expect(isFiltered(emptySearch())).toBe(false);
    const search = emptySearch();
    search.fields.trigger = 'schedule';
    expect(isFiltered(search)).toBe(true);
  });

  it('parses input conditions and refuses one without a path', () => {
    expect(parseInputConditions('customer.country=DE; input.amount=42')).toEqual([
      ['customer.country', 'DE'],
      ['amount', '42'],
    ]);
    expect(parseInputConditions('')).toEqual([]);
    expect(parseInputConditions('=DE')).toBeNull();
    expect(parseInputConditions('country')).toBeNull();
  });

  it('places errors next to the field they name', () => {
    const { fields, other } = errorsByField([
      { code: 'bad_filter', message: "state: unknown state 'x'" },
      { code: 'bad_filter', message: 'input.customer: bad path' },
      { code: 'bad_filter', message: 'nope', field: 'filter.started_after' },
      { code: 'invalid_limit', message: 'limit must be a whole number' },
    ]);
    expect(fields.state).toBe("state: unknown state 'x'");
    expect(fields.input).toBe('input.customer: bad path');
    expect(fields.started_after).toBe('nope');
    expect(other.map((e) => e.code)).toEqual(['invalid_limit']);
  });

  it('converts between datetime-local values and ISO times', () => {
    const iso = fromLocalInput('2026-12-04T14:30');
    expect(iso).toMatch(/^2026-12-0[45]T\d\d:30:00.000Z$/);
    expect(toLocalInput(iso)).toBe('2026-12-04T14:30');
    expect(fromLocalInput('')).toBe('');
    expect(toLocalInput('garbage')).toBe('');
  });
});
