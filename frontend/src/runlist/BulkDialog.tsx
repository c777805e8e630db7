/** Confirm a bulk action: name the count, ask for a reason (and a version), then create the job. */

import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { ApiErrorItem } from '../api/types';
import { errorItems, ErrorList } from '../ui/ErrorList';
import { actionLabel, createBulkJob, type BulkAction, type BulkJob } from './bulkApi';
import { runsLabel, selectedCount, selectionBody, type Selection } from './selection';

interface BulkDialogProps {
  action: BulkAction;
  selection: Selection;
  filter: Record<string, string>;
  onClose: () => void;
  onCreated: (job: BulkJob) => void;
}

const QUESTIONS: Record<BulkAction, (runs: string) => string> = {
  cancel: (runs) => `Cancel ${runs}?`,
  retry: (runs) => `Retry ${runs} from their failed step?`,
  rerun: (runs) => `Start ${runs} again on another version?`,
};

const HINTS: Record<BulkAction, string> = {
  cancel: 'Runs that already finished are skipped and listed with the reason.',
  retry: 'Only failed, cancelled or compensated runs are retried; the others are skipped.',
  rerun: 'Each selected run gets a new run with the same input on the version you choose.',
};

export function BulkDialog({ action, selection, filter, onClose, onCreated }: BulkDialogProps) {
  const [reason, setReason] = useState('');
  const [version, setVersion] = useState(action === 'rerun' ? 'live' : 'original');
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  const count = selectedCount(selection);

  useEffect(() => {
    first.current?.focus();
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setErrors([]);
    const chosen = version.trim();
    createBulkJob({
      action,
      ...selectionBody(selection, filter),
      ...(action !== 'cancel' && chosen ? { version: /^\d+$/.test(chosen) ? Number(chosen) : chosen } : {}),
      ...(reason.trim() ? { reason: reason.trim() } : {}),
    }).then(
      (job) => {
        setBusy(false);
        onCreated(job);
      },
      (error: unknown) => {
        setBusy(false);
        setErrors(errorItems(error));
      },
    );
  };

  return (
    <div className="dialog-backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <form className="card bulk-dialog" role="dialog" aria-modal="true" aria-labelledby="bulk-dialog-title" onSubmit={submit} data-testid="bulk-dialog">
        <h2 id="bulk-dialog-title" data-testid="bulk-dialog-title">
          {QUESTIONS[action](runsLabel(count))}
        </h2>
        <p className="muted">
          {selection.mode === 'matching' ? 'Every run matching the search now; runs that match later are not included. ' : ''}
          {HINTS[action]} The job runs in the background; follow it below.
        </p>
        {action !== 'cancel' ? (
          <div className="search-field">
            <label htmlFor="bulk-version">Version</label>
            <input
              id="bulk-version"
              value={version}
              onChange={(e) => setVersion(e.target.value)}
              list="bulk-versions"
              placeholder={action === 'rerun' ? 'live or a number' : 'original, live or a number'}
              data-testid="bulk-version"
            />
            <datalist id="bulk-versions">
              {action === 'retry' ? <option value="original" /> : null}
              <option value="live" />
              {action === 'rerun' ? <option value="original" /> : null}
            </datalist>
          </div>
        ) : null}
        <div className="search-field">
          <label htmlFor="bulk-reason">Reason (recorded on each run's event)</label>
          <input id="bulk-reason" ref={first} value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} data-testid="bulk-reason" />
        </div>
        <ErrorList errors={errors} testId="bulk-errors" />
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose} data-testid="bulk-dismiss">
            Back
          </button>
          <button type="submit" className={`btn ${action === 'cancel' ? 'btn-danger-solid' : 'btn-primary'}`} disabled={busy} data-testid="bulk-confirm">
            {busy ? 'Starting…' : `${actionLabel(action, action === 'cancel' ? '' : version.trim())} ${runsLabel(count)}`}
          </button>
        </div>
      </form>
    </div>
  );
}
