/** Load the states of a map step's items (up to the grid's limit) while `enabled`, again when `version` changes. */

import { useEffect, useRef, useState } from 'react';
import { listMapItems } from '../api/mapItems';
import { GRID_MAX_ITEMS, ITEMS_PAGE_SIZE, pageOffsets, stateCode, UNKNOWN_CODE } from '../run/mapGrid';

// While items move, reload the squares at most this often (a 10,000-item grid is 20 pages).
const RELOAD_EVERY_MS = 2000;

export interface MapItemStates {
  /** One code per item (see run/mapGrid stateCode), UNKNOWN_CODE until its page loads. */
  codes: Uint8Array;
  loading: boolean;
  error: string | null;
}

export function useMapItemStates(runId: number, stepId: number, total: number, version: string, enabled: boolean): MapItemStates {
  const [result, setResult] = useState<MapItemStates>({ codes: new Uint8Array(0), loading: false, error: null });
  const lastLoad = useRef(0);

  useEffect(() => {
    if (!enabled) return undefined;
    const controller = new AbortController();
    const wait = Math.max(0, lastLoad.current + RELOAD_EVERY_MS - Date.now());
    const timer = setTimeout(() => {
      lastLoad.current = Date.now();
      setResult((prev) => ({ ...prev, loading: true }));
      const offsets = pageOffsets(total);
      const codes = new Uint8Array(Math.min(total, GRID_MAX_ITEMS)).fill(UNKNOWN_CODE);
      const load = async () => {
        // One page after another: the first squares show while the rest load.
        for (const offset of offsets) {
          const page = await listMapItems(runId, stepId, { limit: ITEMS_PAGE_SIZE, offset }, controller.signal);
          for (const item of page.results) if (item.index < codes.length) codes[item.index] = stateCode(item.state);
          if (controller.signal.aborted) return;
          setResult({ codes: codes.slice(), loading: true, error: null });
        }
        setResult({ codes, loading: false, error: null });
      };
      load().catch((error: unknown) => {
        if (!controller.signal.aborted) setResult((prev) => ({ ...prev, loading: false, error: error instanceof Error ? error.message : String(error) }));
      });
    }, wait);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [runId, stepId, total, version, enabled]);

  return result;
}
