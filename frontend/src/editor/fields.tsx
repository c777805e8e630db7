/** Small inspector inputs that keep what the user types while committing parsed values. */

import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { ExpressionInput } from './expressions/ExpressionInput';

interface FieldShellProps {
  label: ReactNode;
  htmlFor?: string;
  hint?: ReactNode;
  error?: string | null;
  children: ReactNode;
  inline?: boolean;
}

export function FieldShell({ label, htmlFor, hint, error, children, inline = false }: FieldShellProps) {
  return (
    <div className={inline ? 'ifield ifield-inline' : 'ifield'}>
      <label htmlFor={htmlFor}>{label}</label>
      {children}
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

interface TextFieldProps {
  label: ReactNode;
  value: unknown;
  onChange: (value: string | undefined) => void;
  testId?: string;
  placeholder?: string;
  hint?: ReactNode;
  multiline?: boolean;
  maxLength?: number;
  list?: string;
  mono?: boolean;
  rows?: number;
  /** With expression help: `param` when the text starts with "=", `condition` always. */
  expression?: 'param' | 'condition';
  /** The node whose output is `outcome` in a preview (an edge's source). */
  expressionNode?: string;
}

/** A text input; an empty value means "not set" (undefined). */
export function TextField({ label, value, onChange, testId, placeholder, hint, multiline, maxLength, list, mono, rows = 3, expression, expressionNode }: TextFieldProps) {
  const id = useId();
  const text = typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
  const common = {
    id,
    value: text,
    placeholder,
    maxLength,
    'data-testid': testId,
    className: mono ? 'mono' : undefined,
    spellCheck: mono ? false : undefined,
  };
  const asExpression = expression !== undefined && (expression === 'condition' || text.startsWith('='));
  // Typing "=" swaps the plain input for an expression field: that one takes the focus.
  const swapped = useChanged(asExpression);
  if (expression && asExpression) {
    return (
      <FieldShell label={label} htmlFor={id} hint={hint}>
        <ExpressionInput
          id={id}
          text={text}
          onChange={(next) => onChange(next === '' ? undefined : next)}
          mode={expression}
          nodeId={expressionNode}
          multiline={multiline}
          rows={rows}
          placeholder={placeholder}
          maxLength={maxLength}
          testId={testId}
          focusOnMount={swapped}
        />
      </FieldShell>
    );
  }
  return (
    <FieldShell label={label} htmlFor={id} hint={hint}>
      {multiline ? (
        <textarea {...common} rows={rows} onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)} />
      ) : (
        <input
          {...common}
          type="text"
          list={list}
          onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)}
        />
      )}
    </FieldShell>
  );
}

/** Say whether `value` has changed since the component mounted. */
function useChanged(value: boolean): boolean {
  const last = useRef(value);
  const changed = useRef(false);
  if (last.current !== value) {
    changed.current = true;
    last.current = value;
  }
  return changed.current;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Keep the typed text while it parses to the current value; resync when it changes elsewhere. */
function useTypedText<T>(value: T, format: (value: T) => string, parse: (text: string) => Parsed<T>, same: (a: T, b: T) => boolean) {
  const [text, setText] = useState(() => format(value));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const parsed = parse(text);
    if (!parsed.ok || !same(parsed.value, value)) {
      setText(format(value));
      setError(null);
    }
    // Only an outside change of `value` (undo, another field) should reset the text.
  }, [value]);
  return { text, setText, error, setError };
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

interface NumberFieldProps {
  label: ReactNode;
  value: unknown;
  onChange: (value: number | string | undefined) => void;
  integer?: boolean;
  min?: number;
  max?: number;
  /** Accept `=expression` strings (action params). */
  allowExpression?: boolean;
  testId?: string;
  placeholder?: string;
  hint?: ReactNode;
}

/** A number input that accepts partial typing ("1.") and, for params, `=` expressions. */
export function NumberField({ label, value, onChange, integer, min, max, allowExpression, testId, placeholder, hint }: NumberFieldProps) {
  const id = useId();
  const parse = (text: string): Parsed<number | string | undefined> => {
    const trimmed = text.trim();
    if (trimmed === '') return { ok: true, value: undefined };
    if (allowExpression && trimmed.startsWith('=')) return { ok: true, value: text };
    const number = Number(trimmed);
    if (!Number.isFinite(number)) {
      return { ok: false, error: allowExpression ? 'Enter a number or an =expression.' : 'Enter a number.' };
    }
    if (integer && !Number.isInteger(number)) return { ok: false, error: 'Enter a whole number.' };
    if (min !== undefined && number < min) return { ok: false, error: `At least ${min}.` };
    if (max !== undefined && number > max) return { ok: false, error: `At most ${max}.` };
    return { ok: true, value: number };
  };
  const current = typeof value === 'number' || typeof value === 'string' ? value : undefined;
  const { text, setText, error, setError } = useTypedText<number | string | undefined>(
    current,
    (v) => (v === undefined ? '' : String(v)),
    parse,
    sameJson,
  );
  // An `=expression` gets the expression field's completion, error and preview; typing
  // "=" swaps the inputs, and the expression field takes the focus.
  const asExpression = allowExpression === true && text.trimStart().startsWith('=');
  const swapped = useChanged(asExpression);
  if (asExpression) {
    return (
      <FieldShell label={label} htmlFor={id} hint={hint}>
        <ExpressionInput
          id={id}
          text={text}
          onChange={(next) => {
            setText(next);
            const parsed = parse(next);
            setError(parsed.ok ? null : parsed.error);
            if (parsed.ok) onChange(parsed.value);
          }}
          mode="param"
          placeholder={placeholder}
          testId={testId}
          focusOnMount={swapped}
        />
      </FieldShell>
    );
  }
  return (
    <FieldShell label={label} htmlFor={id} hint={hint} error={error}>
      <input
        id={id}
        type="text"
        inputMode={allowExpression ? 'text' : 'decimal'}
        value={text}
        placeholder={placeholder}
        className={error ? 'invalid' : undefined}
        aria-invalid={error !== null}
        data-testid={testId}
        onChange={(e) => {
          setText(e.target.value);
          const parsed = parse(e.target.value);
          if (parsed.ok) {
            setError(null);
            onChange(parsed.value);
          } else {
            setError(parsed.error);
          }
        }}
      />
    </FieldShell>
  );
}

interface SelectFieldProps {
  label: ReactNode;
  value: string;
  options: readonly (readonly [string, string])[]; // [value, label]
  onChange: (value: string) => void;
  testId?: string;
  hint?: ReactNode;
}

export function SelectField({ label, value, options, onChange, testId, hint }: SelectFieldProps) {
  const id = useId();
  return (
    <FieldShell label={label} htmlFor={id} hint={hint}>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
        {options.map(([optionValue, optionLabel]) => (
          <option key={optionValue} value={optionValue}>
            {optionLabel}
          </option>
        ))}
      </select>
    </FieldShell>
  );
}

interface CheckboxFieldProps {
  label: ReactNode;
  checked: boolean;
  onChange: (checked: boolean) => void;
  testId?: string;
  hint?: ReactNode;
}

export function CheckboxField({ label, checked, onChange, testId, hint }: CheckboxFieldProps) {
  const id = useId();
  return (
    <div className="ifield ifield-check">
      <input id={id} type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} data-testid={testId} />
      <label htmlFor={id}>{label}</label>
      {hint ? <p className="hint">{hint}</p> : null}
    </div>
  );
}

interface ListFieldProps {
  label: ReactNode;
  value: unknown;
  onChange: (value: string[] | undefined) => void;
  testId?: string;
  placeholder?: string;
  hint?: ReactNode;
}

/** A comma-separated list of strings; empty means "not set". */
export function ListField({ label, value, onChange, testId, placeholder, hint }: ListFieldProps) {
  const id = useId();
  const items = Array.isArray(value) ? value.map(String) : [];
  const parse = (text: string): Parsed<string[]> => ({
    ok: true,
    value: text
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  });
  const { text, setText } = useTypedText<string[]>(items, (v) => v.join(', '), parse, sameJson);
  return (
    <FieldShell label={label} htmlFor={id} hint={hint}>
      <input
        id={id}
        type="text"
        value={text}
        placeholder={placeholder}
        data-testid={testId}
        onChange={(e) => {
          setText(e.target.value);
          const parsed = parse(e.target.value);
          if (parsed.ok) onChange(parsed.value.length > 0 ? parsed.value : undefined);
        }}
      />
    </FieldShell>
  );
}

interface JsonFieldProps {
  label: ReactNode;
  value: unknown;
  onChange: (value: unknown) => void;
  testId?: string;
  hint?: ReactNode;
  /** Require a JSON object (the extra-params editor). */
  objectOnly?: boolean;
  rows?: number;
}

/** A JSON value (or an `=expression` string); committed whenever the text parses. */
export function JsonField({ label, value, onChange, testId, hint, objectOnly, rows = 3 }: JsonFieldProps) {
  const id = useId();
  const format = (v: unknown) =>
    v === undefined ? '' : typeof v === 'string' && v.startsWith('=') && !objectOnly ? v : JSON.stringify(v, null, 2);
  const parse = (text: string): Parsed<unknown> => {
    const trimmed = text.trim();
    if (trimmed === '') return { ok: true, value: undefined };
    if (!objectOnly && trimmed.startsWith('=')) return { ok: true, value: trimmed };
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (objectOnly && (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))) {
        return { ok: false, error: 'Enter a JSON object, such as {"key": "value"}.' };
      }
      return { ok: true, value: parsed };
    } catch (error) {
      return { ok: false, error: `Not valid JSON: ${(error as Error).message}` };
    }
  };
  const { text, setText, error, setError } = useTypedText<unknown>(value, format, parse, sameJson);
  return (
    <FieldShell label={label} htmlFor={id} hint={hint} error={error}>
      <textarea
        id={id}
        rows={rows}
        className={error ? 'mono invalid' : 'mono'}
        spellCheck={false}
        value={text}
        aria-invalid={error !== null}
        data-testid={testId}
        onChange={(e) => {
          setText(e.target.value);
          const parsed = parse(e.target.value);
          if (parsed.ok) {
            setError(null);
            onChange(parsed.value);
          } else {
            setError(parsed.error);
          }
        }}
      />
    </FieldShell>
  );
}
