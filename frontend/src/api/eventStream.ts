/**
 * Follow the live event WebSocket: resume after the last event, dedupe, reconnect with backoff.
 *
 * The server sends events in stream order, (tx, id) ascending: ids alone are not in
 * order across transactions, so duplicates are recognised by that pair.
 */

import { isAfter, positionOf, type StreamPosition } from './streamPosition';
import type { RunEvent } from './types';

export type StreamStatus = 'connecting' | 'live' | 'reconnecting' | 'closed';

/** The part of the browser WebSocket this module uses (tests pass a fake). */
export interface SocketLike {
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  send(data: string): void;
  close(code?: number): void;
}

export interface EventStreamOptions {
  url: string;
  /** Id of the last event the caller already has from the stream (0 for none). */
  after: number;
  onEvent: (event: RunEvent) => void;
  onStatus?: (status: StreamStatus) => void;
  createSocket?: (url: string) => SocketLike;
  minDelayMs?: number;
  maxDelayMs?: number;
}

// The consumer closes with these when retrying cannot help (not logged in, no such run).
const FINAL_CLOSE_CODES = new Set([4401, 4403, 4404]);

/** Turn a path such as /ws/board/ into a ws:// or wss:// URL on this host. */
export function socketUrl(path: string, location: Pick<Location, 'protocol' | 'host'>): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}${path}`;
}

export class EventStream {
  private readonly options: EventStreamOptions;
  private readonly minDelay: number;
  private readonly maxDelay: number;
  private socket: SocketLike | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private delay: number;
  private lastId: number;
  // Stream position (tx, id) of the last event delivered; null before the first.
  private lastPosition: StreamPosition | null = null;
  private stopped = true;
  private everOpened = false;
  private currentStatus: StreamStatus = 'closed';

  constructor(options: EventStreamOptions) {
    this.options = options;
    this.minDelay = options.minDelayMs ?? 500;
    this.maxDelay = options.maxDelayMs ?? 10_000;
    this.delay = this.minDelay;
    this.lastId = options.after;
  }

  get lastEventId(): number {
    return this.lastId;
  }

  get status(): StreamStatus {
    return this.currentStatus;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.drop();
    this.setStatus('closed');
  }

  private connect(): void {
    this.timer = null;
    this.setStatus(this.everOpened ? 'reconnecting' : 'connecting');
    const create = this.options.createSocket ?? ((url: string) => new WebSocket(url));
    let socket: SocketLike;
    try {
      socket = create(this.options.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (socket !== this.socket) return;
      this.everOpened = true;
      socket.send(JSON.stringify({ after: this.lastId }));
      this.setStatus('live');
    };
    socket.onmessage = (message) => {
      if (socket !== this.socket) return;
      this.receive(message.data);
    };
    socket.onerror = () => {
      // A close event always follows; reconnecting is decided there.
    };
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.socket = null;
      if (this.stopped) return;
      if (FINAL_CLOSE_CODES.has(event.code)) {
        this.stopped = true;
        this.setStatus('closed');
        return;
      }
      this.scheduleReconnect();
    };
  }

  private receive(raw: unknown): void {
    if (typeof raw !== 'string') return;
    let message: unknown;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    const { type, event } = message as { type?: unknown; event?: unknown };
    if (type === 'ready') {
      // The server answered our resume point: the connection is healthy.
      this.delay = this.minDelay;
      return;
    }
    if (type !== 'event' || typeof event !== 'object' || event === null) return;
    const runEvent = event as RunEvent;
    if (typeof runEvent.id !== 'number') return;
    const position = positionOf(runEvent);
    // Positions ascend; anything not newer was delivered already (backfill overlap, resend).
    if (this.lastPosition !== null && !isAfter(position, this.lastPosition)) return;
    this.delay = this.minDelay;
    this.lastId = runEvent.id;
    this.lastPosition = position;
    this.options.onEvent(runEvent);
  }

  private scheduleReconnect(): void {
    this.setStatus('reconnecting');
    const wait = this.delay;
    this.delay = Math.min(this.delay * 2, this.maxDelay);
    this.timer = setTimeout(() => this.connect(), wait);
  }

  private drop(): void {
    const socket = this.socket;
    this.socket = null;
    if (socket === null) return;
    socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
    try {
      socket.close(1000);
    } catch {
      // Closing a socket that is still connecting may throw in old browsers.
    }
  }

  private setStatus(status: StreamStatus): void {
    if (status === this.currentStatus) return;
    this.currentStatus = status;
    this.options.onStatus?.(status);
  }
}
