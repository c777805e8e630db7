/** Entry of the connections page (/connections/). */

import '../ui/styles.css';
import './connections.css';
import { mount } from '../ui/mount';
import { ConnectionsPage } from './ConnectionsPage';

mount(<ConnectionsPage />);
