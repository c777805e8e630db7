/** Entry of the run page (/runs/{id}/). */

import '@xyflow/react/dist/style.css';
import '../ui/styles.css';
import '../editor/editor.css';
import './run.css';
import { ReactFlowProvider } from '@xyflow/react';
import { mount } from '../ui/mount';
import { RunPage } from './RunPage';

const root = document.getElementById('root');
const runId = Number(root?.dataset.runId);

mount(
  <ReactFlowProvider>
    <RunPage runId={runId} />
  </ReactFlowProvider>,
);
