/** Edit a retry policy (a node's, over the workflow defaults) and preview its delays. */

import { backoffPreview, ENGINE_RETRY_DEFAULTS, type RetryPolicyInput } from '../graph';
import { MAX_BACKOFF, MAX_DURATION_S } from '../graph/validate';
import { ListField, NumberField, SelectField } from './fields';

type Policy = Record<string, unknown>;

interface RetryFieldsProps {
  value: Policy | undefined;
  /** The policy this one falls back to (workflow defaults), shown as placeholders. */
  inherited: Policy | undefined;
  onChange: (value: Policy | undefined, field: string) => void;
  testIdPrefix?: string;
  /** How placeholders name the fallback: "inherited" (workflow) or "engine default". */
  fallbackLabel?: string;
}

const ENGINE_DEFAULTS: Policy = ENGINE_RETRY_DEFAULTS;

function withField(policy: Policy | undefined, name: string, value: unknown): Policy | undefined {
  const next: Policy = { ...policy };
  if (value === undefined) delete next[name];
  else next[name] = value;
  return Object.keys(next).length > 0 ? next : undefined;
}

function seconds(value: number): string {
  if (value >= 100) return `${Math.round(value)} s`;
  return `${Number(value.toFixed(value < 1 ? 2 : 1))} s`;
}

export function RetryFields({ value, inherited, onChange, testIdPrefix = 'retry-', fallbackLabel = 'inherited' }: RetryFieldsProps) {
  const placeholder = (name: string) => {
    const fallback = inherited?.[name] ?? ENGINE_DEFAULTS[name];
    return fallback === undefined ? undefined : `${String(fallback)} (${fallbackLabel})`;
  };
  const set = (name: string) => (next: unknown) => onChange(withField(value, name, next), name);
  let preview: ReturnType<typeof backoffPreview> = [];
  try {
    preview = backoffPreview((value ?? {}) as RetryPolicyInput, (inherited ?? {}) as RetryPolicyInput);
  } catch {
    preview = [];
  }
  const jitter = typeof value?.jitter === 'string' ? value.jitter : '';
  return (
    <div className="retry-fields" data-testid="retry-fields">
      <div className="field-grid">
        <NumberField label="Max attempts" value={value?.max_attempts} integer min={1} max={100} onChange={set('max_attempts')} placeholder={placeholder('max_attempts')} testId={`${testIdPrefix}max_attempts`} />
        <NumberField label="First delay (s)" value={value?.initial_interval_s} min={0} max={MAX_DURATION_S} onChange={set('initial_interval_s')} placeholder={placeholder('initial_interval_s')} testId={`${testIdPrefix}initial_interval_s`} />
        <NumberField label="Backoff ×" value={value?.backoff} min={1} max={MAX_BACKOFF} onChange={set('backoff')} placeholder={placeholder('backoff')} testId={`${testIdPrefix}backoff`} />
        <NumberField label="Max delay (s)" value={value?.max_interval_s} min={0} max={MAX_DURATION_S} onChange={set('max_interval_s')} placeholder={placeholder('max_interval_s')} testId={`${testIdPrefix}max_interval_s`} />
      </div>
      <SelectField
        label="Jitter"
        value={jitter}
        onChange={(next) => set('jitter')(next === '' ? undefined : next)}
        testId={`${testIdPrefix}jitter`}
        options={[
          ['', `${fallbackLabel} (${String(inherited?.jitter ?? ENGINE_DEFAULTS.jitter)})`],
          ['full', 'full — random 0…delay'],
          ['equal', 'equal — delay/2 + random'],
          ['none', 'none — exact delays'],
        ]}
      />
      <ListField
        label="Non-retryable errors"
        value={value?.non_retryable}
        onChange={set('non_retryable')}
        placeholder="HttpClientError, ValidationError"
        hint="Error names that fail at once, without retrying."
        testId={`${testIdPrefix}non_retryable`}
      />
      <div className="backoff-preview" data-testid="backoff-preview">
        <div className="backoff-title">Delays before each retry</div>
        {preview.length === 0 ? (
          <p className="muted small">No retries: the first failure is final.</p>
        ) : (
          <table>
            <tbody>
              {preview.slice(0, 8).map((row) => {
                const width = Math.max(2, Math.min(100, (row.max_s / Math.max(1e-9, maxOf(preview))) * 100));
                return (
                  <tr key={row.attempt}>
                    <th scope="row">#{row.attempt}</th>
                    <td className="backoff-bar-cell">
                      <span className="backoff-bar" style={{ width: `${width}%` }} />
                    </td>
                    <td className="numeric">
                      {row.min_s === row.max_s ? seconds(row.max_s) : `${seconds(row.min_s)}–${seconds(row.max_s)}`}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        {preview.length > 8 ? <p className="muted small">…and {preview.length - 8} more.</p> : null}
      </div>
    </div>
  );
}

function maxOf(rows: readonly { max_s: number }[]): number {
  let max = 0;
  for (const row of rows) max = Math.max(max, row.max_s);
  return max;
}
