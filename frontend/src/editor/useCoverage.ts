/** Read which edges runs and test cases of the open version took, while the coverage view is on. */

import { useCallback, useEffect, useMemo, useState, type Dispatch, type SetStateAction } from 'react';
import type { EdgeCoverage } from '../api/changeSafety';
import { getCoverage, type Coverage } from '../api/versions';
import { errorItems } from '../ui/ErrorList';
import { coverageFor, takenMap, type CoverageSource } from './coverage';
import type { Notify } from './useNotice';

export interface CoverageOptions {
  slug: string;
  current: { number: number } | null;
  notify: Notify;
  /** Bumped when test cases change or run: read the coverage again. */
  testsRevision: number;
}

export interface CoverageView {
  coverageOn: boolean;
  setCoverageOn: Dispatch<SetStateAction<boolean>>;
  coverage: Coverage | null;
  coverageSource: CoverageSource;
  setCoverageSource: (source: CoverageSource) => void;
  /** The coverage of the chosen source, when the view is on. */
  shownCoverage: EdgeCoverage | null;
  /** {edge_id: times taken} for the canvas. */
  coverageMap: ReadonlyMap<string, number> | null;
  /** Forget the coverage (another version was opened). */
  clearCoverage: () => void;
}

export function useCoverage({ slug, current, notify, testsRevision }: CoverageOptions): CoverageView {
  const [coverageOn, setCoverageOn] = useState(false);
  const [coverage, setCoverage] = useState<Coverage | null>(null);
  const [coverageSource, setCoverageSource] = useState<CoverageSource>('runs');

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
  const clearCoverage = useCallback(() => setCoverage(null), []);

  return { coverageOn, setCoverageOn, coverage, coverageSource, setCoverageSource, shownCoverage, coverageMap, clearCoverage };
}
