/** A labelled control of the connection form with its error, or else its hint, under it. */

import { useId, type ReactNode } from 'react';

interface FieldProps {
  label: ReactNode;
  error: string | undefined;
  hint?: ReactNode;
  wide?: boolean;
  children: (id: string) => ReactNode;
}

/** A labelled control with its error, or else its hint, under it. */
export function Field({ label, error, hint, wide = false, children }: FieldProps) {
  const id = useId();
  return (
    <div className={`field${wide ? ' is-wide' : ''}${error ? ' has-error' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children(id)}
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
