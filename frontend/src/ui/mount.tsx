/** Mount a page's root component into the template's <div id="root">. */

import { StrictMode, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';

export function mount(page: ReactNode): void {
  const container = document.getElementById('root');
  if (container === null) throw new Error('Switchyard: no <div id="root"> on this page');
  createRoot(container).render(<StrictMode>{page}</StrictMode>);
}
