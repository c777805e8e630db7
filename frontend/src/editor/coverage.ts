/** The coverage overlay's sources: edges taken by real runs, by test cases, or by either (no React). */

import type { EdgeCoverage } from '../api/changeSafety';
import type { Coverage } from '../api/versions';

export type CoverageSource = 'runs' | 'tests' | 'both';

export const COVERAGE_SOURCES: readonly { source: CoverageSource; label: string; title: string }[] = [
  { source: 'runs', label: 'runs', title: 'Edges taken by real runs of this version' },
  { source: 'tests', label: 'tests', title: 'Edges taken by the workflow’s test cases' },
  { source: 'both', label: 'both', title: 'Edges taken by runs or by test cases' },
];

/** Return the coverage of one source, or null when the server did not send it. */
export function coverageFor(coverage: Coverage, source: CoverageSource): EdgeCoverage | null {
  if (source === 'runs') return coverage;
  return (source === 'tests' ? coverage.tests : coverage.combined) ?? null;
}

/** Return {edge_id: times taken} for the canvas. */
export function takenMap(coverage: EdgeCoverage | null): ReadonlyMap<string, number> | null {
  return coverage ? new Map(coverage.edges.map((e) => [e.id, e.taken])) : null;
}

/** Return the legend's first line: "v3: 5 of 9 edges taken by 2 runs". */
export function coverageLegend(coverage: Coverage, source: CoverageSource): string {
  const shown = coverageFor(coverage, source);
  if (shown === null) return `v${coverage.version}: no test coverage from the server`;
  const head = `v${coverage.version}: ${shown.covered} of ${shown.total} edges taken by`;
  const runs = `${coverage.runs} ${coverage.runs === 1 ? 'run' : 'runs'}`;
  if (source === 'runs') return `${head} ${runs}`;
  if (source === 'tests') return `${head} test cases`;
  return `${head} ${runs} or test cases`;
}

/** Return "87.5 %", or "—" for a version without edges. */
export function percentText(coverage: EdgeCoverage | null): string {
  return coverage === null || coverage.percent === null ? '—' : `${coverage.percent} %`;
}
