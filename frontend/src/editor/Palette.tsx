/** The node palette: search node types and actions; drag one onto the canvas, or click (Enter) to add it in view. */

import { memo, useId, useRef, useState, type DragEvent, type KeyboardEvent } from 'react';
import type { ActionDescription } from '../api/versions';
import { nodeTypes, type GraphNode, type NodeType } from '../graph';
import { PALETTE_MIME, paletteEntry } from './nodeMeta';
import { filterNodeTypes, matchActions, oneLine, PALETTE_ACTION_MIME } from './paletteSearch';
import './palette.css';

interface PaletteProps {
  /** Add a node in view; `fields` preset it (a task's action). */
  onAdd: (type: NodeType, fields?: Partial<GraphNode>) => void;
  /** The registered actions, listed when the search matches them. */
  actions?: readonly ActionDescription[];
  disabled?: boolean;
  /** Why the palette is disabled (its tooltip), when the role is the reason. */
  disabledReason?: string | null;
}

const NO_ACTIONS: readonly ActionDescription[] = [];

export const Palette = memo(function Palette({ onAdd, actions = NO_ACTIONS, disabled = false, disabledReason = null }: PaletteProps) {
  const [query, setQuery] = useState('');
  const listRef = useRef<HTMLDivElement>(null);
  const actionsTitle = useId();
  const types = filterNodeTypes(nodeTypes(), query);
  const matched = matchActions(actions, query);
  const searching = query.trim() !== '';
  const taskIcon = paletteEntry('task').icon;

  const onDragStart = (event: DragEvent, type: NodeType, action?: string) => {
    event.dataTransfer.setData(PALETTE_MIME, type);
    if (action !== undefined) event.dataTransfer.setData(PALETTE_ACTION_MIME, action);
    event.dataTransfer.setData('text/plain', action ?? type);
    event.dataTransfer.effectAllowed = 'copy';
  };

  const onSearchKey = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Escape' && query !== '') {
      event.preventDefault();
      setQuery('');
    } else if (event.key === 'ArrowDown') {
      event.preventDefault();
      listRef.current?.querySelector<HTMLButtonElement>('button:not(:disabled)')?.focus();
    } else if (event.key === 'Enter' && searching && !disabled) {
      // Enter adds the first match: a node type, else the first action.
      event.preventDefault();
      const [firstType] = types;
      const [firstAction] = matched;
      if (firstType) onAdd(firstType.type);
      else if (firstAction) onAdd('task', { action: firstAction.name });
    }
  };

  // Up and down move between the entries; up from the first returns to the search box.
  const onListKey = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    const buttons = [...(listRef.current?.querySelectorAll<HTMLButtonElement>('button:not(:disabled)') ?? [])];
    const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (index === -1) return;
    event.preventDefault();
    const next = index + (event.key === 'ArrowDown' ? 1 : -1);
    if (next < 0) listRef.current?.parentElement?.querySelector<HTMLInputElement>('.palette-search')?.focus();
    else buttons[Math.min(next, buttons.length - 1)]?.focus();
  };

  return (
    <aside className="editor-palette" aria-label="Node palette" data-testid="palette">
      <h2 className="panel-title">Nodes</h2>
      <input
        type="search"
        className="palette-search"
        placeholder="Search…"
        title="Search node types and actions by name or description"
        aria-label="Search node types and actions"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        onKeyDown={onSearchKey}
        autoComplete="off"
        spellCheck={false}
        data-testid="palette-search"
      />
      <p className="hint">{disabledReason ?? 'Drag onto the canvas, or click to add.'}</p>
      <div ref={listRef} onKeyDown={onListKey}>
        <ul>
          {types.map(({ type, palette }) => (
            <li key={type}>
              <button
                type="button"
                className={`palette-item palette-${type}`}
                draggable={!disabled}
                disabled={disabled}
                onDragStart={(event) => onDragStart(event, type)}
                onClick={() => onAdd(type)}
                title={disabledReason ?? palette.hint}
                data-testid={`palette-${type}`}
              >
                <span className={`palette-icon wf-icon-${type}`} aria-hidden="true">
                  {palette.icon}
                </span>
                <span className="palette-text">
                  <span className="palette-name">{palette.title}</span>
                  <span className="palette-hint">{palette.hint}</span>
                </span>
              </button>
            </li>
          ))}
        </ul>
        {searching ? (
          <>
            <h3 className="palette-subtitle" id={actionsTitle}>
              Actions <span className="muted">(a task that runs it)</span>
            </h3>
            {matched.length > 0 ? (
              <ul aria-labelledby={actionsTitle} data-testid="palette-actions">
                {matched.map((action) => {
                  const summary = oneLine(action.description);
                  return (
                    <li key={action.name}>
                      <button
                        type="button"
                        className="palette-item palette-action"
                        draggable={!disabled}
                        disabled={disabled}
                        onDragStart={(event) => onDragStart(event, 'task', action.name)}
                        onClick={() => onAdd('task', { action: action.name })}
                        title={disabledReason ?? (action.description || action.name)}
                        data-testid={`palette-action-${action.name}`}
                      >
                        <span className="palette-icon wf-icon-task" aria-hidden="true">
                          {taskIcon}
                        </span>
                        <span className="palette-text">
                          <span className="palette-name palette-action-name">{action.name}</span>
                          {summary ? <span className="palette-action-summary">{summary}</span> : null}
                        </span>
                      </button>
                    </li>
                  );
                })}
              </ul>
            ) : (
              <p className="muted small palette-none" data-testid="palette-no-actions">
                No action matches “{query.trim()}”.
              </p>
            )}
          </>
        ) : null}
      </div>
    </aside>
  );
});
