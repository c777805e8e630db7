/** A small button that copies a text to the clipboard and says so for a moment. */

import { useEffect, useState } from 'react';

interface CopyButtonProps {
  text: string;
  /** What is copied, for the label of screen readers and the tooltip: "the URL". */
  what: string;
  testId?: string;
}

/** Copy through the Clipboard API, or, where it is missing (a page not served over HTTPS), a selected textarea. */
async function copyText(text: string): Promise<boolean> {
  if (navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Denied (no permission, page not focused): try the old way.
    }
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  area.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  } finally {
    area.remove();
  }
}

export function CopyButton({ text, what, testId }: CopyButtonProps) {
  const [outcome, setOutcome] = useState<null | 'copied' | 'failed'>(null);

  useEffect(() => {
    if (outcome === null) return undefined;
    const timer = setTimeout(() => setOutcome(null), 2000);
    return () => clearTimeout(timer);
  }, [outcome]);

  return (
    <button
      type="button"
      className="btn btn-small copy-button"
      onClick={() => void copyText(text).then((ok) => setOutcome(ok ? 'copied' : 'failed'))}
      title={outcome === 'failed' ? 'The browser refused: select the text and copy it by hand' : `Copy ${what}`}
      aria-label={`Copy ${what}`}
      data-testid={testId}
      data-copied={outcome === 'copied' ? 'true' : undefined}
    >
      {outcome === 'copied' ? 'Copied ✓' : outcome === 'failed' ? 'Copy failed' : 'Copy'}
    </button>
  );
}
