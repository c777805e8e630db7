/**
 * A place in the live event stream: (transaction id, event id).
 *
 * The server sends events in this order. Ids alone are not ordered across
 * transactions (two commits can land with their ids interleaved), so "already
 * seen" is decided by the pair.
 */

export type StreamPosition = readonly [number, number];

export const STREAM_START: StreamPosition = [0, 0];

/** The position of an event (tx 0 from a server that sends none). */
export function positionOf(event: { id: number; tx?: number }): StreamPosition {
  return [typeof event.tx === 'number' ? event.tx : 0, event.id];
}

/** The position a list page was read at (`last_event_tx`, `last_event_id`). */
export function pagePosition(page: { last_event_id?: number; last_event_tx?: number }): StreamPosition {
  return [page.last_event_tx ?? 0, page.last_event_id ?? 0];
}

/** Say whether position a comes after b. */
export function isAfter(a: StreamPosition, b: StreamPosition): boolean {
  return a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
}

/** The earlier of two positions. */
export function earlier(a: StreamPosition, b: StreamPosition): StreamPosition {
  return isAfter(a, b) ? b : a;
}
