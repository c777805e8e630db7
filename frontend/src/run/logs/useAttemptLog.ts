/** Read an attempt's log and, while the attempt may still write, poll for new chunks. */

import { useEffect, useState } from 'react';
import { isAbortError } from '../../api/client';
import { getAttemptLog } from './api';
import { appendChunks, EMPTY_LINES, type LogLines } from './logLines';

// Between two polls of a running attempt (the worker stores lines every 0.5 s).
export const POLL_MS = 700;
// After a failed poll, wait longer before the next.
const RETRY_MS = 3000;

export interface AttemptLog extends LogLines {
  /** The attempt has finished and every chunk is read. */
  done: boolean;
  error: string | null;
}

/**
 * Read the log of `attemptId` while `enabled`. While `live` (the attempt is queued or
 * running) it polls every POLL_MS; otherwise it reads what is stored and stops. It
 * stops for good once the server says the attempt finished and nothing more is left.
 */
export function useAttemptLog(runId: number, attemptId: number, enabled: boolean, live: boolean): AttemptLog {
  const [log, setLog] = useState<LogLines>(EMPTY_LINES);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // Where the next read starts, kept beside the state so a restart resumes there.
  const [after, setAfter] = useState(0);

  useEffect(() => {
    if (!enabled || done) return undefined;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | null = null;
    let cursor = after;
    const schedule = (ms: number) => {
      timer = setTimeout(() => void read(), ms);
    };
    const read = async () => {
      try {
        const page = await getAttemptLog(runId, attemptId, cursor, controller.signal);
        const last = page.results[page.results.length - 1];
        if (last !== undefined) {
          cursor = last.seq;
          setLog((prev) => appendChunks(prev, page.results));
          setAfter(cursor);
        }
        setError(null);
        if (page.next !== null) schedule(0);
        else if (page.finished) setDone(true);
        else if (live) schedule(POLL_MS);
      } catch (caught) {
        if (isAbortError(caught)) return;
        setError(caught instanceof Error ? caught.message : String(caught));
        schedule(RETRY_MS);
      }
    };
    void read();
    return () => {
      controller.abort();
      if (timer !== null) clearTimeout(timer);
    };
    // `after` is read only when (re)starting: each read moves `cursor` itself.
  }, [runId, attemptId, enabled, live, done]);

  return { ...log, done, error };
}
