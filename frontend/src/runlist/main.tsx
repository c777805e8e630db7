/** Entry of the Runs page (/runs/): search, select, act in bulk. */

import '../ui/styles.css';
import './runlist.css';
import { mount } from '../ui/mount';
import { RunListPage } from './RunListPage';

mount(<RunListPage />);
