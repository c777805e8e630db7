/** The canvas's corner tools: the coverage switch and legend, and the legend of the test cases' paths. */

import { COVERAGE_SOURCES, coverageLegend, percentText } from './coverage';
import { reportSummary } from './testCases';
import type { CoverageView } from './useCoverage';
import type { TestCases } from './useTestCases';

interface CanvasToolsProps {
  /** The open version has a number (was saved): runs can have taken its edges. */
  saved: boolean;
  coverage: CoverageView;
  tests: TestCases;
}

export function CanvasTools({ saved, coverage: view, tests }: CanvasToolsProps) {
  const { coverageOn, setCoverageOn, coverage, coverageSource, setCoverageSource, shownCoverage } = view;
  const { testRun, testPath, uncovered } = tests;
  return (
    <div className="canvas-tools">
      <button
        type="button"
        className={`btn btn-small ${coverageOn ? 'is-on' : ''}`}
        onClick={() => setCoverageOn((on) => !on)}
        disabled={!saved}
        aria-pressed={coverageOn}
        title={!saved ? 'Save and publish to see which edges runs take' : 'Color edges by whether runs of this version took them'}
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
  );
}
