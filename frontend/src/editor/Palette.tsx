/** The node palette: drag a node type onto the canvas, or click to add it in view. */

import { memo, type DragEvent } from 'react';
import type { NodeType } from '../graph';
import { NODE_TYPES, PALETTE_MIME } from './nodeMeta';

interface PaletteProps {
  onAdd: (type: NodeType) => void;
  disabled?: boolean;
  /** Why the palette is disabled (its tooltip), when the role is the reason. */
  disabledReason?: string | null;
}

export const Palette = memo(function Palette({ onAdd, disabled = false, disabledReason = null }: PaletteProps) {
  const onDragStart = (event: DragEvent, type: NodeType) => {
    event.dataTransfer.setData(PALETTE_MIME, type);
    event.dataTransfer.setData('text/plain', type);
    event.dataTransfer.effectAllowed = 'copy';
  };
  return (
    <aside className="editor-palette" aria-label="Node palette" data-testid="palette">
      <h2 className="panel-title">Nodes</h2>
      <p className="hint">{disabledReason ?? 'Drag onto the canvas, or click to add.'}</p>
      <ul>
        {NODE_TYPES.map((meta) => (
          <li key={meta.type}>
            <button
              type="button"
              className={`palette-item palette-${meta.type}`}
              draggable={!disabled}
              disabled={disabled}
              onDragStart={(event) => onDragStart(event, meta.type)}
              onClick={() => onAdd(meta.type)}
              title={disabledReason ?? meta.hint}
              data-testid={`palette-${meta.type}`}
            >
              <span className={`palette-icon wf-icon-${meta.type}`} aria-hidden="true">
                {meta.icon}
              </span>
              <span className="palette-text">
                <span className="palette-name">{meta.title}</span>
                <span className="palette-hint">{meta.hint}</span>
              </span>
            </button>
          </li>
        ))}
      </ul>
    </aside>
  );
});
