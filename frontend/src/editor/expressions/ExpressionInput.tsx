/** An expression field: autocomplete (arrows, Enter/Tab, Escape), the server's error with its column, a live preview against the chosen run. */

import { useContext, useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { checkExpression, previewExpression, type ExpressionPreview, type ExpressionProblem } from '../../api/expressions';
import { ExpressionHelp } from '../execution/executionContext';
import '../execution/execution.css';
import { applySuggestion, complete } from './complete';

interface ExpressionInputProps {
  id: string;
  text: string;
  onChange: (text: string) => void;
  /** `param`: an expression only when the text starts with "="; `condition`: always. */
  mode: 'param' | 'condition';
  /** The node whose step gives `outcome` in a preview (an edge's source). */
  nodeId?: string;
  multiline?: boolean;
  rows?: number;
  placeholder?: string;
  maxLength?: number;
  testId?: string;
  /** Take the focus when mounted, the cursor at the end (it replaced the input typed in). */
  focusOnMount?: boolean;
}

const DEBOUNCE_MS = 350;
const PREVIEW_CHARS = 300;

export function ExpressionInput({ id, text, onChange, mode, nodeId, multiline, rows = 2, placeholder, maxLength, testId, focusOnMount }: ExpressionInputProps) {
  const help = useContext(ExpressionHelp);
  const listId = useId();
  const ref = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  const [cursor, setCursor] = useState(text.length);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const [problem, setProblem] = useState<ExpressionProblem | null>(null);
  const [preview, setPreview] = useState<ExpressionPreview | null>(null);

  // The expression's source and where it starts in the text ("=" of a param is not part of it).
  const offset = mode === 'param' ? 1 : 0;
  const isExpression = mode === 'condition' || (text.startsWith('=') && !text.startsWith('=='));
  const source = isExpression ? text.slice(offset) : '';

  const completion = useMemo(
    () => (open && isExpression && cursor >= offset ? complete(source, cursor - offset, help) : null),
    [open, isExpression, source, cursor, offset, help],
  );
  const items = completion?.items ?? [];
  const shown = open && items.length > 0;

  useEffect(() => setActive(0), [completion?.from, items.length]);

  useEffect(() => {
    if (!focusOnMount || !ref.current) return;
    ref.current.focus();
    ref.current.setSelectionRange(text.length, text.length);
    setOpen(true);
    // Only when mounted: it replaced the plain input the "=" was typed in.
  }, []);

  // Compile on the server (and preview against the chosen run) once typing pauses.
  useEffect(() => {
    setProblem(null);
    setPreview(null);
    if (!isExpression || !source.trim()) return;
    const controller = new AbortController();
    const timer = window.setTimeout(() => {
      checkExpression(source, controller.signal).then(
        (answer) => {
          if (!answer.ok) {
            setProblem(answer.errors[0] ?? null);
            return;
          }
          if (help.runId === null) return;
          previewExpression(source, help.runId, nodeId, controller.signal).then(setPreview, () => undefined);
        },
        () => undefined,
      );
    }, DEBOUNCE_MS);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [isExpression, source, help.runId, nodeId]);

  function accept(index: number) {
    const item = items[index];
    if (!completion || !item) return;
    const shifted = { ...completion, from: completion.from + offset, to: completion.to + offset };
    const next = applySuggestion(text, shifted, item);
    onChange(next.text);
    setCursor(next.cursor);
    // Keep suggesting after a field (`steps.` → ids → `.output`), not after a call.
    setOpen(!item.insert.endsWith('('));
    window.requestAnimationFrame(() => ref.current?.setSelectionRange(next.cursor, next.cursor));
  }

  function onKeyDown(event: KeyboardEvent) {
    if (event.key === ' ' && event.ctrlKey) {
      event.preventDefault();
      setOpen(true);
      return;
    }
    if (!shown) return;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      setActive((a) => (a + step + items.length) % items.length);
    } else if (event.key === 'Enter' || event.key === 'Tab') {
      event.preventDefault();
      accept(active);
    } else if (event.key === 'Escape') {
      // Close the list only: the editor's Escape (clear the selection) waits for the next one.
      event.preventDefault();
      event.stopPropagation();
      setOpen(false);
    }
  }

  const common = {
    ref,
    id,
    value: text,
    placeholder,
    maxLength,
    className: 'mono',
    spellCheck: false,
    role: 'combobox',
    'aria-autocomplete': 'list' as const,
    'aria-expanded': shown,
    'aria-controls': listId,
    'aria-activedescendant': shown ? `${listId}-${active}` : undefined,
    'aria-invalid': problem !== null,
    'data-testid': testId,
    onKeyDown,
    onChange: (e: { target: { value: string; selectionStart: number | null } }) => {
      onChange(e.target.value);
      setCursor(e.target.selectionStart ?? e.target.value.length);
      setOpen(true);
    },
    onSelect: (e: { currentTarget: { selectionStart: number | null } }) => setCursor(e.currentTarget.selectionStart ?? 0),
    onBlur: () => setOpen(false),
  };

  return (
    <div className="expr-input">
      {multiline ? <textarea {...common} rows={rows} /> : <input {...common} type="text" />}
      {shown ? (
        <ul className="expr-suggest" role="listbox" id={listId} data-testid="expr-suggestions">
          {items.map((item, index) => (
            <li
              key={`${item.kind}:${item.label}`}
              id={`${listId}-${index}`}
              role="option"
              aria-selected={index === active}
              data-testid="expr-suggestion"
              data-label={item.label}
              // Before the input's blur: keep the list while the click lands.
              onMouseDown={(e) => {
                e.preventDefault();
                accept(index);
              }}
            >
              <span>{item.label}</span>
              <span className="expr-detail">{item.detail}</span>
            </li>
          ))}
        </ul>
      ) : null}
      {problem ? (
        <p className="field-error" role="alert" data-testid="expr-error">
          {problem.line > 1 ? `Line ${problem.line}, column ${problem.column + offset}` : `Column ${problem.column + offset}`}: {problem.message}
        </p>
      ) : null}
      {preview && help.runId !== null ? (
        <p className="expr-preview" data-testid="expr-preview">
          <span className="muted">In run #{help.runId}: </span>
          {preview.ok ? (
            preview.too_large ? (
              <span className="muted">a value of {preview.too_large} bytes</span>
            ) : (
              <code>{shorten(JSON.stringify(preview.value) ?? 'null')}</code>
            )
          ) : (
            <span className="field-error">{preview.errors[0]?.message}</span>
          )}
        </p>
      ) : null}
    </div>
  );
}

function shorten(text: string): string {
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS - 1)}…` : text;
}
