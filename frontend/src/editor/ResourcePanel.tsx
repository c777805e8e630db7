/** The shell of the editor's top-bar resource panels (schedules, webhooks, notifications): title, New and close buttons, read-only hint, errors, then a form or the list. */

import type { ReactElement, ReactNode, Ref } from 'react';
import { ErrorList } from '../ui/ErrorList';
import type { ResourceList } from './useResourceList';
import './panels.css';

/** What names a panel and what it says, the same on every visit. */
export interface PanelShell {
  /** The resources' plural, naming the class and test ids: `schedules` gives .schedules-panel, schedules-panel, schedules-readonly, schedules-errors. */
  name: string;
  title: string;
  /** The New button: its text, its title while the user may use it, its test id. */
  create: { label: string; hint: string; testId: string };
  /** A last line under the form or the list. */
  note?: string;
  /** Keep the title and close button in sight while the panel scrolls (for tall content). */
  stickyHead?: boolean;
}

interface ResourcePanelProps<T> {
  shell: PanelShell;
  /** Why the user may not create, change or delete, or null. */
  editDenied: string | null;
  /** The list (null until loaded: "Loading…" then, unless an error says why not) and the errors of loading it. */
  list: Pick<ResourceList<T>, 'items' | 'errors' | 'startNew'>;
  /** The form being filled in, or null: then the list shows, and the New button. */
  form: ReactElement | null;
  /** Shown above the list, not above a form. */
  banner?: ReactNode;
  /** Open the form for a new item; the list's startNew unless given. */
  onNew?: () => void;
  onClose: () => void;
  ref?: Ref<HTMLElement>;
  /** Draw the list, once loaded. */
  children: (items: T[]) => ReactNode;
}

export function ResourcePanel<T>({ shell, editDenied, list, form, banner, onNew = list.startNew, onClose, ref, children }: ResourcePanelProps<T>) {
  const { name, title, create, note, stickyHead = false } = shell;
  const { items, errors } = list;
  return (
    <section ref={ref} className={`popover resource-panel${stickyHead ? ' has-sticky-head' : ''} ${name}-panel`} role="dialog" aria-label={title} data-testid={`${name}-panel`}>
      <header className="popover-head">
        <h2 className="panel-title">{title}</h2>
        <div className="actions">
          {form === null ? (
            <button type="button" className="btn btn-primary btn-small" onClick={onNew} disabled={editDenied !== null} title={editDenied ?? create.hint} data-testid={create.testId}>
              {create.label}
            </button>
          ) : null}
          <button type="button" className="btn btn-small" onClick={onClose} aria-label="Close">
            ✕
          </button>
        </div>
      </header>
      {editDenied !== null ? (
        <p className="hint" data-testid={`${name}-readonly`}>
          {editDenied}
        </p>
      ) : null}
      <ErrorList errors={errors} testId={`${name}-errors`} />
      {form === null ? banner : null}
      {form ?? (items !== null ? children(items) : errors.length === 0 ? <p className="muted">Loading…</p> : null)}
      {note !== undefined ? <p className={`hint resource-note ${name}-note`}>{note}</p> : null}
    </section>
  );
}

interface ResourceEmptyProps {
  /** As for ResourcePanel: `schedules` gives .schedules-empty and the test id schedules-empty. */
  name: string;
  /** The text of the button that opens the form, shown only to those who may. */
  addLabel: string;
  editDenied: string | null;
  onAdd: () => void;
  /** What no item means, and what one would do. */
  children: ReactNode;
}

/** The list's place while it is empty: what that means, and a button to add the first. */
export function ResourceEmpty({ name, addLabel, editDenied, onAdd, children }: ResourceEmptyProps) {
  return (
    <div className={`resource-empty ${name}-empty`} data-testid={`${name}-empty`}>
      <p>{children}</p>
      {editDenied === null ? (
        <button type="button" className="btn btn-small" onClick={onAdd}>
          {addLabel}
        </button>
      ) : null}
    </div>
  );
}
