/** Tests for the event stream: resume point, dedupe, order, backoff, final closes. */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventStream, socketUrl, type SocketLike, type StreamStatus } from './eventStream';
import type { RunEvent } from './types';

class FakeSocket implements SocketLike {
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  sent: string[] = [];
  closed = false;

  send(data: string): void {
    this.sent.push(data);
  }

  close(): void {
    this.closed = true;
  }

  open(): void {
    this.onopen?.({} as Event);
  }

  deliver(message: unknown): void {
    this.onmessage?.({ data: JSON.stringify(message) } as MessageEvent);
  }

  drop(code = 1006): void {
    this.onclose?.({ code } as CloseEvent);
  }
}

function ev(id: number, tx = 100): { type: 'event'; event: RunEvent } {
  return {
    type: 'event',
    event: {
      id,
      tx,
      kind: 'run_running',
      run_id: 1,
      step_id: null,
      workflow: 'w',
      version: 1,
      node_id: null,
      from_state: 'pending',
      to_state: 'running',
      actor: null,
      reason: null,
      data: {},
      created_at: '2025-01-01T00:00:00Z',
    },
  };
}

describe('EventStream', () => {
  let sockets: FakeSocket[];
  let received: number[];
  let statuses: StreamStatus[];
  let stream: EventStream;

  beforeEach(() => {
    vi.useFakeTimers();
    sockets = [];
    received = [];
    statuses = [];
    stream = new EventStream({
      url: 'ws://test/ws/board/',
      after: 10,
      onEvent: (e) => received.push(e.id),
      onStatus: (s) => statuses.push(s),
      createSocket: () => {
        const socket = new FakeSocket();
        sockets.push(socket);
        return socket;
      },
    });
    stream.start();
  });

  afterEach(() => {
    stream.stop();
    vi.useRealTimers();
  });

  const last = (): FakeSocket => sockets[sockets.length - 1]!;

  it('sends the resume point when the socket opens and reports live', () => {
    last().open();
    expect(last().sent).toEqual(['{"after":10}']);
    expect(statuses).toEqual(['connecting', 'live']);
  });

  it('delivers new events in stream order and drops ones already seen', () => {
    last().open();
    for (const id of [11, 12, 12, 11, 13]) last().deliver(ev(id));
    // A later transaction may hold a lower id: its place in the stream is (tx, id).
    last().deliver(ev(9, 101));
    last().deliver(ev(14, 100));
    last().deliver(ev(9, 101));
    last().deliver({ type: 'ready', last_id: 9 });
    expect(received).toEqual([11, 12, 13, 9]);
    expect(stream.lastEventId).toBe(9);
  });

  it('reconnects with doubling backoff and resumes after the newest event', () => {
    last().open();
    last().deliver(ev(11));
    last().drop();
    expect(statuses.at(-1)).toBe('reconnecting');
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(499);
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(2);
    last().drop(); // Fails before opening: next wait is 1 s.
    vi.advanceTimersByTime(999);
    expect(sockets).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(3);
    last().open();
    expect(last().sent).toEqual(['{"after":11}']);
    expect(statuses.at(-1)).toBe('live');
  });

  it('caps the backoff at 10 s and resets it after a healthy connection', () => {
    for (let i = 0; i < 8; i += 1) {
      last().drop();
      vi.advanceTimersByTime(10_000);
    }
    const before = sockets.length;
    last().drop();
    vi.advanceTimersByTime(9_999);
    expect(sockets).toHaveLength(before);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(before + 1);
    last().open();
    last().deliver({ type: 'ready', last_id: 10 });
    last().drop();
    vi.advanceTimersByTime(500);
    expect(sockets).toHaveLength(before + 2);
  });

  it('stops retrying when the server refuses the user', () => {
    last().drop(4401);
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
    expect(statuses.at(-1)).toBe('closed');
  });

  it('closes the socket and ignores it after stop', () => {
    const socket = last();
    socket.open();
    stream.stop();
    expect(socket.closed).toBe(true);
    socket.deliver(ev(20));
    expect(received).toEqual([]);
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
  });
});

describe('socketUrl', () => {
  it('picks ws or wss from the page protocol', () => {
    expect(socketUrl('/ws/board/', { protocol: 'http:', host: 'localhost:8000' })).toBe('ws://localhost:8000/ws/board/');
    expect(socketUrl('/ws/runs/3/', { protocol: 'https:', host: 'example.com' })).toBe('wss://example.com/ws/runs/3/');
  });
});
