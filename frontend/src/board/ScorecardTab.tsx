/** The board's scorecard tab: a workflow's metrics over a window, and two versions side by side. */

import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { getReleaseSettings, type ReleaseSettings } from '../api/changeSafety';
import { isAbortError } from '../api/client';
import {
  getMetrics,
  type ComparedMetric,
  type Comparison,
  type MetricsResponse,
  type Scorecard,
  type TrendPoint,
} from '../api/metrics';
import type { ApiErrorItem, Workflow } from '../api/types';
import { listVersions, type VersionSummary } from '../api/versions';
import { listWorkflows } from '../api/workflows';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { formatDateTime } from '../ui/format';
import {
  defaultVersions,
  formatDelta,
  formatNumber,
  formatPercent,
  formatSeconds,
  NO_DATA,
  VERDICT_TEXT,
  verdictClass,
  WINDOWS,
  windowSince,
  type ScorecardChoice,
  type WindowDays,
} from './scorecard';
import { TrendChart, type ChartSeries } from './TrendChart';
import { TriggerTable } from './TriggerTable';

const COLOR_A = '#2563eb';
const COLOR_B = '#ea580c';

interface Loaded {
  main: MetricsResponse;
  /** Version B's own metrics, for its trend lines. */
  other: MetricsResponse | null;
}

interface ScorecardTabProps {
  choice: ScorecardChoice;
  onChoice: (choice: ScorecardChoice) => void;
}

export function ScorecardTab({ choice, onChoice }: ScorecardTabProps) {
  const [workflows, setWorkflows] = useState<Workflow[]>([]);
  const [versions, setVersions] = useState<VersionSummary[] | null>(null);
  const [release, setRelease] = useState<ReleaseSettings | null>(null);
  const [data, setData] = useState<Loaded | null>(null);
  const [loading, setLoading] = useState(false);
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    listWorkflows('', controller.signal).then(
      (page) => setWorkflows(page.results),
      (error: unknown) => {
        if (!isAbortError(error)) setErrors(errorItems(error));
      },
    );
    return () => controller.abort();
  }, []);

  // A workflow's published versions; picking a workflow first compares the canary with
  // the live version while one runs, else its last change.
  useEffect(() => {
    setVersions(null);
    setRelease(null);
    if (!choice.workflow) return undefined;
    const controller = new AbortController();
    // Without the settings (an older server, say) the defaults compare the last change.
    const settings = getReleaseSettings(choice.workflow, controller.signal).catch(() => null);
    Promise.all([listVersions(choice.workflow, controller.signal), settings]).then(
      ([page, rollout]) => {
        const published = page.results.filter((v) => v.status !== 'draft').sort((a, b) => a.number - b.number);
        setVersions(published);
        setRelease(rollout);
        const numbers = published.map((v) => v.number);
        const valid = (n: number | null) => n === null || numbers.includes(n);
        const defaults = defaultVersions(numbers, rollout && { live: rollout.live_version, canary: rollout.canary?.version ?? null });
        if (choice.a === null && choice.b === null) {
          if (defaults.a !== null) onChoice({ ...choice, ...defaults });
        } else if (!valid(choice.a) || !valid(choice.b)) {
          onChoice({ ...choice, ...defaults });
        }
      },
      (error: unknown) => {
        if (!isAbortError(error)) setErrors(errorItems(error));
      },
    );
    return () => controller.abort();
    // Only on a workflow change: the defaults must not undo the person's version picks.
  }, [choice.workflow]);

  const comparing = choice.workflow !== '' && choice.a !== null && choice.b !== null && choice.a !== choice.b;
  const waitingForVersions = choice.workflow !== '' && versions === null;

  useEffect(() => {
    if (waitingForVersions) return undefined;
    const controller = new AbortController();
    const since = windowSince(choice.days, Date.now());
    const workflow = choice.workflow || undefined;
    const a = workflow && choice.a !== null ? choice.a : undefined;
    setLoading(true);
    const main = getMetrics({ workflow, version: a, compare: comparing ? choice.b! : undefined, since }, controller.signal);
    const other = comparing ? getMetrics({ workflow, version: choice.b!, since }, controller.signal) : Promise.resolve(null);
    Promise.all([main, other]).then(
      ([m, o]) => {
        setData({ main: m, other: o });
        setErrors([]);
        setLoading(false);
      },
      (error: unknown) => {
        if (isAbortError(error)) return;
        setErrors(errorItems(error));
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [choice.workflow, choice.days, choice.a, choice.b, comparing, waitingForVersions, reloads]);

  const versionNumbers = versions?.map((v) => v.number) ?? [];
  const workflowName = workflows.find((w) => w.slug === choice.workflow)?.name ?? choice.workflow;

  return (
    <div className="page-body scorecard" data-testid="scorecard-tab" data-loading={loading}>
      <div className="card scorecard-controls">
        <label>
          Workflow{' '}
          <select
            value={choice.workflow}
            onChange={(e) => onChoice({ ...choice, workflow: e.target.value, a: null, b: null })}
            data-testid="scorecard-workflow"
          >
            <option value="">All workflows</option>
            {workflows.map((w) => (
              <option key={w.slug} value={w.slug}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
        <div className="segmented" role="group" aria-label="Window">
          {WINDOWS.map((days) => (
            <button
              key={days}
              type="button"
              className={`btn btn-small${choice.days === days ? ' is-on' : ''}`}
              aria-pressed={choice.days === days}
              onClick={() => onChoice({ ...choice, days: days as WindowDays })}
              data-testid={`scorecard-window-${days}`}
            >
              {days} days
            </button>
          ))}
        </div>
        <label>
          <span className="swatch-label">
            <span className="legend-swatch" style={{ background: COLOR_A }} aria-hidden="true" />
            Version A
          </span>{' '}
          <select
            value={choice.a ?? ''}
            disabled={!choice.workflow}
            onChange={(e) => {
              const a = e.target.value ? Number(e.target.value) : null;
              onChoice({ ...choice, a, b: a === null ? null : choice.b });
            }}
            data-testid="scorecard-version-a"
          >
            <option value="">All versions</option>
            {versionNumbers.map((n) => (
              <option key={n} value={n}>
                v{n}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span className="swatch-label">
            <span className="legend-swatch" style={{ background: COLOR_B }} aria-hidden="true" />
            Version B
          </span>{' '}
          <select
            value={choice.b ?? ''}
            disabled={!choice.workflow || choice.a === null}
            onChange={(e) => onChoice({ ...choice, b: e.target.value ? Number(e.target.value) : null })}
            data-testid="scorecard-version-b"
          >
            <option value="">No comparison</option>
            {versionNumbers
              .filter((n) => n !== choice.a)
              .map((n) => (
                <option key={n} value={n}>
                  v{n}
                </option>
              ))}
          </select>
        </label>
        <button type="button" className="btn btn-small" onClick={() => setReloads((n) => n + 1)} data-testid="scorecard-refresh">
          Refresh
        </button>
        {loading ? <span className="muted small">Loading…</span> : null}
      </div>

      {release?.canary ? (
        <div className="card scorecard-canary" data-testid="scorecard-canary">
          <strong>v{release.canary.version} is a canary</strong>: it takes {release.canary.percent} % of new runs since{' '}
          {formatDateTime(release.canary.started_at)}
          {release.live_version !== null ? `; live v${release.live_version} takes the rest` : ''}.
          {choice.a === release.live_version && choice.b === release.canary.version ? (
            ' Compared side by side below.'
          ) : release.live_version !== null ? (
            <>
              {' '}
              <button
                type="button"
                className="link-button"
                onClick={() => onChoice({ ...choice, a: release.live_version, b: release.canary!.version })}
                data-testid="scorecard-compare-canary"
              >
                Compare live with canary
              </button>
            </>
          ) : null}
        </div>
      ) : null}

      <ErrorList errors={errors} testId="scorecard-errors" />

      {data === null ? (
        errors.length === 0 ? <p className="muted">Loading the scorecard…</p> : null
      ) : (
        <ScorecardBody
          data={data}
          comparing={comparing && data.main.comparison !== undefined}
          title={scopeTitle(choice, workflowName)}
        />
      )}
    </div>
  );
}

function scopeTitle(choice: ScorecardChoice, workflowName: string): string {
  if (!choice.workflow) return 'All workflows';
  if (choice.a === null) return `${workflowName}, all versions`;
  if (choice.b === null || choice.b === choice.a) return `${workflowName} v${choice.a}`;
  return `${workflowName}: v${choice.a} vs v${choice.b}`;
}

function ScorecardBody({ data, comparing, title }: { data: Loaded; comparing: boolean; title: string }) {
  const { main, other } = data;
  const comparison = comparing ? (main.comparison ?? null) : null;
  const a: Scorecard = comparison ? comparison.a : main.scorecard;
  const b: Scorecard | null = comparison ? comparison.b : null;
  const labelA = comparison ? `v${comparison.a.version}` : main.version !== null ? `v${main.version}` : 'all versions';
  const labelB = comparison ? `v${comparison.b.version}` : '';
  const empty = a.runs.finished === 0 && a.attempts === 0 && (b === null || (b.runs.finished === 0 && b.attempts === 0));

  return (
    <>
      <div className="scorecard-head">
        <h2 data-testid="scorecard-title">{title}</h2>
        <span className="muted small">
          {formatDateTime(main.window.since)} – {formatDateTime(main.window.until)}
        </span>
      </div>
      {empty ? (
        <div className="card empty" data-testid="scorecard-empty">
          <p>No run finished and no attempt started in this window. Widen the window or pick another workflow.</p>
        </div>
      ) : null}
      <div className={`metric-grid${comparison ? ' is-comparing' : ''}`}>
        <MetricCard
          title="Success rate"
          help="Succeeded runs ÷ finished runs"
          metric="success_rate"
          comparison={comparison}
          labelA={labelA}
          labelB={labelB}
          a={{ value: formatPercent(a.success_rate), note: `${a.runs.succeeded} of ${a.runs.finished} finished runs`, testId: 'scorecard-a-success' }}
          b={b && { value: formatPercent(b.success_rate), note: `${b.runs.succeeded} of ${b.runs.finished} finished runs`, testId: 'scorecard-b-success' }}
        />
        <MetricCard
          title="Retry burden"
          help="Retry attempts ÷ all attempts (lower is better)"
          metric="retry_burden"
          comparison={comparison}
          labelA={labelA}
          labelB={labelB}
          a={{ value: formatPercent(a.retry_burden), note: retryNote(a), testId: 'scorecard-a-retry' }}
          b={b && { value: formatPercent(b.retry_burden), note: retryNote(b), testId: 'scorecard-b-retry' }}
        />
        <MetricCard
          title="Queue delay"
          help="Attempt start − due time: p50 · p95 · max (lower is better)"
          metric="queue_delay_p95"
          comparison={comparison}
          labelA={labelA}
          labelB={labelB}
          a={{ value: formatSeconds(a.queue_delay.p95), note: delayNote(a), testId: 'scorecard-a-delay', prefix: 'p95 ' }}
          b={b && { value: formatSeconds(b.queue_delay.p95), note: delayNote(b), testId: 'scorecard-b-delay', prefix: 'p95 ' }}
        />
        <MetricCard
          title="Handoff accuracy"
          help="Handoffs reviewed correct ÷ handoffs reviewed (staff review in the admin)"
          metric="handoff_accuracy"
          comparison={comparison}
          labelA={labelA}
          labelB={labelB}
          a={{ value: formatPercent(a.handoff_accuracy.value), note: handoffNote(a), testId: 'scorecard-a-handoff' }}
          b={b && { value: formatPercent(b.handoff_accuracy.value), note: handoffNote(b), testId: 'scorecard-b-handoff' }}
        />
        <MetricCard
          title="Branch coverage"
          help="Edges taken at least once ÷ edges in the version"
          metric="branch_coverage"
          comparison={comparison}
          labelA={labelA}
          labelB={labelB}
          a={{
            value: a.branch_coverage ? formatPercent(a.branch_coverage.value) : NO_DATA,
            note: coverageNote(a),
            testId: 'scorecard-a-coverage',
            codes: a.branch_coverage?.uncovered,
          }}
          b={
            b && {
              value: b.branch_coverage ? formatPercent(b.branch_coverage.value) : NO_DATA,
              note: coverageNote(b),
              testId: 'scorecard-b-coverage',
              codes: b.branch_coverage?.uncovered,
            }
          }
        />
        <MetricCard
          title="Volume"
          help="Runs finished and attempts started in the window"
          comparison={comparison}
          labelA={labelA}
          labelB={labelB}
          a={{ value: `${a.runs.finished}`, suffix: ' runs', note: volumeNote(a), testId: 'scorecard-a-runs' }}
          b={b && { value: `${b.runs.finished}`, suffix: ' runs', note: volumeNote(b), testId: 'scorecard-b-runs' }}
        />
      </div>
      <TriggerTable a={a} b={b} labelA={labelA} labelB={labelB} />
      <Trends main={main.trend} other={other?.trend ?? null} labelA={labelA} labelB={labelB} />
    </>
  );
}

function retryNote(card: Scorecard): string {
  return `${card.retries} retries of ${card.attempts} attempts · ${formatNumber(card.retries_per_run)} per run`;
}

function delayNote(card: Scorecard): string {
  const d = card.queue_delay;
  if (!d.count) return 'no attempt started';
  return `p50 ${formatSeconds(d.p50)} · max ${formatSeconds(d.max)} · ${d.count} attempts`;
}

function handoffNote(card: Scorecard): string {
  const h = card.handoff_accuracy;
  const reviewed = h.reviewed ? `${h.correct} of ${h.reviewed} reviewed correct` : 'no handoff reviewed';
  if (!h.completed) return reviewed;
  const wait = h.wait_to_claim?.p50;
  const work = h.claim_to_complete?.p50;
  return `${reviewed} · ${h.completed} completed · median wait ${formatSeconds(wait)}, work ${formatSeconds(work)}`;
}

function volumeNote(card: Scorecard): string {
  return `${card.runs.succeeded} succeeded · ${card.attempts} attempt${card.attempts === 1 ? '' : 's'}`;
}

function coverageNote(card: Scorecard): string {
  const c = card.branch_coverage;
  if (!c) return 'pick a version to measure';
  return c.total ? `${c.covered} of ${c.total} edges taken` : 'the version has no edges';
}

interface Side {
  value: string;
  note: string;
  testId: string;
  prefix?: string;
  suffix?: string;
  /** Ids listed under the note (edges no run took). */
  codes?: string[];
}

interface MetricCardProps {
  title: string;
  help: string;
  metric?: ComparedMetric;
  comparison: Comparison | null;
  labelA: string;
  labelB: string;
  a: Side;
  b: Side | null;
}

function MetricCard({ title, help, metric, comparison, labelA, labelB, a, b }: MetricCardProps) {
  const difference = metric && comparison ? comparison.differences[metric] : undefined;
  return (
    <section className="card metric-card" data-testid={`metric-${metric ?? title.toLowerCase().replace(/\s+/g, '_')}`}>
      <header className="metric-head">
        <h3>{title}</h3>
        {metric && comparison ? (
          <span
            className={`verdict verdict-${verdictClass(difference?.verdict)}`}
            data-testid={`diff-${metric}`}
            data-verdict={difference?.verdict ?? 'no data'}
            title={`${labelB} compared with ${labelA}`}
          >
            {VERDICT_TEXT[difference?.verdict ?? 'no data']}
            {difference?.delta !== null && difference?.delta !== undefined ? ` · ${formatDelta(metric, difference)}` : ''}
          </span>
        ) : null}
      </header>
      <p className="metric-help muted small">{help}</p>
      <div className="metric-sides">
        <MetricSide label={b ? labelA : null} side={a} color={COLOR_A} />
        {b ? <MetricSide label={labelB} side={b} color={COLOR_B} /> : null}
      </div>
    </section>
  );
}

function MetricSide({ label, side, color }: { label: string | null; side: Side; color: string }) {
  const noData = side.value === NO_DATA;
  return (
    <div className="metric-side">
      {label ? (
        <div className="metric-version">
          <span className="legend-swatch" style={{ background: color }} aria-hidden="true" />
          {label}
        </div>
      ) : null}
      <div className={`metric-value${noData ? ' is-nodata' : ''}`} data-testid={side.testId} data-value={side.value}>
        {side.prefix && !noData ? <span className="metric-prefix">{side.prefix}</span> : null}
        {side.value}
        {side.suffix && !noData ? <span className="metric-prefix">{side.suffix}</span> : null}
      </div>
      <div className="metric-note muted small">{side.note}</div>
      {side.codes && side.codes.length > 0 ? (
        <div className="metric-codes small" data-testid={`${side.testId}-uncovered`}>
          <span className="muted">not taken:</span>{' '}
          {side.codes.map((code) => (
            <code key={code}>{code}</code>
          ))}
        </div>
      ) : null}
    </div>
  );
}

function Trends({ main, other, labelA, labelB }: { main: TrendPoint[]; other: TrendPoint[] | null; labelA: string; labelB: string }) {
  const days = useMemo(() => main.map((p) => p.day), [main]);
  const series = (pick: (p: TrendPoint) => number | null): ChartSeries[] => {
    const out: ChartSeries[] = [{ name: labelA, color: COLOR_A, values: main.map(pick) }];
    if (other) {
      const byDay = new Map(other.map((p) => [p.day, p]));
      out.push({ name: labelB, color: COLOR_B, values: days.map((d) => (byDay.has(d) ? pick(byDay.get(d)!) : null)) });
    }
    return out;
  };
  const charts: ReactNode[] = [
    <TrendChart
      key="success"
      title="Success rate"
      days={days}
      kind="line"
      max={1}
      format={(v) => formatPercent(v)}
      series={series((p) => p.success_rate)}
      testId="trend-success"
    />,
    <TrendChart
      key="finished"
      title="Finished runs"
      days={days}
      kind="bar"
      format={(v) => String(Math.round(v * 100) / 100)}
      series={series((p) => p.finished)}
      testId="trend-finished"
    />,
    <TrendChart
      key="retry"
      title="Retry burden"
      days={days}
      kind="line"
      max={1}
      format={(v) => formatPercent(v)}
      series={series((p) => p.retry_burden)}
      testId="trend-retry"
    />,
    <TrendChart
      key="delay"
      title="Queue delay p95"
      days={days}
      kind="line"
      format={(v) => formatSeconds(v)}
      series={series((p) => p.queue_delay_p95)}
      testId="trend-delay"
    />,
  ];
  return (
    <section aria-labelledby="trend-title">
      <h2 id="trend-title" className="trend-heading">
        Daily trend
      </h2>
      <div className="trend-grid">
        {charts.map((chart, i) => (
          <div key={i} className="card trend-card">
            {chart}
          </div>
        ))}
      </div>
    </section>
  );
}
