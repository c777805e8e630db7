/**
 * "Run from here": start a test run of the open draft at the selected node, with the
 * shown run's input and the data of every step before it (runs.services.test_runs).
 */

import { useState } from 'react';
import { startTestRun } from '../../api/runs';
import type { RunDetail } from '../../api/types';
import { FINISHED_RUN_STATES } from '../../api/types';
import { errorItems } from '../../ui/ErrorList';
import { announceRunStarted } from './runStarted';

/** What the editor knows about the open version, for "run from here". */
export interface TestRunTarget {
  slug: string;
  /** The open draft's number, or null when the open version is no saved draft. */
  draft: number | null;
  /** The canvas has edits the draft does not have yet. */
  dirty: boolean;
  /** Why the role may not start a test run (edit and operate are both needed), or null. */
  denied: string | null;
}

interface RunFromHereProps {
  target: TestRunTarget;
  run: RunDetail;
  nodeId: string;
}

/** Why the button is off, or null when it can be pressed. */
export function runFromHereBlocked(target: TestRunTarget, run: RunDetail): string | null {
  if (target.denied !== null) return target.denied;
  if (target.draft === null) return 'Run from here tests a draft: save your edits as a draft first.';
  if (target.dirty) return 'Save the draft first: a test run runs the saved draft.';
  if (!FINISHED_RUN_STATES.has(run.state)) return `Run #${run.id} is still ${run.state}: pick a finished run's data.`;
  return null;
}

export function RunFromHere({ target, run, nodeId }: RunFromHereProps) {
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const blocked = runFromHereBlocked(target, run);

  async function start() {
    if (blocked !== null || target.draft === null) return;
    setBusy(true);
    setFailure(null);
    try {
      announceRunStarted(await startTestRun(target.slug, target.draft, run.id, nodeId));
    } catch (error) {
      setFailure(errorItems(error).map((e) => e.message).join(' '));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="run-from-here">
      <button
        type="button"
        className="btn btn-small btn-primary"
        onClick={() => void start()}
        disabled={blocked !== null || busy}
        title={blocked ?? `Run draft v${target.draft} from ${nodeId}, with run #${run.id}'s input and the data of the steps before it`}
        data-testid="run-from-here"
      >
        {busy ? 'Starting…' : '▶ Run from here'}
      </button>
      <span className="hint">
        {blocked ?? `Runs ${nodeId} and what follows for real; the steps before it keep run #${run.id}'s data.`}
      </span>
      {failure ? (
        <p className="field-error" role="alert" data-testid="run-from-here-error">
          {failure}
        </p>
      ) : null}
    </div>
  );
}
