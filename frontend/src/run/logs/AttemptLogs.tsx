/** The logs of a step's attempts, one panel each (mounted under the step's attempts). */

import './logs.css';
import type { AttemptDetail } from '../../api/types';
import { AttemptLog } from './AttemptLog';

export function AttemptLogs({ runId, attempts }: { runId: number; attempts: readonly AttemptDetail[] }) {
  return (
    <div className="attempt-logs">
      {attempts.map((attempt) => (
        <AttemptLog key={attempt.id} runId={runId} attempt={attempt} />
      ))}
    </div>
  );
}
