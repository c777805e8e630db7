/** Keyboard and mouse shortcuts of the editor. */

const SHORTCUTS: [string, string][] = [
  ['Drag from the palette', 'Add a node where you drop it (or click it to add in view)'],
  ['Drag a right handle to a left handle', 'Connect two nodes'],
  ['Click', 'Select a node or an edge'],
  ['Shift + drag on the canvas', 'Select a box of nodes'],
  ['Shift / Ctrl / ⌘ + click', 'Add to the selection'],
  ['Drag the canvas', 'Pan; the wheel zooms'],
  ['Delete / Backspace', 'Delete the selection'],
  ['Ctrl/⌘ + C, Ctrl/⌘ + V', 'Copy and paste the selected nodes'],
  ['Ctrl/⌘ + A', 'Select everything'],
  ['Ctrl/⌘ + Z', 'Undo'],
  ['Ctrl/⌘ + Shift + Z, Ctrl + Y', 'Redo'],
  ['Ctrl/⌘ + S', 'Save the draft'],
  ['Escape', 'Clear the selection, close panels'],
  ['?', 'Show or hide this help'],
];

export function HelpPanel({ onClose }: { onClose: () => void }) {
  return (
    <div className="popover help-panel" role="dialog" aria-label="Keyboard shortcuts" data-testid="help-panel">
      <header className="popover-head">
        <h2 className="panel-title">Shortcuts</h2>
        <button type="button" className="btn btn-small" onClick={onClose} aria-label="Close">
          ✕
        </button>
      </header>
      <dl className="shortcuts">
        {SHORTCUTS.map(([keys, what]) => (
          <div key={keys}>
            <dt>
              <kbd>{keys}</kbd>
            </dt>
            <dd>{what}</dd>
          </div>
        ))}
      </dl>
      <p className="hint">
        Node errors show as a red ring with a count; warnings are amber. Click a problem in the list to jump to it.
      </p>
    </div>
  );
}
