/** The workflow editor: palette, canvas, inspector, problems, versions, diff, runs, tests and releases. */

import { useNodesInitialized, useReactFlow } from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState, type ChangeEvent, type SetStateAction } from 'react';
import {
  abortCanary,
  getReleaseSettings,
  promoteCanary,
  publishVersion,
  type ReleaseSettings,
} from '../api/changeSafety';
import { ApiError } from '../api/client';
import type { ApiErrorItem, Workflow } from '../api/types';
import {
  createVersion,
  getCoverage,
  getVersion,
  getWorkflow,
  listActions,
  listVersions,
  rollbackTo,
  updateDraft,
  validateOnServer,
  type ActionDescription,
  type Coverage,
  type ServerValidation,
  type VersionSummary,
} from '../api/versions';
import {
  addNode,
  autoLayout,
  connect,
  copyFragment,
  emptyGraph,
  moveNodes,
  normalizeGraph,
  pasteFragment,
  positionOf,
  removeElements,
  validateGraph,
  type ActionInfo,
  type NodeType,
  type WorkflowGraph,
} from '../graph';
import { useDebouncedValue } from '../hooks/useDebouncedValue';
import { useMe } from '../hooks/useMe';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { denial, readOnlyBanner } from '../ui/permissions';
import { CanaryBanner } from './CanaryBanner';
import { COVERAGE_SOURCES, coverageFor, coverageLegend, percentText, takenMap, type CoverageSource } from './coverage';
import { DiffView } from './DiffView';
import { EditorCanvas } from './EditorCanvas';
import type { XY } from './flow';
import { HelpPanel } from './HelpPanel';
import { Inspector } from './Inspector';
import { countLevels, marksOf, mergeIssues, type PinnedIssue } from './issues';
import { IssuesPanel } from './IssuesPanel';
import { NODE_SIZE } from './nodeMeta';
import { Palette } from './Palette';
import { PublishDialog, type PublishOutcome } from './PublishDialog';
import { blockedProblems, publishedText } from './release';
import { ReleaseSettingsPanel } from './ReleaseSettingsPanel';
import { RunPanel } from './RunPanel';
import { EMPTY_SELECTION, pruneSelection, selectionOf, type Selection } from './selection';
import { pathOf, reportSummary, resultKey, testTarget } from './testCases';
import { TestsPanel, type TestRun } from './TestsPanel';
import { useEditorShortcuts } from './useEditorShortcuts';
import { useGraphHistory } from './useGraphHistory';
import { VersionsPanel } from './VersionsPanel';

const VALIDATE_DEBOUNCE_MS = 150;
const SERVER_RECHECK_MS = 700;
const FIT = { padding: 0.2, maxZoom: 1.1, duration: 200 };

type Panel = 'none' | 'versions' | 'run' | 'help' | 'publish' | 'release';
type Busy = null | 'save' | 'publish' | 'rollback' | 'validate' | 'open' | 'canary';
/** The right column: the inspector, or the test cases. */
type Side = 'inspect' | 'tests';

interface Notice {
  kind: 'info' | 'error';
  text: string;
  id: number;
}

interface ServerCheck {
  graph: WorkflowGraph;
  result: ServerValidation;
  /** Something the server's lint reads besides the graph changed (the test cases): ask again. */
  stale?: boolean;
}

/** Open the newest draft if there is one, else the live version, else the newest. */
function pickVersion(versions: readonly VersionSummary[]): VersionSummary | null {
  const byNumber = [...versions].sort((a, b) => b.number - a.number);
  return byNumber.find((v) => v.status === 'draft') ?? byNumber.find((v) => v.is_live) ?? byNumber[0] ?? null;
}

export function EditorPage({ slug }: { slug: string }) {
  const rf = useReactFlow();
  const me = useMe();
  // Null when the role allows it, else why not (the disabled controls' tooltip).
  const editDenied = denial(me, 'edit');
  const runDenied = denial(me, 'operate');
  const readOnly = editDenied !== null;
  const roleBanner = readOnlyBanner(me);
  // Destructured: the functions are stable, the history object itself is not.
  const { graph, canUndo, canRedo, get: getGraph, commit: commitChange, undo, redo, reset } = useGraphHistory(emptyGraph);
  // Every change goes through here, whichever control or shortcut asks: a read-only
  // user's changes go nowhere, so the graph never differs from the saved one.
  const commit = useCallback(
    (next: WorkflowGraph, coalesceKey?: string) => {
      if (!readOnly) commitChange(next, coalesceKey);
    },
    [readOnly, commitChange],
  );

  const [loadErrors, setLoadErrors] = useState<ApiErrorItem[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [workflow, setWorkflow] = useState<Workflow | null>(null);
  const [versions, setVersions] = useState<VersionSummary[]>([]);
  const [actions, setActions] = useState<ActionDescription[]>([]);
  const [current, setCurrent] = useState<VersionSummary | null>(null);
  const [base, setBase] = useState<WorkflowGraph>(graph);
  const [selection, setSelection] = useState<Selection>(EMPTY_SELECTION);
  const [serverCheck, setServerCheck] = useState<ServerCheck | null>(null);
  const [checking, setChecking] = useState(false);
  const [issuesOpen, setIssuesOpen] = useState(true);
  const [panel, setPanel] = useState<Panel>('none');
  const [diff, setDiff] = useState<{ from: number; to: number } | null>(null);
  const [coverageOn, setCoverageOn] = useState(false);
  const [coverage, setCoverage] = useState<Coverage | null>(null);
  const [coverageSource, setCoverageSource] = useState<CoverageSource>('runs');
  const [release, setRelease] = useState<ReleaseSettings | null>(null);
  const [publishOutcome, setPublishOutcome] = useState<PublishOutcome | null>(null);
  const [side, setSide] = useState<Side>('inspect');
  const [testsOpened, setTestsOpened] = useState(false);
  const [testRun, setTestRun] = useState<TestRun | null>(null);
  const [shownTest, setShownTest] = useState<string | null>(null);
  // Bumped when test cases change or run: the tests' coverage is read again.
  const [testsRevision, setTestsRevision] = useState(0);
  const [busy, setBusy] = useState<Busy>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [fitRequest, setFitRequest] = useState(0);
  const canvasRef = useRef<HTMLDivElement>(null);
  const clipboard = useRef<{ fragment: WorkflowGraph; pastes: number } | null>(null);

  const dirty = graph !== base;

  const notify = useCallback((kind: Notice['kind'], text: string) => setNotice({ kind, text, id: Date.now() }), []);
  useEffect(() => {
    if (notice === null) return undefined;
    const timer = setTimeout(() => setNotice(null), notice.kind === 'error' ? 9000 : 4000);
    return () => clearTimeout(timer);
  }, [notice]);

  // -- loading -----------------------------------------------------------------------

  const refreshVersions = useCallback(async () => {
    const page = await listVersions(slug);
    setVersions(page.results);
    return page.results;
  }, [slug]);

  const refreshWorkflow = useCallback(async () => setWorkflow(await getWorkflow(slug)), [slug]);

  const refreshRelease = useCallback(async () => {
    try {
      setRelease(await getReleaseSettings(slug));
    } catch {
      // The banner and the gate line are extras: the editor works without them.
    }
  }, [slug]);

  const showGraph = useCallback(
    (next: WorkflowGraph, version: VersionSummary | null) => {
      reset(next);
      setBase(next);
      setCurrent(version);
      setSelection(EMPTY_SELECTION);
      setServerCheck(null);
      setCoverage(null);
      setTestRun(null);
      setShownTest(null);
      setFitRequest((n) => n + 1);
    },
    [reset],
  );

  const openVersion = useCallback(
    async (number: number) => {
      setBusy('open');
      try {
        const detail = await getVersion(slug, number);
        showGraph(normalizeGraph(detail.graph), detail);
      } catch (error) {
        notify('error', errorItems(error)[0]?.message ?? 'Cannot open the version.');
      } finally {
        setBusy(null);
      }
    },
    [slug, showGraph, notify],
  );

  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    listActions(signal).then(
      (page) => setActions(page.results),
      (error: unknown) => {
        if (!signal.aborted) notify('error', `Cannot load the actions: ${errorItems(error)[0]?.message ?? ''}`);
      },
    );
    getReleaseSettings(slug, signal).then(setRelease, () => undefined);
    Promise.all([getWorkflow(slug, signal), listVersions(slug, signal)])
      .then(async ([wf, page]) => {
        setWorkflow(wf);
        setVersions(page.results);
        const chosen = pickVersion(page.results);
        if (chosen) {
          const detail = await getVersion(slug, chosen.number, signal);
          showGraph(normalizeGraph(detail.graph), detail);
        } else {
          showGraph(emptyGraph(), null);
        }
        setLoaded(true);
      })
      .catch((error: unknown) => {
        if (!signal.aborted) setLoadErrors(errorItems(error));
      });
    return () => controller.abort();
  }, [slug, showGraph, notify]);

  // Marks for bench/ and the e2e test: first render of the loaded graph, and each save.
  const nodesInitialized = useNodesInitialized();
  const markedFirstRender = useRef(false);
  useEffect(() => {
    if (!loaded || !nodesInitialized || markedFirstRender.current) return;
    markedFirstRender.current = true;
    performance.mark('editor:first-render');
  }, [loaded, nodesInitialized]);

  useEffect(() => {
    if (fitRequest === 0) return undefined;
    const frame = requestAnimationFrame(() => void rf.fitView(FIT));
    return () => cancelAnimationFrame(frame);
  }, [fitRequest, rf]);

  // Warn before leaving with unsaved changes.
  useEffect(() => {
    if (!dirty) return undefined;
    const onBeforeUnload = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      event.returnValue = '';
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, [dirty]);

  // -- validation ----------------------------------------------------------------------

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
  }, [getGraph, slug, notify]);

  // -- editing -----------------------------------------------------------------------

  // Keep the selection to elements that still exist (after undo, delete, paste).
  useEffect(() => {
    setSelection((prev) =>
      prev.nodes.size + prev.edges.size === 0
        ? prev
        : pruneSelection(prev, new Set(graph.nodes.map((n) => n.id)), new Set(graph.edges.map((e) => e.id))),
    );
  }, [graph]);

  const edit = useCallback(
    (update: (graph: WorkflowGraph) => WorkflowGraph, coalesceKey?: string) => {
      commit(update(getGraph()), coalesceKey);
    },
    [commit, getGraph],
  );

  const onMove = useCallback((positions: Record<string, XY>) => edit((g) => moveNodes(g, positions)), [edit]);

  const onConnect = useCallback(
    (source: string, target: string) => {
      const result = connect(getGraph(), source, target);
      if (result === null) {
        notify('error', `${source} is already connected to ${target}.`);
        return;
      }
      commit(result.graph);
    },
    [commit, getGraph, notify],
  );

  const onAddNode = useCallback(
    (type: NodeType, position: XY) => {
      const result = addNode(getGraph(), type, position);
      commit(result.graph);
      setSelection(selectionOf([result.id]));
    },
    [commit, getGraph],
  );

  const addInView = useCallback(
    (type: NodeType) => {
      const rect = canvasRef.current?.getBoundingClientRect();
      const center = rect
        ? rf.screenToFlowPosition({ x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 })
        : { x: 0, y: 0 };
      const g = getGraph();
      const boxes = g.nodes.map((n) => positionOf(g, n.id));
      const overlaps = (p: XY) =>
        boxes.some((b) => Math.abs(b.x - p.x) < NODE_SIZE.width + 20 && Math.abs(b.y - p.y) < NODE_SIZE.height + 20);
      // Start at the middle of the view and step down until the box is free.
      let position = { x: Math.round(center.x - NODE_SIZE.width / 2), y: Math.round(center.y - NODE_SIZE.height / 2) };
      for (let i = 0; i < 12 && overlaps(position); i += 1) {
        position = { x: position.x, y: position.y + NODE_SIZE.height + 30 };
      }
      onAddNode(type, position);
    },
    [rf, getGraph, onAddNode],
  );

  const deleteSelection = useCallback(() => {
    if (readOnly || selection.nodes.size + selection.edges.size === 0) return;
    edit((g) => removeElements(g, [...selection.nodes], [...selection.edges]));
    setSelection(EMPTY_SELECTION);
  }, [edit, selection, readOnly]);

  const copySelection = useCallback(() => {
    if (selection.nodes.size === 0) return;
    clipboard.current = { fragment: copyFragment(getGraph(), [...selection.nodes]), pastes: 0 };
    notify('info', `Copied ${selection.nodes.size} ${selection.nodes.size === 1 ? 'node' : 'nodes'}.`);
  }, [getGraph, selection, notify]);

  const paste = useCallback(() => {
    const held = clipboard.current;
    if (held === null || readOnly) return;
    held.pastes += 1;
    const offset = { x: 40 * held.pastes, y: 40 * held.pastes };
    const result = pasteFragment(getGraph(), held.fragment, offset);
    commit(result.graph);
    setSelection(selectionOf(result.nodeIds, result.edgeIds));
  }, [commit, getGraph, readOnly]);

  const selectAll = useCallback(() => {
    const g = getGraph();
    setSelection(selectionOf(g.nodes.map((n) => n.id), g.edges.map((e) => e.id)));
  }, [getGraph]);

  const layout = useCallback(() => {
    edit((g) => autoLayout(g, 'LR'));
    setFitRequest((n) => n + 1);
  }, [edit]);

  const centerOn = useCallback(
    (issue: PinnedIssue) => {
      const nodeCenter = (id: string): XY | null => {
        const node = rf.getInternalNode(id);
        if (!node) return null;
        const { x, y } = node.internals.positionAbsolute;
        return { x: x + (node.measured.width ?? NODE_SIZE.width) / 2, y: y + (node.measured.height ?? NODE_SIZE.height) / 2 };
      };
      let point: XY | null = null;
      if (issue.node_id) {
        setSelection(selectionOf([issue.node_id]));
        point = nodeCenter(issue.node_id);
      } else if (issue.edge_id) {
        setSelection(selectionOf([], [issue.edge_id]));
        const edge = getGraph().edges.find((e) => e.id === issue.edge_id);
        const a = edge ? nodeCenter(edge.source) : null;
        const b = edge ? nodeCenter(edge.target) : null;
        point = a && b ? { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 } : (a ?? b);
      }
      if (point) void rf.setCenter(point.x, point.y, { zoom: Math.max(rf.getZoom(), 0.9), duration: 300 });
    },
    [rf, getGraph],
  );

  const toggleIssues = useCallback(() => setIssuesOpen((open) => !open), []);

  const onSelectionChange = useCallback((update: SetStateAction<Selection>) => setSelection(update), []);

  // -- versions ----------------------------------------------------------------------

  const save = useCallback(async (): Promise<VersionSummary | null> => {
    const sent = getGraph();
    setBusy('save');
    performance.mark('editor:save-start');
    try {
      const saved =
        current !== null && current.status === 'draft'
          ? await updateDraft(slug, current.number, sent)
          : await createVersion(slug, sent);
      performance.measure('editor:save', 'editor:save-start');
      setBase(sent);
      setCurrent(saved);
      // Stale: saving does not lint the choice branches against the test cases; validating does.
      setServerCheck({ graph: sent, result: { errors: [], warnings: saved.warnings ?? [] }, stale: true });
      notify('info', current?.status === 'draft' ? `Saved draft v${saved.number}.` : `Saved as new draft v${saved.number}.`);
      void refreshVersions().catch(() => undefined);
      return saved;
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) {
        setServerCheck({ graph: sent, result: { errors: error.errors, warnings: [] } });
        setIssuesOpen(true);
        const n = error.errors.length;
        notify('error', `Not saved: the server found ${n} ${n === 1 ? 'problem' : 'problems'} (listed under Problems).`);
      } else if (error instanceof ApiError && error.status === 409) {
        notify('error', `${error.message}. Open the newest version from History, or save again to create a new draft.`);
        setCurrent((prev) => (prev ? { ...prev, status: 'published' } : prev));
        void refreshVersions().catch(() => undefined);
      } else {
        notify('error', errorItems(error)[0]?.message ?? 'Saving failed.');
      }
      return null;
    } finally {
      setBusy(null);
    }
  }, [getGraph, current, slug, notify, refreshVersions]);

  /**
   * Publish the open draft (saving the edits first) live, or as a canary taking
   * `canaryPercent` of new runs. The dialog shows what the publish gate said; a
   * publish straight from the top bar opens it only when the gate had something to say.
   */
  const publish = useCallback(
    async (canaryPercent: number, fromDialog: boolean) => {
      let target = current;
      if (target === null || target.status !== 'draft' || getGraph() !== base) {
        target = await save();
        if (target === null) return;
      }
      setBusy('publish');
      setPublishOutcome(null);
      try {
        const published = await publishVersion(slug, target.number, canaryPercent);
        const text = publishedText(published.number, canaryPercent);
        setCurrent(published);
        setPublishOutcome({ kind: 'published', text, gate: published.gate });
        if (!fromDialog && published.gate !== null && !published.gate.ok) setPanel('publish');
        notify('info', text);
        await Promise.all([refreshVersions(), refreshWorkflow(), refreshRelease()]);
      } catch (error) {
        const first = errorItems(error)[0];
        if (error instanceof ApiError && error.status === 409 && first?.code === 'publish_gate_failed') {
          setPublishOutcome({ kind: 'blocked', message: first.message, problems: blockedProblems(first.message) });
          setPanel('publish');
          notify('error', 'Not published: the publish gate blocks it.');
          return;
        }
        if (error instanceof ApiError && error.status === 400) {
          setServerCheck({ graph: getGraph(), result: { errors: error.errors, warnings: [] } });
          setIssuesOpen(true);
        }
        const message = `Not published: ${first?.message ?? 'the server refused.'}`;
        if (fromDialog) setPublishOutcome({ kind: 'error', message });
        notify('error', message);
      } finally {
        setBusy(null);
      }
    },
    [current, getGraph, base, save, slug, notify, refreshVersions, refreshWorkflow, refreshRelease],
  );

  const makeLive = useCallback(
    async (number: number) => {
      setBusy('rollback');
      try {
        setWorkflow(await rollbackTo(slug, number));
        void refreshRelease();
        const list = await refreshVersions();
        setCurrent((prev) => (prev ? (list.find((v) => v.number === prev.number) ?? prev) : prev));
        notify('info', `v${number} is the live version now.`);
      } catch (error) {
        notify('error', errorItems(error)[0]?.message ?? 'Rollback failed.');
      } finally {
        setBusy(null);
      }
    },
    [slug, refreshVersions, refreshRelease, notify],
  );

  // -- canary ------------------------------------------------------------------------

  const canaryAction = useCallback(
    async (action: 'promote' | 'abort') => {
      const canary = release?.canary;
      if (!canary) return;
      const question =
        action === 'promote'
          ? `Promote v${canary.version}? Every new run will start on it.`
          : `Abort the canary v${canary.version}? New runs go back to v${release?.live_version ?? '?'}; runs already on v${canary.version} finish on it.`;
      if (!window.confirm(question)) return;
      setBusy('canary');
      try {
        const next = action === 'promote' ? await promoteCanary(slug) : await abortCanary(slug, 'aborted in the editor');
        setRelease(next);
        notify('info', action === 'promote' ? `v${canary.version} is the live version now.` : `The canary v${canary.version} is aborted.`);
        const list = await refreshVersions();
        setCurrent((prev) => (prev ? (list.find((v) => v.number === prev.number) ?? prev) : prev));
        await refreshWorkflow();
      } catch (error) {
        notify('error', errorItems(error)[0]?.message ?? 'The server refused.');
        void refreshRelease();
      } finally {
        setBusy(null);
      }
    },
    [release, slug, notify, refreshVersions, refreshWorkflow, refreshRelease],
  );

  const confirmDiscard = useCallback(
    () => !dirty || window.confirm('Discard your unsaved changes?'),
    [dirty],
  );

  const onPickVersion = (number: number) => {
    if (number === current?.number || !confirmDiscard()) return;
    setPanel('none');
    void openVersion(number);
  };

  const openDiff = useCallback(
    (to?: number) => {
      const numbers = versions.map((v) => v.number).sort((a, b) => b - a);
      if (numbers.length < 2) {
        notify('info', 'There is only one version so far: save or publish another to compare.');
        return;
      }
      const target = to ?? current?.number ?? numbers[0]!;
      const older = numbers.find((n) => n < target);
      const from = older ?? numbers.find((n) => n !== target)!;
      setPanel('none');
      setDiff({ from, to: target });
    },
    [versions, current, notify],
  );

  // -- coverage ----------------------------------------------------------------------

  useEffect(() => {
    if (!coverageOn || current === null) return undefined;
    const controller = new AbortController();
    getCoverage(slug, current.number, controller.signal).then(setCoverage, (error: unknown) => {
      if (!controller.signal.aborted) notify('error', errorItems(error)[0]?.message ?? 'Cannot load coverage.');
    });
    return () => controller.abort();
  }, [coverageOn, current, slug, notify, testsRevision]);

  const shownCoverage = coverageOn && coverage ? coverageFor(coverage, coverageSource) : null;
  const coverageMap = useMemo(() => takenMap(shownCoverage), [shownCoverage]);

  // -- tests -------------------------------------------------------------------------

  const testsTarget = testTarget(current, dirty);
  const onTestRun = useCallback((run: TestRun | null) => {
    setTestRun(run);
    if (run !== null) setTestsRevision((n) => n + 1);
  }, []);
  const onCasesChanged = useCallback(() => {
    setTestsRevision((n) => n + 1);
    // The lint of untested choice branches reads the cases: ask the server again.
    setServerCheck((prev) => (prev === null ? prev : { ...prev, stale: true }));
  }, []);
  const testPath = useMemo(() => {
    if (testRun === null || shownTest === null) return null;
    const index = testRun.report.results.findIndex((r, i) => resultKey(r, i) === shownTest);
    return pathOf(testRun.report.results[index]);
  }, [testRun, shownTest]);
  const uncovered = useMemo(
    () => (testRun !== null && testRun.scope === 'all' ? new Set(testRun.report.coverage.uncovered) : null),
    [testRun],
  );
  const openSide = (next: Side) => {
    setSide(next);
    if (next === 'tests') setTestsOpened(true);
  };
  // Selecting an element is for the inspector: show it.
  useEffect(() => {
    if (selection.nodes.size + selection.edges.size > 0) setSide('inspect');
  }, [selection]);

  // -- import / export ---------------------------------------------------------------

  const fileInput = useRef<HTMLInputElement>(null);
  const onImportFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (!file || readOnly) return;
    try {
      const imported = normalizeGraph(await file.text());
      commit(imported);
      setSelection(EMPTY_SELECTION);
      setFitRequest((n) => n + 1);
      notify('info', `Imported ${imported.nodes.length} nodes and ${imported.edges.length} edges from ${file.name}. Save to keep them.`);
    } catch (error) {
      notify('error', `Cannot import ${file.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  const exportJson = () => {
    const blob = new Blob([`${JSON.stringify(getGraph(), null, 2)}\n`], { type: 'application/json' });
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = `${slug}-${current ? `v${current.number}` : 'new'}${dirty ? '-edited' : ''}.json`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  // -- shortcuts ---------------------------------------------------------------------

  useEditorShortcuts({
    enabled: loaded && diff === null,
    onUndo: undo,
    onRedo: redo,
    onCopy: copySelection,
    onPaste: paste,
    onDelete: deleteSelection,
    onSelectAll: selectAll,
    onSave: () => {
      if (!readOnly) void save();
    },
    onEscape: () => {
      setSelection(EMPTY_SELECTION);
      setPanel('none');
    },
    onHelp: () => setPanel((p) => (p === 'help' ? 'none' : 'help')),
  });

  // -- render ------------------------------------------------------------------------

  if (loadErrors.length > 0) {
    return (
      <div className="editor-error">
        <h1>Cannot open the editor</h1>
        <ErrorList errors={loadErrors} testId="editor-load-errors" />
        <p>
          <a href="/">Back to workflows</a>
        </p>
      </div>
    );
  }

  const liveVersion = release?.live_version ?? workflow?.live_version ?? null;
  const canary = release?.canary ?? null;
  const runVersion = current?.status === 'published' && !dirty ? current.number : liveVersion;
  const runNote =
    runVersion === null || runVersion === current?.number
      ? null
      : `The open version ${current ? `(v${current.number}, ${dirty ? 'with unsaved changes' : current.status})` : ''} cannot run; this run uses the live version v${runVersion}.`;
  const statusText = current === null ? 'new' : current.is_live ? 'live' : current.status;
  const canPublish = !busy && counts.errors === 0 && (dirty || current === null || current.status === 'draft');
  const onlyStartEnd = graph.nodes.every((n) => n.type === 'start' || n.type === 'end');
  // Ready for input once the graph and what the role allows are both known.
  const ready = loaded && me.status !== 'loading';

  return (
    <div
      className={`editor${readOnly ? ' is-readonly' : ''}`}
      data-testid="editor"
      data-loaded={ready ? 'true' : 'false'}
      data-readonly={readOnly ? 'true' : 'false'}
    >
      <header className="editor-topbar">
        <div className="topbar-group topbar-title">
          <a href="/" className="back-link" title="All workflows" aria-label="All workflows">
            ←
          </a>
          <h1 className="editor-name" data-testid="workflow-name" title={workflow?.name}>
            {workflow?.name ?? slug}
          </h1>
          <select
            className="version-select"
            aria-label="Version"
            value={current?.number ?? ''}
            onChange={(e) => onPickVersion(Number(e.target.value))}
            disabled={versions.length === 0 || busy !== null}
            data-testid="version-select"
          >
            {current === null ? <option value="">new</option> : null}
            {versions.map((v) => (
              <option key={v.number} value={v.number}>
                v{v.number}
                {v.is_live ? ' (live)' : v.number === canary?.version ? ' (canary)' : v.status === 'draft' ? ' (draft)' : ''}
              </option>
            ))}
          </select>
          <span className={`vbadge vbadge-${statusText}`} data-testid="version-status" data-status={current?.status ?? 'new'}>
            {current === null ? 'not saved' : current.is_live ? 'live' : current.status}
          </span>
          {current !== null && current.number === canary?.version ? <span className="vbadge vbadge-canary">canary {canary.percent} %</span> : null}
          {dirty && current !== null ? (
            <span className="dirty" data-testid="dirty-indicator" title="Unsaved changes">
              ● edited
            </span>
          ) : null}
        </div>

        <div className="topbar-group">
          <button type="button" className="btn btn-icon" onClick={undo} disabled={readOnly || !canUndo} title={editDenied ?? 'Undo (Ctrl/⌘+Z)'} aria-label="Undo" data-testid="undo">
            ↶
          </button>
          <button type="button" className="btn btn-icon" onClick={redo} disabled={readOnly || !canRedo} title={editDenied ?? 'Redo (Ctrl/⌘+Shift+Z)'} aria-label="Redo" data-testid="redo">
            ↷
          </button>
          <button type="button" className="btn btn-icon" onClick={layout} disabled={readOnly} title={editDenied ?? 'Auto-layout left to right'} aria-label="Auto-layout" data-testid="auto-layout">
            ⇶
          </button>
          <button type="button" className="btn btn-icon" onClick={() => fileInput.current?.click()} disabled={readOnly} title={editDenied ?? 'Import graph JSON'} aria-label="Import JSON" data-testid="import-json">
            ⤓
          </button>
          <input ref={fileInput} type="file" accept="application/json,.json" hidden onChange={onImportFile} data-testid="import-file" />
          <button type="button" className="btn btn-icon" onClick={exportJson} title="Export graph JSON" aria-label="Export JSON" data-testid="export-json">
            ⤒
          </button>
        </div>

        <div className="topbar-group">
          <button type="button" className="btn btn-small" onClick={() => openDiff()} disabled={versions.length < 2} data-testid="diff-open">
            Diff
          </button>
          <button
            type="button"
            className={`btn btn-small ${panel === 'versions' ? 'is-on' : ''}`}
            onClick={() => setPanel((p) => (p === 'versions' ? 'none' : 'versions'))}
            aria-expanded={panel === 'versions'}
            data-testid="history-toggle"
          >
            History
          </button>
          <button
            type="button"
            className={`btn btn-small ${panel === 'release' ? 'is-on' : ''}`}
            onClick={() => setPanel((p) => (p === 'release' ? 'none' : 'release'))}
            aria-expanded={panel === 'release'}
            disabled={release === null}
            title="Publish gate and automatic rollback"
            data-testid="release-settings-toggle"
          >
            Release
          </button>
        </div>

        <div className="topbar-group topbar-end">
          <button
            type="button"
            className={`validation-state ${counts.errors ? 'is-error' : counts.warnings ? 'is-warning' : 'is-ok'}`}
            onClick={() => void validateNow()}
            title="Check with the server"
            data-testid="validation-state"
            data-state={counts.errors ? 'errors' : counts.warnings ? 'warnings' : 'ok'}
          >
            {busy === 'validate'
              ? 'Checking…'
              : counts.errors
                ? `✕ ${counts.errors} ${counts.errors === 1 ? 'error' : 'errors'}`
                : counts.warnings
                  ? `! ${counts.warnings} ${counts.warnings === 1 ? 'warning' : 'warnings'}`
                  : '✓ Valid'}
          </button>
          <button
            type="button"
            className="btn"
            onClick={() => void save()}
            disabled={readOnly || busy !== null || !loaded || (!dirty && current !== null)}
            title={editDenied ?? (current?.status === 'published' ? 'Save your changes as a new draft (Ctrl/⌘+S)' : 'Save the draft (Ctrl/⌘+S)')}
            data-testid="save-draft"
          >
            {busy === 'save' ? 'Saving…' : 'Save draft'}
          </button>
          <button
            type="button"
            className={`btn btn-primary ${panel === 'publish' ? 'is-on' : ''}`}
            onClick={() => {
              // With nothing live there is no choice to make: a first version goes live.
              if (liveVersion === null) void publish(0, false);
              else {
                setPublishOutcome(null);
                setPanel((p) => (p === 'publish' ? 'none' : 'publish'));
              }
            }}
            disabled={readOnly || !canPublish}
            title={
              editDenied ??
              (counts.errors
                ? 'Fix the errors first'
                : current?.status === 'published' && !dirty
                  ? 'This version is already published'
                  : liveVersion === null
                    ? 'Publish as the live version'
                    : 'Publish live or as a canary')
            }
            aria-haspopup={liveVersion === null ? undefined : 'dialog'}
            data-testid="publish"
          >
            {busy === 'publish' ? 'Publishing…' : liveVersion === null ? 'Publish' : 'Publish…'}
          </button>
          <button
            type="button"
            className={`btn btn-secondary ${panel === 'run' ? 'is-on' : ''}`}
            onClick={() => setPanel((p) => (p === 'run' ? 'none' : 'run'))}
            aria-expanded={panel === 'run'}
            disabled={runDenied !== null}
            title={runDenied ?? 'Start a run'}
            data-testid="run-open"
          >
            ▶ Run
          </button>
          <button
            type="button"
            className={`btn btn-icon ${panel === 'help' ? 'is-on' : ''}`}
            onClick={() => setPanel((p) => (p === 'help' ? 'none' : 'help'))}
            aria-expanded={panel === 'help'}
            aria-label="Help"
            title="Shortcuts (?)"
            data-testid="help-toggle"
          >
            ?
          </button>
        </div>

        {panel === 'versions' ? (
          <VersionsPanel
            versions={versions}
            currentNumber={current?.number ?? null}
            busy={busy !== null}
            onOpen={onPickVersion}
            onDiff={(n) => openDiff(n)}
            onMakeLive={(n) => void makeLive(n)}
            makeLiveDenied={editDenied}
            canary={canary}
            onClose={() => setPanel('none')}
          />
        ) : null}
        {panel === 'publish' ? (
          <PublishDialog
            what={current !== null && current.status === 'draft' && !dirty ? `v${current.number}` : 'your edits as a new version'}
            settings={release}
            liveVersion={liveVersion}
            canPublish={canPublish}
            denied={editDenied}
            busy={busy !== null}
            outcome={publishOutcome}
            onPublish={(percent) => void publish(percent, true)}
            onClose={() => setPanel('none')}
          />
        ) : null}
        {panel === 'release' && release !== null ? (
          <ReleaseSettingsPanel slug={slug} settings={release} denied={editDenied} onSaved={setRelease} onClose={() => setPanel('none')} />
        ) : null}
        {panel === 'run' && runDenied === null ? <RunPanel slug={slug} version={runVersion} note={runNote} onClose={() => setPanel('none')} /> : null}
        {panel === 'help' ? <HelpPanel onClose={() => setPanel('none')} /> : null}
      </header>

      {canary !== null ? (
        <CanaryBanner
          slug={slug}
          canary={canary}
          liveVersion={release?.live_version ?? null}
          busy={busy !== null}
          denied={editDenied}
          onPromote={() => void canaryAction('promote')}
          onAbort={() => void canaryAction('abort')}
        />
      ) : null}

      <div className={`editor-body${side === 'tests' ? ' is-testing' : ''}`}>
        <Palette onAdd={addInView} disabled={!loaded || readOnly} disabledReason={editDenied} />
        <div className="editor-center">
          <div className="editor-canvas-wrap" ref={canvasRef}>
            {roleBanner !== null ? (
              <div className="readonly-banner is-role" role="status" data-testid="role-readonly-banner">
                {roleBanner}
              </div>
            ) : !readOnly && current?.status === 'published' ? (
              <div className="readonly-banner" data-testid="readonly-banner">
                {dirty
                  ? `Editing a copy of published v${current.number}: Save draft creates a new version.`
                  : `v${current.number} is published and read-only; your edits will be saved as a new draft.`}
              </div>
            ) : null}
            <EditorCanvas
              graph={graph}
              selection={selection}
              marks={marks}
              coverage={coverageMap}
              path={testPath}
              uncovered={uncovered}
              onSelectionChange={onSelectionChange}
              onMove={onMove}
              onConnect={onConnect}
              onAddNode={onAddNode}
              readOnly={readOnly}
            />
            {loaded && onlyStartEnd && !readOnly ? (
              <div className="canvas-hint" data-testid="canvas-empty-hint">
                <strong>Drag a task from the palette</strong> onto the canvas, then connect the steps: drag from a
                node’s right handle to the next node’s left handle.
              </div>
            ) : null}
            {!loaded ? <div className="canvas-hint">Loading…</div> : null}
            <div className="canvas-tools">
              <button
                type="button"
                className={`btn btn-small ${coverageOn ? 'is-on' : ''}`}
                onClick={() => setCoverageOn((on) => !on)}
                disabled={current === null}
                aria-pressed={coverageOn}
                title={current === null ? 'Save and publish to see which edges runs take' : 'Color edges by whether runs of this version took them'}
                data-testid="coverage-toggle"
              >
                {coverageOn ? '◉' : '○'} Coverage
                {coverageOn && coverage ? (
                  <span className="coverage-percent" data-testid="coverage-percent">
                    {' '}
                    {percentText(shownCoverage)}
                  </span>
                ) : null}
              </button>
              {coverageOn && coverage ? (
                <div className="coverage-legend" data-testid="coverage-legend" data-source={coverageSource}>
                  <div className="segmented coverage-sources" role="group" aria-label="Edges taken by">
                    {COVERAGE_SOURCES.map(({ source, label, title }) => (
                      <button
                        key={source}
                        type="button"
                        className={`btn btn-small${coverageSource === source ? ' is-on' : ''}`}
                        aria-pressed={coverageSource === source}
                        onClick={() => setCoverageSource(source)}
                        title={title}
                        data-testid={`coverage-source-${source}`}
                      >
                        {label}
                      </button>
                    ))}
                  </div>
                  <div>{coverageLegend(coverage, coverageSource)}</div>
                  <div className="coverage-keys">
                    <span className="legend legend-taken">taken</span>
                    <span className="legend legend-untaken">never taken</span>
                  </div>
                </div>
              ) : null}
              {uncovered !== null && testRun !== null ? (
                <div className="coverage-legend tests-legend" data-testid="canvas-test-legend">
                  <div>
                    Tests on v{testRun.report.version}: {reportSummary(testRun.report)}
                  </div>
                  <div className="coverage-keys">
                    {testPath ? <span className="legend legend-path">case path</span> : null}
                    {uncovered.size > 0 ? <span className="legend legend-uncovered">untested edge</span> : <span>every edge tested</span>}
                  </div>
                </div>
              ) : testPath !== null ? (
                <div className="coverage-legend tests-legend" data-testid="canvas-test-legend">
                  <div className="coverage-keys">
                    <span className="legend legend-path">case path</span>
                  </div>
                </div>
              ) : null}
            </div>
            {notice ? (
              <div className={`editor-notice is-${notice.kind}`} role="status" data-testid="editor-notice" key={notice.id}>
                {notice.text}
                <button type="button" className="link-button" onClick={() => setNotice(null)} aria-label="Dismiss">
                  ✕
                </button>
              </div>
            ) : null}
          </div>
          <IssuesPanel
            issues={issues}
            open={issuesOpen}
            checking={checking}
            onToggle={toggleIssues}
            onFocus={centerOn}
          />
        </div>
        <div className="editor-side">
          <div className="side-tabs" role="tablist" aria-label="Right panel">
            <button
              type="button"
              role="tab"
              aria-selected={side === 'inspect'}
              className={`side-tab${side === 'inspect' ? ' is-active' : ''}`}
              onClick={() => openSide('inspect')}
              data-testid="side-tab-inspector"
            >
              Inspector
            </button>
            <button
              type="button"
              role="tab"
              aria-selected={side === 'tests'}
              className={`side-tab${side === 'tests' ? ' is-active' : ''}`}
              onClick={() => openSide('tests')}
              data-testid="side-tab-tests"
            >
              Tests
              {testRun !== null && testRun.scope === 'all' ? (
                <span className={`count-pill ${testRun.report.failed > 0 ? 'is-error' : 'is-ok'}`} data-testid="tests-tab-count">
                  {testRun.report.failed > 0 ? `✗ ${testRun.report.failed}` : `✓ ${testRun.report.passed}`}
                </span>
              ) : null}
            </button>
          </div>
          <div className="side-pane" hidden={side !== 'inspect'}>
            <Inspector
              graph={graph}
              selection={selection}
              actions={actions}
              issues={issues}
              onEdit={edit}
              onSelect={setSelection}
              onDelete={deleteSelection}
              readOnly={readOnly}
            />
          </div>
          {testsOpened ? (
            <div className="side-pane" hidden={side !== 'tests'}>
              <TestsPanel
                slug={slug}
                graph={graph}
                version={testsTarget.version}
                targetNote={testsTarget.note}
                editDenied={editDenied}
                run={testRun}
                onRun={onTestRun}
                shown={shownTest}
                onShow={setShownTest}
                onCasesChanged={onCasesChanged}
              />
            </div>
          ) : null}
        </div>
      </div>

      {diff ? <DiffView slug={slug} versions={versions} from={diff.from} to={diff.to} onClose={() => setDiff(null)} /> : null}
    </div>
  );
}
