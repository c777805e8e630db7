/** Create a workflow (slug, name, description), showing the server's errors inline. */

import { useState, type FormEvent } from 'react';
import type { ApiErrorItem, Workflow } from '../api/types';
import { createWorkflow } from '../api/workflows';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { slugify } from './input';

interface NewWorkflowFormProps {
  onCreated: (workflow: Workflow) => void;
  onCancel: () => void;
}

const FIELDS = ['slug', 'name', 'description'] as const;

export function NewWorkflowForm({ onCreated, onCancel }: NewWorkflowFormProps) {
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [slugEdited, setSlugEdited] = useState(false);
  const [description, setDescription] = useState('');
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const [submitting, setSubmitting] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setErrors([]);
    setSubmitting(true);
    try {
      onCreated(await createWorkflow({ slug: slug.trim(), name: name.trim(), description }));
    } catch (error) {
      setErrors(errorItems(error));
    } finally {
      setSubmitting(false);
    }
  }

  const fieldErrors = (field: string) => errors.filter((e) => e.field === field);
  const otherErrors = errors.filter((e) => !(FIELDS as readonly string[]).includes(e.field ?? ''));

  return (
    <form className="card new-workflow" onSubmit={submit} data-testid="new-workflow-form">
      <h2>New workflow</h2>
      <ErrorList errors={otherErrors} testId="new-workflow-errors" />
      <div className="field">
        <label htmlFor="new-workflow-name">Name</label>
        <input
          id="new-workflow-name"
          name="name"
          className={fieldErrors('name').length > 0 ? 'invalid' : undefined}
          value={name}
          maxLength={200}
          required
          autoFocus
          placeholder="Order intake"
          onChange={(e) => {
            setName(e.target.value);
            if (!slugEdited) setSlug(slugify(e.target.value));
          }}
        />
        <FieldErrors errors={fieldErrors('name')} />
      </div>
      <div className="field">
        <label htmlFor="new-workflow-slug">Slug</label>
        <input
          id="new-workflow-slug"
          name="slug"
          className={fieldErrors('slug').length > 0 ? 'invalid' : undefined}
          value={slug}
          maxLength={64}
          required
          placeholder="order-intake"
          onChange={(e) => {
            setSlug(e.target.value);
            setSlugEdited(true);
          }}
        />
        <p className="hint">Letters, digits, hyphens and underscores; used in URLs and the API.</p>
        <FieldErrors errors={fieldErrors('slug')} />
      </div>
      <div className="field">
        <label htmlFor="new-workflow-description">Description</label>
        <textarea
          id="new-workflow-description"
          name="description"
          rows={2}
          value={description}
          onChange={(e) => setDescription(e.target.value)}
        />
        <FieldErrors errors={fieldErrors('description')} />
      </div>
      <div className="actions">
        <button type="submit" className="btn btn-primary" disabled={submitting} data-testid="new-workflow-submit">
          {submitting ? 'Creating…' : 'Create workflow'}
        </button>
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function FieldErrors({ errors }: { errors: ApiErrorItem[] }) {
  if (errors.length === 0) return null;
  return (
    <p className="field-error" role="alert">
      {errors.map((e) => e.message).join(' ')}
    </p>
  );
}
