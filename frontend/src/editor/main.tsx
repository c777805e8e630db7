/** Entry of the workflow editor page (/workflows/<slug>/edit/). */

import '@xyflow/react/dist/style.css';
import '../ui/styles.css';
import './editor.css';
import './schedules.css';
import './webhooks.css';
import { ReactFlowProvider } from '@xyflow/react';
import { mount } from '../ui/mount';
import { EditorPage } from './EditorPage';

const slug = document.getElementById('root')?.dataset.slug ?? '';

mount(
  <ReactFlowProvider>
    <EditorPage slug={slug} />
  </ReactFlowProvider>,
);
