/** The Run dialog's input: the workflow's schema and samples, the value, its problems. */

import { useCallback, useEffect, useState } from 'react';
import type { ApiErrorItem } from '../api/types';
import { getRunSettings, patchRunSettings, type RunSettings } from '../api/workflows';
import { inputProblems, problemField } from './schemaForm';

export interface RunInput {
  settings: RunSettings;
  setSettings: (settings: RunSettings) => void;
  value: Record<string, unknown>;
  setValue: (value: Record<string, unknown>) => void;
  /** Problems by field path (`input.a`), from the form's check or the server's answer. */
  problems: Record<string, string>;
  jsonError: string | null;
  setJsonError: (error: string | null) => void;
  /** Check before sending; return whether the input may be sent. */
  check: () => boolean;
  /** Show a start's errors that name input fields; return the others. */
  showServerErrors: (errors: ApiErrorItem[]) => ApiErrorItem[];
  saveSample: (name: string) => Promise<void>;
}

const EMPTY: RunSettings = { input_schema: {}, sample_inputs: [] };

export function useRunInput(slug: string): RunInput {
  const [settings, setSettings] = useState<RunSettings>(EMPTY);
  const [value, setValueState] = useState<Record<string, unknown>>({});
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [jsonError, setJsonError] = useState<string | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    getRunSettings(slug, controller.signal).then(
      (loaded) => setSettings({ input_schema: loaded.input_schema ?? {}, sample_inputs: loaded.sample_inputs ?? [] }),
      () => undefined, // no settings: any object, no samples
    );
    return () => controller.abort();
  }, [slug]);

  const setValue = useCallback((next: Record<string, unknown>) => {
    setValueState(next);
    setProblems({});
  }, []);

  const check = () => {
    if (jsonError !== null) return false;
    const found = inputProblems({ type: 'object', ...settings.input_schema }, value);
    setProblems(Object.fromEntries(found.map((p) => [p.field, p.message])));
    return found.length === 0;
  };

  const showServerErrors = (errors: ApiErrorItem[]) => {
    const named = errors.filter((e) => e.code === 'input_invalid' && e.field);
    setProblems(
      Object.fromEntries(
        named.map((e) => {
          const placed = problemField(e.field ?? 'input', e.message);
          return [placed.field, placed.message];
        }),
      ),
    );
    return errors.filter((e) => !named.includes(e));
  };

  const saveSample = async (name: string) => {
    const samples = [...settings.sample_inputs.filter((s) => s.name !== name), { name, input: value }];
    const saved = await patchRunSettings(slug, { sample_inputs: samples });
    setSettings({ input_schema: saved.input_schema ?? {}, sample_inputs: saved.sample_inputs ?? [] });
  };

  return { settings, setSettings, value, setValue, problems, jsonError, setJsonError, check, showServerErrors, saveSample };
}
