/** Tests for what a waiting receive step waits for, the message form's checks and the answer in words. */

import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../api/types';
import type { WorkflowGraph } from '../graph';
import { formatDateTime } from '../ui/format';
import { describeSent, describeWait, isWaitingReceive, messageOf, receiveWaitOf, receiveWaits } from './messages';

const event = (id: number, stepId: number | null, data: unknown, kind = 'step_waiting'): RunEvent => ({
  id,
  kind,
  run_id: 1,
  step_id: stepId,
  workflow: 'orders',
  version: 1,
  node_id: 'paid',
  from_state: 'running',
  to_state: 'waiting',
  actor: 'system',
  reason: '',
  data,
  created_at: '2025-01-06T09:00:00Z',
});

const graph: WorkflowGraph = {
  format: 1,
  nodes: [
    { id: 'start', type: 'start' },
    { id: 'paid', type: 'receive', message: 'payment.confirmed', key: 'input.order_id' },
  ],
  edges: [],
};

describe('receiveWaits', () => {
  it('reads message, key and timeout from the waiting events, by step', () => {
    const waits = receiveWaits([
      event(1, null, { message: 'ignored' }),
      event(2, 7, { message: 'payment.confirmed', key: '42', timeout_at: '2025-01-07T09:00:00Z' }),
      event(3, 8, { message: 'shipped', key: 9, timeout_at: null }),
      event(4, 9, { other: true }),
      event(5, 10, null),
    ]);
    expect([...waits.keys()]).toEqual([7, 8]);
    expect(waits.get(7)).toEqual({ message: 'payment.confirmed', key: '42', timeoutAt: '2025-01-07T09:00:00Z' });
    expect(waits.get(8)).toEqual({ message: 'shipped', key: '9', timeoutAt: null });
  });

  it('keeps the newest wait of a step visited again', () => {
    const waits = receiveWaits([event(2, 7, { message: 'a', key: '1' }), event(6, 7, { message: 'a', key: '2' })]);
    expect(waits.get(7)?.key).toBe('2');
  });
});

describe('receiveWaitOf', () => {
  const step = { id: 7, node_id: 'paid', wake_at: '2025-01-07T09:00:00Z' };

  it('prefers the event data, with the step wake time as the timeout when the event has none', () => {
    const waits = receiveWaits([event(2, 7, { message: 'payment.confirmed', key: '42', timeout_at: null })]);
    expect(receiveWaitOf(step, waits, graph)).toEqual({ message: 'payment.confirmed', key: '42', timeoutAt: '2025-01-07T09:00:00Z' });
  });

  it('falls back on the node message name, the key unknown', () => {
    expect(receiveWaitOf(step, new Map(), graph)).toEqual({ message: 'payment.confirmed', key: null, timeoutAt: '2025-01-07T09:00:00Z' });
    expect(receiveWaitOf({ ...step, wake_at: null }, new Map(), null)).toEqual({ message: null, key: null, timeoutAt: null });
  });
});

describe('isWaitingReceive', () => {
  it('is a receive step in waiting only', () => {
    expect(isWaitingReceive({ node_type: 'receive', state: 'waiting' })).toBe(true);
    expect(isWaitingReceive({ node_type: 'receive', state: 'succeeded' })).toBe(false);
    expect(isWaitingReceive({ node_type: 'wait', state: 'waiting' })).toBe(false);
  });
});

describe('describeWait', () => {
  it('says what it knows', () => {
    expect(describeWait({ message: null, key: null, timeoutAt: null })).toBe('Waiting for a message');
    expect(describeWait({ message: 'payment.confirmed', key: null, timeoutAt: null })).toBe('Waiting for message payment.confirmed');
    expect(describeWait({ message: 'payment.confirmed', key: '42', timeoutAt: null })).toBe('Waiting for message payment.confirmed with key 42');
    const at = '2025-01-07T09:00:00Z';
    expect(describeWait({ message: 'p', key: '1', timeoutAt: at })).toBe(`Waiting for message p with key 1, until ${formatDateTime(at)}`);
  });
});

describe('messageOf', () => {
  it('sends the trimmed name and key and the parsed payload', () => {
    expect(messageOf({ name: ' payment.confirmed ', key: ' 42 ', payload: '{"amount": 10}' })).toEqual({
      ok: true,
      value: { name: 'payment.confirmed', key: '42', payload: { amount: 10 } },
    });
  });

  it('sends {} for an empty payload, and any JSON value otherwise', () => {
    expect(messageOf({ name: 'a', key: 'k', payload: ' ' })).toEqual({ ok: true, value: { name: 'a', key: 'k', payload: {} } });
    expect(messageOf({ name: 'a', key: 'k', payload: '[1]' })).toEqual({ ok: true, value: { name: 'a', key: 'k', payload: [1] } });
  });

  it('names each problem', () => {
    const parsed = messageOf({ name: 'bad name', key: '', payload: '{nope' });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(Object.keys(parsed.errors).sort()).toEqual(['key', 'name', 'payload']);
    expect(parsed.errors.payload).toMatch(/^Not valid JSON/);
    expect(messageOf({ name: 'a', key: 'k'.repeat(201), payload: '' }).ok).toBe(false);
    expect(messageOf({ name: 'n'.repeat(101), key: 'k', payload: '' }).ok).toBe(false);
  });
});

describe('describeSent', () => {
  it('names the runs reached', () => {
    expect(describeSent({ delivered_to: [5], kept: false, expires_at: null })).toBe('Delivered to run #5.');
    expect(describeSent({ delivered_to: [5, 6], kept: false, expires_at: null })).toBe('Delivered to 2 runs: #5, #6.');
  });

  it('says a message no run waits for is kept, and until when', () => {
    const at = '2025-01-07T09:00:00Z';
    expect(describeSent({ delivered_to: [], kept: true, expires_at: at })).toBe(
      `No run waits for it now: it is kept until ${formatDateTime(at)} for the first run that comes to wait for it.`,
    );
  });
});
