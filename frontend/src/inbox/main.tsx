/** Entry of the handoff inbox page (/handoffs/). */

import '../ui/styles.css';
import './inbox.css';
import { mount } from '../ui/mount';
import { InboxPage } from './InboxPage';

const username = document.getElementById('root')?.dataset.username ?? '';

mount(<InboxPage username={username} />);
