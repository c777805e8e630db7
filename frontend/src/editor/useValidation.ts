/** Find the graph's problems: locally as the user edits, and on the server, which is authoritative. */

import { useCallback, useEffect, useMemo, useState, type Dispatch, type SetStateAction } from 'react';
import { validateOnServer, type ActionDescription, type ServerValidation } from '../api/versions';
import { validateGraph, type ActionInfo, type WorkflowGraph } from '../graph';
import { useDebouncedValue } from '../hooks/useDebouncedValue';
import { errorItems } from '../ui/ErrorList';
import type { Busy } from './editorState';
import { countLevels, marksOf, mergeIssues, type Marks, type PinnedIssue } from './issues';
import type { Notify } from './useNotice';

const VALIDATE_DEBOUNCE_MS = 150;
const SERVER_RECHECK_MS = 700;

export interface ServerCheck {
  graph: WorkflowGraph;
  result: ServerValidation;
  /** Something the server's lint reads besides the graph changed (the test cases): ask again. */
  stale?: boolean;
}

export interface ValidationOptions {
  slug: string;
  graph: WorkflowGraph;
  getGraph: () => WorkflowGraph;
  loaded: boolean;
  actions: readonly ActionDescription[];
  notify: Notify;
  setBusy: (busy: Busy) => void;
}

export interface Validation {
  issues: PinnedIssue[];
  marks: Marks;
  counts: { errors: number; warnings: number };
  /** A background server check is under way. */
  checking: boolean;
  issuesOpen: boolean;
  setIssuesOpen: Dispatch<SetStateAction<boolean>>;
  toggleIssues: () => void;
  /** What the server last said, and about which graph; null asks it at once. */
  setServerCheck: Dispatch<SetStateAction<ServerCheck | null>>;
  /** The test cases changed: the server's lint of untested branches is out of date. */
  markStale: () => void;
  /** Ask the server now, and say what it found. */
  validateNow: () => Promise<void>;
}

export function useValidation({ slug, graph, getGraph, loaded, actions, notify, setBusy }: ValidationOptions): Validation {
  const [serverCheck, setServerCheck] = useState<ServerCheck | null>(null);
  const [checking, setChecking] = useState(false);
  const [issuesOpen, setIssuesOpen] = useState(true);

  const actionsByName = useMemo<Record<string, ActionInfo> | null>(
    () => (actions.length > 0 ? Object.fromEntries(actions.map((a) => [a.name, a])) : null),
    [actions],
  );
  const validated = useDebouncedValue(graph, VALIDATE_DEBOUNCE_MS);
  const local = useMemo(() => validateGraph(validated, actionsByName), [validated, actionsByName]);

  // The server is authoritative, and only it lints for hidden risks (side effects
  // without compensation, choice branches no test case takes): ask it about the opened
  // graph at once, and again a moment after each change.
  useEffect(() => {
    if (!loaded) return undefined;
    if (serverCheck !== null && serverCheck.graph === graph && !serverCheck.stale) return undefined;
    const controller = new AbortController();
    const delay = serverCheck === null || serverCheck.graph === graph ? 0 : SERVER_RECHECK_MS;
    const timer = setTimeout(() => {
      setChecking(true);
      validateOnServer(slug, graph, controller.signal)
        .then((result) => setServerCheck({ graph, result }))
        .catch(() => undefined)
        .finally(() => setChecking(false));
    }, delay);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [graph, serverCheck, slug, loaded]);

  const issues = useMemo(() => mergeIssues(local, serverCheck?.result ?? null), [local, serverCheck]);
  const marks = useMemo(() => marksOf(issues), [issues]);
  const counts = countLevels(issues);

  const validateNow = useCallback(async () => {
    const sent = getGraph();
    setBusy('validate');
    setIssuesOpen(true);
    try {
      const result = await validateOnServer(slug, sent);
      setServerCheck({ graph: sent, result });
      notify(
        result.errors.length ? 'error' : 'info',
        result.errors.length
          ? `The server found ${result.errors.length} ${result.errors.length === 1 ? 'error' : 'errors'}.`
          : 'The server found no errors.',
      );
    } catch (error) {
      notify('error', errorItems(error)[0]?.message ?? 'Validation failed.');
    } finally {
      setBusy(null);
    }
  }, [getGraph, slug, notify, setBusy]);

  const toggleIssues = useCallback(() => setIssuesOpen((open) => !open), []);
  const markStale = useCallback(() => setServerCheck((prev) => (prev === null ? prev : { ...prev, stale: true })), []);

  return { issues, marks, counts, checking, issuesOpen, setIssuesOpen, toggleIssues, setServerCheck, markStale, validateNow };
}
