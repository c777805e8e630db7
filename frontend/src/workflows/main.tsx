/** Entry of the workflows page (/). */

import '../ui/styles.css';
import { mount } from '../ui/mount';
import { WorkflowsPage } from './WorkflowsPage';

mount(<WorkflowsPage />);
