/** The workflow's release settings: publish gate, coverage threshold, automatic rollback criteria. */

import { useId, useState, type FormEvent } from 'react';
import { patchReleaseSettings, type PublishGateMode, type ReleaseSettings } from '../api/changeSafety';
import type { ApiErrorItem } from '../api/types';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { criteriaText, GATE_MODES, settingsFormOf, settingsPatchOf, type SettingsErrors, type SettingsField, type SettingsForm } from './release';

interface ReleaseSettingsPanelProps {
  slug: string;
  settings: ReleaseSettings;
  /** Why the user may not change them, or null. */
  denied: string | null;
  onSaved: (settings: ReleaseSettings) => void;
  onClose: () => void;
}

export function ReleaseSettingsPanel({ slug, settings, denied, onSaved, onClose }: ReleaseSettingsPanelProps) {
  const [form, setForm] = useState<SettingsForm>(() => settingsFormOf(settings));
  const [errors, setErrors] = useState<SettingsErrors>({});
  const [apiErrors, setApiErrors] = useState<ApiErrorItem[]>([]);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const gateId = useId();

  const change = (field: SettingsField, value: string) => {
    setForm((prev) => ({ ...prev, [field]: value }));
    setErrors((prev) => {
      const next = { ...prev };
      delete next[field];
      return next;
    });
    setSaved(false);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = settingsPatchOf(form);
    if (!parsed.ok) {
      setErrors(parsed.errors);
      return;
    }
    setSaving(true);
    setApiErrors([]);
    try {
      const next = await patchReleaseSettings(slug, parsed.value);
      onSaved(next);
      setForm(settingsFormOf(next));
      setSaved(true);
    } catch (error) {
      setApiErrors(errorItems(error));
    } finally {
      setSaving(false);
    }
  };

  const preview = settingsPatchOf(form);

  return (
    <form className="popover release-panel" role="dialog" aria-label="Release settings" onSubmit={(e) => void submit(e)} noValidate data-testid="release-settings-panel">
      <header className="popover-head">
        <h2 className="panel-title">Release settings</h2>
        <button type="button" className="btn btn-small" onClick={onClose} aria-label="Close">
          ✕
        </button>
      </header>
      <fieldset className="release-fields" disabled={denied !== null || saving}>
        <legend>Publish gate</legend>
        <div className="ifield">
          <label htmlFor={gateId}>Before a draft is published</label>
          <select id={gateId} value={form.gate} onChange={(e) => change('gate', e.target.value as PublishGateMode)} data-testid="release-gate">
            {GATE_MODES.map(({ mode, text }) => (
              <option key={mode} value={mode}>
                {text}
              </option>
            ))}
          </select>
        </div>
        <NumberInput
          label="Coverage threshold"
          unit="% of edges"
          field="threshold"
          form={form}
          errors={errors}
          onChange={change}
          hint="Test cases must take at least this share of the graph's edges (0: any)."
        />
      </fieldset>
      <fieldset className="release-fields" disabled={denied !== null || saving}>
        <legend>Automatic rollback</legend>
        <p className="hint">
          Checked every 30 s for a canary, and for a version made live within the window: breaking one threshold rolls it
          back. Leave a field empty to ignore it.
        </p>
        <div className="field-grid">
          <NumberInput label="Success rate below" unit="%" field="minSuccessRate" form={form} errors={errors} onChange={change} />
          <NumberInput label="Retry burden above" unit="%" field="maxRetryBurden" form={form} errors={errors} onChange={change} />
          <NumberInput label="Queue delay p95 above" unit="s" field="maxDelayP95" form={form} errors={errors} onChange={change} />
          <NumberInput label="Over at least" unit="runs" field="minRuns" form={form} errors={errors} onChange={change} placeholder="20" />
        </div>
        <NumberInput label="Watch a new live version for" unit="s" field="windowS" form={form} errors={errors} onChange={change} placeholder="3600" />
        {preview.ok ? (
          <p className="small release-summary" data-testid="release-criteria-text">
            {criteriaText(preview.value.rollback_criteria ?? {})}
          </p>
        ) : null}
      </fieldset>
      <ErrorList errors={apiErrors} testId="release-errors" />
      <div className="actions">
        <button type="submit" className="btn btn-primary btn-small" disabled={denied !== null || saving} title={denied ?? undefined} data-testid="release-save">
          {saving ? 'Saving…' : 'Save settings'}
        </button>
        {saved ? (
          <span className="small muted" role="status" data-testid="release-saved">
            Saved.
          </span>
        ) : null}
      </div>
    </form>
  );
}

interface NumberInputProps {
  label: string;
  unit: string;
  field: SettingsField;
  form: SettingsForm;
  errors: SettingsErrors;
  onChange: (field: SettingsField, value: string) => void;
  hint?: string;
  placeholder?: string;
}

function NumberInput({ label, unit, field, form, errors, onChange, hint, placeholder }: NumberInputProps) {
  const id = useId();
  const error = errors[field];
  return (
    <div className="ifield">
      <label htmlFor={id}>{label}</label>
      <div className="input-unit">
        <input
          id={id}
          type="text"
          inputMode="decimal"
          value={form[field]}
          placeholder={placeholder}
          onChange={(e) => onChange(field, e.target.value)}
          className={error ? 'invalid' : undefined}
          aria-invalid={error !== undefined}
          data-testid={`release-${field}`}
        />
        <span className="muted small">{unit}</span>
      </div>
      {error ? (
        <p className="field-error" role="alert" data-testid={`release-error-${field}`}>
          {error}
        </p>
      ) : hint ? (
        <p className="hint">{hint}</p>
      ) : null}
    </div>
  );
}
