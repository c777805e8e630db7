/** Tell the editor's run picker that the Run dialog started a run (a window event: the two are far apart). */

import type { RunSummary } from '../../api/types';

export const RUN_STARTED_EVENT = 'switchyard:run-started';

export function announceRunStarted(run: RunSummary): void {
  window.dispatchEvent(new CustomEvent<RunSummary>(RUN_STARTED_EVENT, { detail: run }));
}
