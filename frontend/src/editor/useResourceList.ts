/** Keep a top-bar panel's list of resources: loaded with abort, its errors, saved and deleted ones put in place, the list or a form shown. */

import { useCallback, useEffect, useState } from 'react';
import { isAbortError } from '../api/client';
import type { ApiErrorItem } from '../api/types';
import { errorItems } from '../ui/ErrorList';
import { removeById, upsertById, type Identified } from './resourceList';

/** What the panel shows: the list, or the form for a new (null) or saved item. */
export type PanelMode<T> = { kind: 'list' } | { kind: 'form'; item: T | null };

export interface ResourceList<T> {
  /** The list; null until it has loaded. */
  items: T[] | null;
  errors: ApiErrorItem[];
  mode: PanelMode<T>;
  /** Show why a load failed (an aborted one says nothing). */
  fail: (error: unknown) => void;
  /** Put a saved item in place of the one of its id, or last if it is new. */
  replace: (saved: T) => void;
  remove: (id: number) => void;
  startNew: () => void;
  edit: (item: T) => void;
  showList: () => void;
  /** Put a saved item in the list and show the list again. */
  saved: (item: T) => void;
}

/**
 * Load the list with `load` (again when it changes, so keep it stable with useCallback), aborting the
 * previous load; a successful load clears the errors.
 */
export function useResourceList<T extends Identified>(load: (signal: AbortSignal) => Promise<T[]>): ResourceList<T> {
  const [items, setItems] = useState<T[] | null>(null);
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const [mode, setMode] = useState<PanelMode<T>>({ kind: 'list' });

  const fail = useCallback((error: unknown) => {
    if (!isAbortError(error)) setErrors(errorItems(error));
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    void (async () => {
      try {
        setItems(await load(controller.signal));
        setErrors([]);
      } catch (error) {
        fail(error);
      }
    })();
    return () => controller.abort();
  }, [load, fail]);

  const replace = (saved: T) => setItems((prev) => upsertById(prev, saved));
  const showList = () => setMode({ kind: 'list' });
  return {
    items,
    errors,
    mode,
    fail,
    replace,
    remove: (id) => setItems((prev) => removeById(prev, id)),
    startNew: () => setMode({ kind: 'form', item: null }),
    edit: (item) => setMode({ kind: 'form', item }),
    showList,
    saved: (item) => {
      replace(item);
      showList();
    },
  };
}
