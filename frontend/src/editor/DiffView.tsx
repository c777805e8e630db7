/** Compare two versions: the newer graph with changes highlighted, and a field-by-field list. */

import { Background, BackgroundVariant, Controls, MiniMap, ReactFlow, ReactFlowProvider, useReactFlow, type NodeChange } from '@xyflow/react';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ApiErrorItem } from '../api/types';
import { diffVersions, getVersion, type FieldChange, type VersionDiff, type VersionSummary } from '../api/versions';
import { diffStatus, normalizeGraph, type WorkflowGraph } from '../graph';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { flowEdges, flowNodes, type EdgeCacheEntry, type FlowEdge, type FlowNode, type Size } from './flow';
import { flowNodeTypes } from './nodes';

interface DiffViewProps {
  slug: string;
  versions: readonly VersionSummary[];
  from: number;
  to: number;
  onClose: () => void;
}

interface Loaded {
  diff: VersionDiff;
  graph: WorkflowGraph;
}

const EMPTY_MAP: ReadonlyMap<string, never> = new Map<string, never>();
const EMPTY_SET = new Set<string>();
const FIT = { padding: 0.2, maxZoom: 1.1 };

export function DiffView(props: DiffViewProps) {
  return (
    <ReactFlowProvider>
      <DiffViewInner {...props} />
    </ReactFlowProvider>
  );
}

function DiffViewInner({ slug, versions, from: initialFrom, to: initialTo, onClose }: DiffViewProps) {
  const [from, setFrom] = useState(initialFrom);
  const [to, setTo] = useState(initialTo);
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const { fitView, setCenter, getInternalNode } = useReactFlow();

  useEffect(() => {
    const controller = new AbortController();
    setErrors([]);
    Promise.all([diffVersions(slug, to, from, controller.signal), getVersion(slug, to, controller.signal)]).then(
      ([diff, version]) => {
        try {
          setLoaded({ diff, graph: normalizeGraph(version.graph) });
        } catch (error) {
          setErrors(errorItems(error));
        }
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setErrors(errorItems(error));
      },
    );
    return () => controller.abort();
  }, [slug, from, to]);

  useEffect(() => {
    if (loaded) requestAnimationFrame(() => void fitView(FIT));
  }, [loaded, fitView]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const status = useMemo(() => (loaded ? diffStatus(loaded.diff) : null), [loaded]);
  // Sizes React Flow measured, kept on the nodes (controlled mode) for the minimap.
  const [measured, setMeasured] = useState<ReadonlyMap<string, Size>>(EMPTY_MAP);
  const onNodesChange = (changes: NodeChange<FlowNode>[]) => {
    const sizes = changes.flatMap((c) => (c.type === 'dimensions' && c.dimensions ? [[c.id, c.dimensions] as const] : []));
    if (sizes.length > 0) setMeasured((prev) => new Map([...prev, ...sizes]));
  };
  const nodeCache = useRef(new Map<string, FlowNode>());
  const edgeCache = useRef(new Map<string, EdgeCacheEntry>());
  const nodes = useMemo(
    () =>
      loaded && status
        ? flowNodes(
            loaded.graph,
            { selected: EMPTY_SET, marks: EMPTY_MAP, diff: status.nodes, moving: EMPTY_MAP, measured, testIdPrefix: 'diff-' },
            nodeCache.current,
          )
        : [],
    [loaded, status, measured],
  );
  const edges = useMemo(
    () =>
      loaded && status
        ? flowEdges(loaded.graph, { selected: EMPTY_SET, marks: EMPTY_MAP, diff: status.edges, coverage: null, testIdPrefix: 'diff-' }, edgeCache.current)
        : [],
    [loaded, status],
  );

  const focusNode = (id: string) => {
    const node = getInternalNode(id);
    if (!node) return;
    const { x, y } = node.internals.positionAbsolute;
    void setCenter(x + (node.measured.width ?? 180) / 2, y + (node.measured.height ?? 56) / 2, { zoom: 1.1, duration: 300 });
  };

  const diff = loaded?.diff;
  const total = diff
    ? diff.nodes.added.length + diff.nodes.removed.length + diff.nodes.changed.length + diff.edges.added.length + diff.edges.removed.length + diff.edges.changed.length + Object.keys(diff.settings).length
    : 0;

  return (
    <div className="diff-view" role="dialog" aria-label="Compare versions" data-testid="diff-view">
      <header className="diff-head">
        <h2 className="panel-title">Compare versions</h2>
        <label>
          from{' '}
          <select value={from} onChange={(e) => setFrom(Number(e.target.value))} data-testid="diff-from">
            {versions.map((v) => (
              <option key={v.number} value={v.number}>
                v{v.number} · {v.status}
              </option>
            ))}
          </select>
        </label>
        <span aria-hidden="true">→</span>
        <label>
          to{' '}
          <select value={to} onChange={(e) => setTo(Number(e.target.value))} data-testid="diff-to">
            {versions.map((v) => (
              <option key={v.number} value={v.number}>
                v{v.number} · {v.status}
              </option>
            ))}
          </select>
        </label>
        <span className="diff-legend">
          <span className="legend legend-added">added</span>
          <span className="legend legend-changed">changed</span>
          <span className="legend legend-removed">removed</span>
        </span>
        <button type="button" className="btn" onClick={onClose} data-testid="diff-close">
          Close
        </button>
      </header>
      <div className="diff-body">
        <div className="diff-canvas">
          <ReactFlow<FlowNode, FlowEdge>
            nodes={nodes}
            edges={edges}
            nodeTypes={flowNodeTypes()}
            colorMode="system"
            onNodesChange={onNodesChange}
            nodesDraggable={false}
            nodesConnectable={false}
            elementsSelectable={false}
            minZoom={0.1}
            fitView
            fitViewOptions={FIT}
            onlyRenderVisibleElements={nodes.length > 150}
            proOptions={{ hideAttribution: true }}
          >
            <Background variant={BackgroundVariant.Dots} gap={20} size={1.2} color="#cbd5e1" />
            <Controls showInteractive={false} />
            <MiniMap<FlowNode> nodeColor={(n) => (n.data.diff === 'added' ? '#16a34a' : n.data.diff === 'changed' ? '#d97706' : '#cbd5e1')} />
          </ReactFlow>
          {!loaded && errors.length === 0 ? <div className="canvas-hint">Loading…</div> : null}
        </div>
        <aside className="diff-changes" data-testid="diff-changes">
          <ErrorList errors={errors} />
          {diff ? (
            total === 0 ? (
              <p className="muted" data-testid="diff-nothing">
                v{diff.from} and v{diff.to} are the same graph (positions aside).
              </p>
            ) : (
              <>
                <p className="muted small">
                  {total} {total === 1 ? 'change' : 'changes'} from v{diff.from} to v{diff.to}.
                </p>
                <ChangeGroup title="Nodes" items={diff.nodes} onFocus={focusNode} kind="node" />
                <ChangeGroup title="Edges" items={diff.edges} kind="edge" />
                {Object.keys(diff.settings).length > 0 ? (
                  <section>
                    <h3>Settings</h3>
                    <FieldChanges fields={diff.settings} />
                  </section>
                ) : null}
              </>
            )
          ) : null}
        </aside>
      </div>
    </div>
  );
}

function ChangeGroup({ title, items, onFocus, kind }: { title: string; items: VersionDiff['nodes']; onFocus?: (id: string) => void; kind: 'node' | 'edge' }) {
  if (items.added.length + items.removed.length + items.changed.length === 0) return null;
  const idButton = (id: string) =>
    onFocus ? (
      <button type="button" className="link-button" onClick={() => onFocus(id)}>
        <code>{id}</code>
      </button>
    ) : (
      <code>{id}</code>
    );
  return (
    <section>
      <h3>{title}</h3>
      <ul className="change-list">
        {items.added.map((id) => (
          <li key={`a-${id}`} className="change change-added" data-testid={`diff-${kind}-added-${id}`}>
            <span className="change-kind">added</span> {idButton(id)}
          </li>
        ))}
        {items.removed.map((id) => (
          <li key={`r-${id}`} className="change change-removed" data-testid={`diff-${kind}-removed-${id}`}>
            <span className="change-kind">removed</span> <code>{id}</code>
          </li>
        ))}
        {items.changed.map((change) => (
          <li key={`c-${change.id}`} className="change change-changed" data-testid={`diff-${kind}-changed-${change.id}`}>
            <span className="change-kind">changed</span> {idButton(change.id)}
            <FieldChanges fields={change.fields} />
          </li>
        ))}
      </ul>
    </section>
  );
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '—';
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value);
  return text.length > 160 ? `${text.slice(0, 159)}…` : text;
}

function FieldChanges({ fields }: { fields: Record<string, FieldChange> }) {
  return (
    <table className="field-changes">
      <tbody>
        {Object.entries(fields).map(([name, change]) => (
          <tr key={name}>
            <th scope="row">{name}</th>
            <td>
              <del>{show(change.old)}</del>
              <span aria-hidden="true"> → </span>
              <ins>{show(change.new)}</ins>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
