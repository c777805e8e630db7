/** Keep a resource form's fields, their errors and the server's other errors, and save it: create a new one, or send only what changed. */

import { useState, type FormEvent } from 'react';
import type { ApiErrorItem } from '../api/types';
import { errorItems } from '../ui/ErrorList';
import type { Identified } from './resourceList';

/** A reason per field of the form `F`. */
export type FieldErrors<F> = Partial<Record<keyof F, string>>;

/** What checking the whole form gives: the value to send, or the reasons per field. */
export type Checked<V, F> = { ok: true; value: V } | { ok: false; errors: FieldErrors<F> };

interface ResourceFormOptions<F, V, T extends Identified, C> {
  /** The saved resource to change, or null for a new one. */
  saved: T | null;
  /** The form's first fields (read once). */
  initial: () => F;
  check: (form: F) => Checked<V, F>;
  /** Return only the fields that differ from the saved resource. */
  changedFields: (saved: T, next: V) => Partial<V>;
  create: (value: V) => Promise<C>;
  update: (id: number, patch: Partial<V>) => Promise<T>;
  onCreated: (created: C) => void;
  /** Called with the saved resource as it was when nothing changed (no request then). */
  onSaved: (saved: T) => void;
  /** Put the server's reasons under their fields; without it, all of them show under the form. */
  placeErrors?: (items: ApiErrorItem[]) => { fields: FieldErrors<F>; rest: ApiErrorItem[] };
}

export interface ResourceFormState<F> {
  /** Whether it creates a new resource (or changes a saved one). */
  isNew: boolean;
  form: F;
  /** The reasons under the fields, each cleared when its field changes. */
  errors: FieldErrors<F>;
  /** The server's reasons no field is named for. */
  apiErrors: ApiErrorItem[];
  saving: boolean;
  change: <K extends keyof F>(field: K, value: F[K]) => void;
  submit: (event: FormEvent) => Promise<void>;
}

export function useResourceForm<F, V, T extends Identified, C>({ saved, initial, check, changedFields, create, update, onCreated, onSaved, placeErrors }: ResourceFormOptions<F, V, T, C>): ResourceFormState<F> {
  const [form, setForm] = useState<F>(initial);
  const [errors, setErrors] = useState<FieldErrors<F>>({});
  const [apiErrors, setApiErrors] = useState<ApiErrorItem[]>([]);
  const [saving, setSaving] = useState(false);

  const change = <K extends keyof F>(field: K, value: F[K]) => {
    setForm((prev) => ({ ...prev, [field]: value }));
    setErrors((prev) => {
      const next = { ...prev };
      delete next[field];
      return next;
    });
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = check(form);
    if (!parsed.ok) {
      setErrors(parsed.errors);
      return;
    }
    setSaving(true);
    setApiErrors([]);
    try {
      if (saved === null) onCreated(await create(parsed.value));
      else {
        const patch = changedFields(saved, parsed.value);
        onSaved(Object.keys(patch).length === 0 ? saved : await update(saved.id, patch));
      }
    } catch (error) {
      if (placeErrors === undefined) setApiErrors(errorItems(error));
      else {
        const placed = placeErrors(errorItems(error));
        setErrors(placed.fields);
        setApiErrors(placed.rest);
      }
    } finally {
      setSaving(false);
    }
  };

  return { isNew: saved === null, form, errors, apiErrors, saving, change, submit };
}
