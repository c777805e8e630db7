/** Tests for reading run triggers and the editor's schedules and webhooks addresses. */

import { describe, expect, it } from 'vitest';
import { parseTrigger, schedulesHash, schedulesUrl, triggerHref, triggerTitle, webhooksHash, webhooksUrl } from './trigger';

describe('parseTrigger', () => {
  it('reads each known kind with its id', () => {
    expect(parseTrigger('api')).toEqual({ kind: 'api', id: null, label: 'api' });
    expect(parseTrigger('schedule:12')).toEqual({ kind: 'schedule', id: 12, label: 'schedule' });
    expect(parseTrigger('webhook:3')).toEqual({ kind: 'webhook', id: 3, label: 'webhook' });
    expect(parseTrigger('call:400')).toEqual({ kind: 'call', id: 400, label: 'call' });
  });

  it('takes a missing trigger (older runs) as the API', () => {
    expect(parseTrigger(undefined).kind).toBe('api');
    expect(parseTrigger(null).kind).toBe('api');
    expect(parseTrigger('').kind).toBe('api');
  });

  it('keeps unknown or malformed triggers as they are', () => {
    expect(parseTrigger('cli')).toEqual({ kind: 'other', id: null, label: 'cli' });
    expect(parseTrigger('schedule:abc')).toEqual({ kind: 'other', id: null, label: 'schedule:abc' });
    expect(parseTrigger('schedule:')).toEqual({ kind: 'other', id: null, label: 'schedule:' });
    expect(parseTrigger('email:4').kind).toBe('other');
  });
});

describe('schedules address', () => {
  it('opens the panel, on one schedule when asked', () => {
    expect(schedulesUrl('nightly report')).toBe('/workflows/nightly%20report/edit/#schedules');
    expect(schedulesUrl('orders', 7)).toBe('/workflows/orders/edit/#schedules/7');
  });

  it('reads the hash it writes, and nothing else', () => {
    expect(schedulesHash('#schedules')).toEqual({ open: true, id: null });
    expect(schedulesHash('#schedules/7')).toEqual({ open: true, id: 7 });
    expect(schedulesHash('')).toEqual({ open: false, id: null });
    expect(schedulesHash('#schedulesx')).toEqual({ open: false, id: null });
    expect(schedulesHash('#schedules/x')).toEqual({ open: false, id: null });
    expect(schedulesHash('#webhooks/7')).toEqual({ open: false, id: null });
  });
});

describe('webhooks address', () => {
  it('opens the panel, on one webhook when asked', () => {
    expect(webhooksUrl('order intake')).toBe('/workflows/order%20intake/edit/#webhooks');
    expect(webhooksUrl('orders', 3)).toBe('/workflows/orders/edit/#webhooks/3');
  });

  it('reads the hash it writes, and nothing else', () => {
    expect(webhooksHash('#webhooks')).toEqual({ open: true, id: null });
    expect(webhooksHash('#webhooks/3')).toEqual({ open: true, id: 3 });
    expect(webhooksHash('#webhooks/')).toEqual({ open: false, id: null });
    expect(webhooksHash('#schedules/3')).toEqual({ open: false, id: null });
  });
});

describe('trigger links and titles', () => {
  it('links a schedule or a webhook to the editor and a call to the calling run', () => {
    expect(triggerHref(parseTrigger('schedule:7'), 'orders')).toBe('/workflows/orders/edit/#schedules/7');
    expect(triggerHref(parseTrigger('call:9'), 'orders')).toBe('/runs/9/');
    expect(triggerHref(parseTrigger('api'), 'orders')).toBeNull();
    expect(triggerHref(parseTrigger('webhook:2'), 'orders')).toBe('/workflows/orders/edit/#webhooks/2');
  });

  it('says who started the run', () => {
    expect(triggerTitle(parseTrigger('schedule:7'), '6 Jan 2025, 09:00')).toBe('Started by schedule #7 for its slot of 6 Jan 2025, 09:00');
    expect(triggerTitle(parseTrigger('schedule:7'), null)).toBe('Started by schedule #7');
    expect(triggerTitle(parseTrigger('call:9'), null)).toBe('Called by run #9');
    expect(triggerTitle(parseTrigger('cli'), null)).toBe('Started by cli');
  });
});

describe('a test run', () => {
  it('is its own kind, with no link', () => {
    const parsed = parseTrigger('test');
    expect(parsed).toEqual({ kind: 'test', id: null, label: 'test' });
    expect(triggerHref(parsed, 'orders')).toBeNull();
    expect(triggerTitle(parsed, null)).toMatch(/test run of a draft/);
  });
});
