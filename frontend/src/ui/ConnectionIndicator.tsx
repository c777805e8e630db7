/** Show the live event stream's connection status as a small pill. */

import type { StreamStatus } from '../api/eventStream';

const STATUS_TEXT: Record<StreamStatus, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  closed: 'disconnected — reload the page',
};

interface ConnectionIndicatorProps {
  status: StreamStatus;
  /** Until the page's first data has loaded, the stream is shown as connecting. */
  loaded?: boolean;
}

export function ConnectionIndicator({ status, loaded = true }: ConnectionIndicatorProps) {
  const shown = loaded ? status : 'connecting';
  return (
    <span className={`connection connection-${shown}`} data-testid="connection-status" data-status={shown} role="status">
      <span className="dot" aria-hidden="true" />
      {STATUS_TEXT[shown]}
    </span>
  );
}
