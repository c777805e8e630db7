/** Edit a workflow's run input schema (JSON, checked by the server) and its saved sample inputs. */

import { useEffect, useId, useState } from 'react';
import type { ApiErrorItem } from '../../api/types';
import { patchRunSettings, type RunSettings } from '../../api/workflows';
import { ErrorList, errorItems } from '../../ui/ErrorList';
import { parseRunInput } from '../../workflows/input';

interface InputSchemaEditorProps {
  slug: string;
  settings: RunSettings;
  /** Why the role may not edit, or null. */
  denied: string | null;
  onSaved: (settings: RunSettings) => void;
}

const EXAMPLE = '{\n  "type": "object",\n  "properties": {\n    "order_id": {"type": "string"}\n  },\n  "required": ["order_id"]\n}';

export function InputSchemaEditor({ slug, settings, denied, onSaved }: InputSchemaEditorProps) {
  const id = useId();
  const [text, setText] = useState(() => schemaText(settings.input_schema));
  const [parseError, setParseError] = useState<string | null>(null);
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);

  // The settings arrive after the first render (or change when a sample is saved).
  useEffect(() => setText(schemaText(settings.input_schema)), [settings.input_schema]);

  async function save(patch: Partial<RunSettings>) {
    setErrors([]);
    setSaved(false);
    setSaving(true);
    try {
      onSaved(await patchRunSettings(slug, patch));
      setSaved(true);
    } catch (error) {
      setErrors(errorItems(error));
    } finally {
      setSaving(false);
    }
  }

  function saveSchema() {
    const parsed = parseRunInput(text);
    if (!parsed.ok) {
      setParseError(parsed.error.replace('Input', 'The schema'));
      return;
    }
    void save({ input_schema: parsed.value });
  }

  return (
    <div className="input-schema-editor" data-testid="input-schema-editor">
      <label htmlFor={`${id}-schema`} className="small strong">
        Input schema <span className="muted">(JSON Schema of an object; empty: any object)</span>
      </label>
      <textarea
        id={`${id}-schema`}
        rows={10}
        className={parseError ? 'mono invalid' : 'mono'}
        spellCheck={false}
        value={text}
        placeholder={EXAMPLE}
        readOnly={denied !== null}
        onChange={(e) => {
          setText(e.target.value);
          setSaved(false);
          const parsed = parseRunInput(e.target.value);
          setParseError(parsed.ok ? null : parsed.error.replace('Input', 'The schema'));
        }}
        aria-invalid={parseError !== null}
        data-testid="input-schema-text"
      />
      {parseError ? (
        <p className="field-error" role="alert" data-testid="input-schema-parse-error">
          {parseError}
        </p>
      ) : null}
      <ErrorList errors={errors} testId="input-schema-errors" />
      <div className="actions">
        <button type="button" className="btn btn-primary btn-small" disabled={saving || parseError !== null || denied !== null} title={denied ?? undefined} onClick={saveSchema} data-testid="input-schema-save">
          {saving ? 'Saving…' : 'Save schema'}
        </button>
        {saved ? (
          <span className="small muted" role="status">
            Saved.
          </span>
        ) : null}
      </div>
      <h3 className="small strong">Sample inputs</h3>
      {settings.sample_inputs.length === 0 ? (
        <p className="muted small">None yet: fill the Run form and “Save as sample”.</p>
      ) : (
        <ul className="sample-list" data-testid="sample-list">
          {settings.sample_inputs.map((sample) => (
            <li key={sample.name}>
              <span className="strong">{sample.name}</span> <code className="muted small">{preview(sample.input)}</code>
              <button
                type="button"
                className="link-button small"
                disabled={denied !== null || saving}
                onClick={() => void save({ sample_inputs: settings.sample_inputs.filter((s) => s.name !== sample.name) })}
                aria-label={`Delete sample ${sample.name}`}
              >
                Delete
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function schemaText(schema: Record<string, unknown>): string {
  return Object.keys(schema).length === 0 ? '' : JSON.stringify(schema, null, 2);
}

function preview(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}
