/** Bind the editor's keyboard shortcuts on the window (not while typing in a field). */

import { useEffect, useRef } from 'react';

export interface EditorShortcuts {
  enabled: boolean;
  onUndo: () => void;
  onRedo: () => void;
  onCopy: () => void;
  onPaste: () => void;
  onDelete: () => void;
  onSelectAll: () => void;
  onSave: () => void;
  onEscape: () => void;
  onHelp: () => void;
}

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || target.closest('input, textarea, select') !== null;
}

export function useEditorShortcuts(shortcuts: EditorShortcuts): void {
  // The listener is bound once; it always calls the newest handlers.
  const latest = useRef(shortcuts);
  latest.current = shortcuts;

  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      const s = latest.current;
      if (!s.enabled || event.defaultPrevented || event.isComposing) return;
      const mod = event.metaKey || event.ctrlKey;
      const key = event.key.toLowerCase();
      if (mod && key === 's') {
        event.preventDefault();
        s.onSave();
        return;
      }
      if (isTyping(event.target)) return;
      let handled = true;
      if (mod && key === 'z' && !event.shiftKey) s.onUndo();
      else if ((mod && key === 'z' && event.shiftKey) || (event.ctrlKey && key === 'y')) s.onRedo();
      else if (mod && key === 'c' && !document.getSelection()?.toString()) s.onCopy();
      else if (mod && key === 'v') s.onPaste();
      else if (mod && key === 'a') s.onSelectAll();
      else if (!mod && (key === 'delete' || key === 'backspace')) s.onDelete();
      else if (key === 'escape') s.onEscape();
      else if (event.key === '?') s.onHelp();
      else handled = false;
      if (handled) event.preventDefault();
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, []);
}
