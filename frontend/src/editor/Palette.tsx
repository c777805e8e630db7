/** The node palette: drag a node type onto the canvas, or click to add it in view. */

import { memo, type DragEvent } from 'react';
import { nodeTypes, type NodeType } from '../graph';
import { PALETTE_MIME } from './nodeMeta';

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
        {nodeTypes().map(({ type, palette }) => (
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
    </aside>
  );
});
