/** Hold the test cases' state the page shares: the last run, the case shown on the canvas, the right column. */

import { useCallback, useEffect, useMemo, useState } from 'react';
import type { Side } from './editorState';
import type { Selection } from './selection';
import { pathOf, resultKey, testTarget, type PathHighlight } from './testCases';
import type { TestRun } from './TestsPanel';

export interface TestCasesOptions {
  current: { number: number } | null;
  dirty: boolean;
  selection: Selection;
  /** The cases changed: what the server said about untested branches is out of date. */
  onCasesStale: () => void;
}

export interface TestCases {
  side: Side;
  /** The tests tab was opened once: its panel stays mounted from then on. */
  testsOpened: boolean;
  openSide: (next: Side) => void;
  testRun: TestRun | null;
  onTestRun: (run: TestRun | null) => void;
  /** The result whose path the canvas shows. */
  shownTest: string | null;
  setShownTest: (key: string | null) => void;
  /** Bumped when test cases change or run: the tests' coverage is read again. */
  testsRevision: number;
  onCasesChanged: () => void;
  /** Which version the cases run on, and why not the open one. */
  testsTarget: { version: number | null; note: string | null };
  testPath: PathHighlight | null;
  /** The edges no case takes, after a run of all cases. */
  uncovered: Set<string> | null;
  /** Forget the last run (another version was opened). */
  clearTestRun: () => void;
}

export function useTestCases({ current, dirty, selection, onCasesStale }: TestCasesOptions): TestCases {
  const [side, setSide] = useState<Side>('inspect');
  const [testsOpened, setTestsOpened] = useState(false);
  const [testRun, setTestRun] = useState<TestRun | null>(null);
  const [shownTest, setShownTest] = useState<string | null>(null);
  const [testsRevision, setTestsRevision] = useState(0);

  const testsTarget = testTarget(current, dirty);
  const onTestRun = useCallback((run: TestRun | null) => {
    setTestRun(run);
    if (run !== null) setTestsRevision((n) => n + 1);
  }, []);
  const onCasesChanged = useCallback(() => {
    setTestsRevision((n) => n + 1);
    // The lint of untested choice branches reads the cases: ask the server again.
    onCasesStale();
  }, [onCasesStale]);
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
  const clearTestRun = useCallback(() => {
    setTestRun(null);
    setShownTest(null);
  }, []);

  // Selecting an element is for the inspector: show it.
  useEffect(() => {
    if (selection.nodes.size + selection.edges.size > 0) setSide('inspect');
  }, [selection]);

  return {
    side,
    testsOpened,
    openSide,
    testRun,
    onTestRun,
    shownTest,
    setShownTest,
    testsRevision,
    onCasesChanged,
    testsTarget,
    testPath,
    uncovered,
    clearTestRun,
  };
}
