/** The board: live counters, runs and feeds ("Live"), and the version scorecard ("Scorecard"). */

import { useCallback, useEffect, useState } from 'react';
import type { StreamStatus } from '../api/eventStream';
import { ConnectionIndicator } from '../ui/ConnectionIndicator';
import { LIVE_KEYS } from './boardUrl';
import { LiveTab } from './LiveTab';
import { parseChoice, writeChoice, type ScorecardChoice } from './scorecard';
import { ScorecardTab } from './ScorecardTab';

type Tab = 'live' | 'scorecard';

function tabFromUrl(): Tab {
  return new URLSearchParams(window.location.search).get('tab') === 'scorecard' ? 'scorecard' : 'live';
}

/**
 * Keep the tab and the scorecard's choices in the address bar (shareable, survives
 * reload); on the live tab, the live tab writes its own filters (boardUrl.ts).
 */
function writeUrl(tab: Tab, choice: ScorecardChoice): void {
  let params = new URLSearchParams(window.location.search);
  if (tab === 'scorecard') {
    for (const key of LIVE_KEYS) params.delete(key);
    params = writeChoice(params, choice);
    params.set('tab', 'scorecard');
  } else {
    params.delete('tab');
  }
  const search = params.toString();
  const url = `${window.location.pathname}${search ? `?${search}` : ''}`;
  if (url !== `${window.location.pathname}${window.location.search}`) window.history.replaceState(null, '', url);
}

export function BoardPage() {
  const [tab, setTab] = useState<Tab>(tabFromUrl);
  const [choice, setChoice] = useState<ScorecardChoice>(() => parseChoice(window.location.search));
  // The scorecard mounts on first visit; the live tab stays mounted so it keeps streaming.
  const [scorecardOpened, setScorecardOpened] = useState(tab === 'scorecard');
  const [stream, setStream] = useState<{ status: StreamStatus; loaded: boolean }>({ status: 'connecting', loaded: false });

  useEffect(() => writeUrl(tab, choice), [tab, choice]);

  // Back and forward may cross a tab switch (the live tab reads its own filters).
  useEffect(() => {
    const onPop = () => {
      const next = tabFromUrl();
      setTab(next);
      if (next === 'scorecard') {
        setChoice(parseChoice(window.location.search));
        setScorecardOpened(true);
      }
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  const onStatus = useCallback((status: StreamStatus, loaded: boolean) => setStream({ status, loaded }), []);

  const open = (next: Tab) => {
    setTab(next);
    if (next === 'scorecard') setScorecardOpened(true);
  };

  return (
    <div className="page-body">
      <header className="page-header">
        <div className="title-tabs">
          <h1>Board</h1>
          <div className="tabs" role="tablist" aria-label="Board views">
            <button
              type="button"
              role="tab"
              id="tab-live"
              aria-selected={tab === 'live'}
              aria-controls="panel-live"
              className={`tab${tab === 'live' ? ' is-active' : ''}`}
              onClick={() => open('live')}
              data-testid="tab-live"
            >
              Live
            </button>
            <button
              type="button"
              role="tab"
              id="tab-scorecard"
              aria-selected={tab === 'scorecard'}
              aria-controls="panel-scorecard"
              className={`tab${tab === 'scorecard' ? ' is-active' : ''}`}
              onClick={() => open('scorecard')}
              data-testid="tab-scorecard"
            >
              Scorecard
            </button>
          </div>
        </div>
        <ConnectionIndicator status={stream.status} loaded={stream.loaded} />
      </header>
      <div role="tabpanel" id="panel-live" aria-labelledby="tab-live" hidden={tab !== 'live'}>
        <LiveTab onStatus={onStatus} active={tab === 'live'} />
      </div>
      {scorecardOpened ? (
        <div role="tabpanel" id="panel-scorecard" aria-labelledby="tab-scorecard" hidden={tab !== 'scorecard'}>
          <ScorecardTab choice={choice} onChoice={setChoice} />
        </div>
      ) : null}
    </div>
  );
}
