/** A labelled form field with its error, or else its hint, under it (the .ifield styles of editor/inspector.css). */

import { useId, type ReactNode } from 'react';

interface FormFieldProps {
  label: string;
  error: string | undefined;
  hint?: ReactNode;
  /** Draw the control with the id its label points at. */
  render: (id: string) => ReactNode;
}

export function FormField({ label, error, hint, render }: FormFieldProps) {
  const id = useId();
  return (
    <div className={`ifield${error ? ' has-error' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {render(id)}
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : hint ? (
        <p className="hint">{hint}</p>
      ) : null}
    </div>
  );
}
