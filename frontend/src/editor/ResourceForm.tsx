/** The frame of a resource form in a top-bar panel: title, fields disabled while saving, the server's errors, save and cancel. */

import type { ReactNode } from 'react';
import { ErrorList } from '../ui/ErrorList';
import type { ResourceFormState } from './useResourceForm';

interface ResourceFormProps {
  /** The resource's singular, naming the class and test ids: `schedule` gives .schedule-form, .schedule-fields, schedule-save. */
  name: string;
  /** Draw it in a light box with its fields flush (the .resource-form styles of panels.css). */
  boxed: boolean;
  /** What the form is at: saving, the server's errors, whether it creates a new resource. */
  editing: Pick<ResourceFormState<unknown>, 'isNew' | 'saving' | 'apiErrors' | 'submit'>;
  label: string;
  title: ReactNode;
  /** The save button's text for a new resource, such as "Create schedule". */
  createLabel: string;
  onCancel: () => void;
  /** The fields. */
  children: ReactNode;
}

export function ResourceForm({ name, boxed, editing, label, title, createLabel, onCancel, children }: ResourceFormProps) {
  const { isNew, saving, apiErrors, submit } = editing;
  return (
    <form className={`${name}-form${boxed ? ' resource-form' : ''}`} onSubmit={(e) => void submit(e)} noValidate aria-label={label} data-testid={`${name}-form`}>
      <h3 className={`${name}-form-title`}>{title}</h3>
      <fieldset className={`${name}-fields`} disabled={saving}>
        {children}
      </fieldset>
      <ErrorList errors={apiErrors} testId={`${name}-form-errors`} />
      <div className="actions">
        <button type="submit" className="btn btn-primary btn-small" disabled={saving} data-testid={`${name}-save`}>
          {saving ? 'Saving…' : isNew ? createLabel : 'Save changes'}
        </button>
        <button type="button" className="btn btn-small" onClick={onCancel} disabled={saving} data-testid={`${name}-cancel`}>
          Cancel
        </button>
      </div>
    </form>
  );
}
