/** The run whose data the editor shows: the workflow's recent runs, the chosen one (the latest by default), its detail. */

import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { getRunDetail, listWorkflowRuns } from '../../api/runs';
import { getRunSettings } from '../../api/workflows';
import type { RunDetail, RunSummary } from '../../api/types';
import { FINISHED_RUN_STATES } from '../../api/types';
import { useEventStream } from '../../hooks/useEventStream';
import { latestSteps, stepOutputs } from './executionContext';
import { RUN_STARTED_EVENT } from './runStarted';

export interface ExecutionData {
  runs: RunSummary[];
  /** The chosen run's id; null: show no run's data. */
  runId: number | null;
  choose: (id: number | null) => void;
  run: RunDetail | null;
  loading: boolean;
  error: string | null;
  refresh: () => void;
  /** {node id: state of its latest step}; null when no run is shown. */
  states: ReadonlyMap<string, string> | null;
  outputs: Record<string, unknown> | undefined;
  /** The workflow's input schema ({}: none), for the expression fields. */
  inputSchema: Record<string, unknown>;
}

const RECENT = 20;
// A burst of a run's events reads its detail once, this long after the first.
const LIVE_READ_MS = 250;

export function useExecutionData(slug: string): ExecutionData {
  const [runs, setRuns] = useState<RunSummary[]>([]);
  // undefined: not chosen yet (the latest is shown); null: none.
  const [chosen, setChosen] = useState<number | null | undefined>(undefined);
  const [run, setRun] = useState<RunDetail | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [revision, setRevision] = useState(0);
  // Bumped by the live stream of a run under way: read its detail again.
  const [live, setLive] = useState(0);

  const [inputSchema, setInputSchema] = useState<Record<string, unknown>>({});
  const refresh = useCallback(() => setRevision((r) => r + 1), []);

  useEffect(() => {
    const controller = new AbortController();
    getRunSettings(slug, controller.signal).then(
      (settings) => setInputSchema(settings.input_schema ?? {}),
      () => undefined,
    );
    return () => controller.abort();
  }, [slug, revision]);

  useEffect(() => {
    const controller = new AbortController();
    listWorkflowRuns(slug, RECENT, controller.signal).then(
      (page) => setRuns(page.results),
      () => undefined,
    );
    return () => controller.abort();
  }, [slug, revision]);

  // A run started from the Run dialog is shown once the list is read again.
  useEffect(() => {
    const onStarted = (event: Event) => {
      const started = (event as CustomEvent<RunSummary>).detail;
      setChosen(started.id);
      refresh();
    };
    window.addEventListener(RUN_STARTED_EVENT, onStarted);
    return () => window.removeEventListener(RUN_STARTED_EVENT, onStarted);
  }, [refresh]);

  const runId = chosen === undefined ? (runs[0]?.id ?? null) : chosen;

  useEffect(() => {
    if (runId === null) {
      setRun(null);
      return;
    }
    const controller = new AbortController();
    setLoading(true);
    setError(null);
    getRunDetail(runId, controller.signal).then(
      (detail) => {
        setRun(detail);
        setLoading(false);
      },
      (failure: unknown) => {
        if (controller.signal.aborted) return;
        setRun(null);
        setLoading(false);
        setError(failure instanceof Error ? failure.message : String(failure));
      },
    );
    return () => controller.abort();
  }, [runId, revision, live]);

  const shown = run !== null && run.id === runId ? run : null;
  // A run still under way (a test run just started, say) is followed live: each burst
  // of its events reads its detail again, and its end reads the list again too.
  const underWay = shown !== null && !FINISHED_RUN_STATES.has(shown.state);
  const pendingRead = useRef<number | null>(null);
  useEffect(
    () => () => {
      if (pendingRead.current !== null) window.clearTimeout(pendingRead.current);
    },
    [],
  );
  const onRunEvent = useCallback(() => {
    if (pendingRead.current !== null) return;
    pendingRead.current = window.setTimeout(() => {
      pendingRead.current = null;
      setLive((n) => n + 1);
    }, LIVE_READ_MS);
  }, []);
  useEventStream({ path: `/ws/runs/${runId ?? 0}/`, after: 0, enabled: underWay, onEvent: onRunEvent });
  const wasUnderWay = useRef(false);
  useEffect(() => {
    if (wasUnderWay.current && !underWay) refresh();
    wasUnderWay.current = underWay;
  }, [underWay, refresh]);
  const states = useMemo(() => (shown ? new Map([...latestSteps(shown)].map(([id, step]) => [id, step.state])) : null), [shown]);
  const outputs = useMemo(() => (shown ? stepOutputs(shown) : undefined), [shown]);

  return { runs, runId, choose: setChosen, run: shown, loading, error, refresh, states, outputs, inputSchema };
}
