/** Subscribe a component to a live event WebSocket (see api/eventStream.ts). */

import { useEffect, useRef, useState } from 'react';
import { EventStream, socketUrl, type StreamStatus } from '../api/eventStream';
import type { RunEvent } from '../api/types';

export interface UseEventStreamOptions {
  /** WebSocket path on this host. */
  path?: string;
  /** Newest event id already known; read once, when the stream starts. */
  after: number;
  /** Open the socket only when true (e.g. after the initial list has loaded). */
  enabled?: boolean;
  onEvent: (event: RunEvent) => void;
}

/** Deliver events after `after`, in stream order, once each; return the connection status. */
export function useEventStream({
  path = '/ws/board/',
  after,
  enabled = true,
  onEvent,
}: UseEventStreamOptions): StreamStatus {
  const [status, setStatus] = useState<StreamStatus>(enabled ? 'connecting' : 'closed');
  const onEventRef = useRef(onEvent);
  const afterRef = useRef(after);
  useEffect(() => {
    onEventRef.current = onEvent;
    afterRef.current = after;
  });
  // Survives re-subscription (StrictMode, path change) so no event is delivered twice.
  const lastIdRef = useRef<number | null>(null);

  useEffect(() => {
    if (!enabled) return undefined;
    const stream = new EventStream({
      url: socketUrl(path, window.location),
      // The last event this hook delivered, else the caller's starting point (ids
      // are not ordered across transactions: the server resumes after that event).
      after: lastIdRef.current ?? afterRef.current,
      onEvent: (event) => {
        lastIdRef.current = event.id;
        onEventRef.current(event);
      },
      onStatus: setStatus,
    });
    stream.start();
    return () => stream.stop();
  }, [path, enabled]);

  return enabled ? status : 'closed';
}
