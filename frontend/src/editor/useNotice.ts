/** Hold the editor's one-line notice, which clears itself (an error stays longer). */

import { useCallback, useEffect, useState } from 'react';

export interface Notice {
  kind: 'info' | 'error';
  text: string;
  id: number;
}

export type Notify = (kind: Notice['kind'], text: string) => void;

export function useNotice(): { notice: Notice | null; notify: Notify; dismiss: () => void } {
  const [notice, setNotice] = useState<Notice | null>(null);
  const notify = useCallback<Notify>((kind, text) => setNotice({ kind, text, id: Date.now() }), []);
  const dismiss = useCallback(() => setNotice(null), []);
  useEffect(() => {
    if (notice === null) return undefined;
    const timer = setTimeout(() => setNotice(null), notice.kind === 'error' ? 9000 : 4000);
    return () => clearTimeout(timer);
  }, [notice]);
  return { notice, notify, dismiss };
}
