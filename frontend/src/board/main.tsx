/** Entry of the live board page (/board/). */

import '../ui/styles.css';
import './board.css';
import { mount } from '../ui/mount';
import { BoardPage } from './BoardPage';

mount(<BoardPage />);
