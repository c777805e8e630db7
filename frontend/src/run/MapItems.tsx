/** A map step's items: counts by state (from the step, no item fetch), a grid of one square per item, and the first items of a chosen state. */

import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { listMapItems, type MapItem } from '../api/mapItems';
import type { MapSummary } from '../api/types';
import { useMapItemStates } from '../hooks/useMapItemStates';
import { stateLabel } from '../ui/format';
import {
  codeState,
  countsKey,
  formatCount,
  GRID_MAX_ITEMS,
  gridLayout,
  indexAt,
  progressText,
  stateColour,
  stateCounts,
  UNKNOWN_CODE,
  UNKNOWN_COLOUR,
} from './mapGrid';

// How many items of a chosen state the list shows.
const FILTER_LIMIT = 20;

export function MapItems({ runId, stepId, summary }: { runId: number; stepId: number; summary: MapSummary }) {
  const [open, setOpen] = useState(false);
  const [filter, setFilter] = useState<string | null>(null);
  const byState = summary.by_state as Record<string, number>;
  const version = countsKey(byState);
  const counts = stateCounts(byState, summary.total);
  return (
    <div className="map-items" data-testid={`map-${stepId}`} data-total={summary.total}>
      <div className="map-summary">
        <span className="map-progress" data-testid={`map-progress-${stepId}`}>
          {progressText(byState, summary.total)}
        </span>
        <div className="map-bar" aria-hidden="true">
          {counts.map((c) => (
            <span key={c.state} style={{ width: `${c.share * 100}%`, background: stateColour(c.state) }} />
          ))}
        </div>
        <span className="map-counts">
          {counts.map((c) => (
            <button
              type="button"
              key={c.state}
              className={`map-count${filter === c.state ? ' is-on' : ''}`}
              data-testid={`map-count-${stepId}-${c.state}`}
              data-count={c.count}
              aria-pressed={filter === c.state}
              title={`List the first ${stateLabel(c.state)} items`}
              onClick={() => {
                setFilter(filter === c.state ? null : c.state);
                setOpen(true);
              }}
            >
              <span className="map-swatch" style={{ background: stateColour(c.state) }} />
              {stateLabel(c.state)} <strong>{formatCount(c.count)}</strong>
            </button>
          ))}
        </span>
        {summary.total > 0 ? (
          <button type="button" className="link-button small" aria-expanded={open} data-testid={`map-toggle-${stepId}`} onClick={() => setOpen(!open)}>
            {open ? 'Hide items' : `Show ${formatCount(summary.total)} items`}
          </button>
        ) : null}
      </div>
      {open ? <ItemGrid runId={runId} stepId={stepId} total={summary.total} version={version} filter={filter} /> : null}
      {open && filter !== null ? <FilteredItems runId={runId} stepId={stepId} state={filter} version={version} /> : null}
    </div>
  );
}

function ItemGrid({ runId, stepId, total, version, filter }: { runId: number; stepId: number; total: number; version: string; filter: string | null }) {
  const { codes, loading, error } = useMapItemStates(runId, stepId, total, version, true);
  const box = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(600);
  const [hover, setHover] = useState<string>('');
  const layout = gridLayout(total, width);

  useLayoutEffect(() => {
    const element = box.current;
    if (element === null) return undefined;
    const observer = new ResizeObserver(() => setWidth(element.clientWidth || 600));
    observer.observe(element);
    setWidth(element.clientWidth || 600);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    const element = canvas.current;
    const context = element?.getContext('2d');
    if (!element || !context) return;
    const ratio = window.devicePixelRatio || 1;
    element.width = Math.ceil(layout.width * ratio);
    element.height = Math.ceil(layout.height * ratio);
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, layout.width, layout.height);
    const step = layout.cell + layout.gap;
    const shown = Math.min(total, GRID_MAX_ITEMS);
    for (let i = 0; i < shown; i++) {
      const state = codeState(codes[i]);
      context.globalAlpha = filter !== null && state !== filter ? 0.25 : 1;
      context.fillStyle = state === null ? UNKNOWN_COLOUR : stateColour(state);
      context.fillRect((i % layout.columns) * step, Math.floor(i / layout.columns) * step, layout.cell, layout.cell);
    }
    context.globalAlpha = 1;
  }, [codes, layout.width, layout.height, layout.cell, layout.gap, layout.columns, total, filter]);

  const loaded = Array.from(codes).filter((c) => c !== UNKNOWN_CODE).length;
  return (
    <div className="map-grid" ref={box}>
      <canvas
        ref={canvas}
        data-testid={`map-grid-${stepId}`}
        data-loaded={loaded}
        aria-busy={loading}
        role="img"
        aria-label={`${formatCount(total)} items, one square each, coloured by state`}
        title={hover}
        style={{ width: layout.width, height: layout.height }}
        onMouseMove={(event) => {
          const rect = event.currentTarget.getBoundingClientRect();
          const index = indexAt(layout, total, event.clientX - rect.left, event.clientY - rect.top);
          const state = index === null ? null : codeState(codes[index]);
          setHover(index === null ? '' : `item ${index}: ${state === null ? 'loading' : stateLabel(state)}`);
        }}
      />
      {total > GRID_MAX_ITEMS ? <p className="hint">The first {formatCount(GRID_MAX_ITEMS)} items are drawn.</p> : null}
      {error !== null ? <p className="hint error-text">Could not load the items: {error}</p> : null}
    </div>
  );
}

function FilteredItems({ runId, stepId, state, version }: { runId: number; stepId: number; state: string; version: string }) {
  const [page, setPage] = useState<{ count: number; results: MapItem[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    listMapItems(runId, stepId, { state, limit: FILTER_LIMIT, offset: 0 }, controller.signal).then(
      (result) => {
        setPage(result);
        setError(null);
      },
      (reason: unknown) => {
        if (!controller.signal.aborted) setError(reason instanceof Error ? reason.message : String(reason));
      },
    );
    return () => controller.abort();
  }, [runId, stepId, state, version]);

  if (error !== null) return <p className="hint error-text">Could not load the {stateLabel(state)} items: {error}</p>;
  if (page === null) return <p className="hint">Loading {stateLabel(state)} items…</p>;
  return (
    <table className="attempts-table map-item-list" data-testid={`map-items-${stepId}`} data-state={state}>
      <caption className="muted small">
        {page.count > page.results.length ? `First ${page.results.length} of ${formatCount(page.count)}` : formatCount(page.count)} {stateLabel(state)} item
        {page.count === 1 ? '' : 's'}
      </caption>
      <thead>
        <tr>
          <th>Item</th>
          <th>Attempts</th>
          <th>Error</th>
        </tr>
      </thead>
      <tbody>
        {page.results.map((item) => (
          <tr key={item.index} data-testid={`map-item-${stepId}-${item.index}`}>
            <td className="numeric">#{item.index}</td>
            <td className="numeric">{item.attempts}</td>
            <td className="error-cell">{item.error ? `${String(item.error.type ?? 'Error')}: ${String(item.error.message ?? '')}` : null}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
