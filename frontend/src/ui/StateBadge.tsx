/** Show a run or step state as a colored badge. */

import { stateLabel } from './format';

interface StateBadgeProps {
  state: string;
  testId?: string;
}

export function StateBadge({ state, testId }: StateBadgeProps) {
  return (
    <span className={`badge badge-${state}`} data-testid={testId} data-state={state}>
      {stateLabel(state)}
    </span>
  );
}
