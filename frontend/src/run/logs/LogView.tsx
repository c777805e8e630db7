/** Lines of a log in a scrolled box that draws only the rows in sight (10,000 lines stay fast); follow mode keeps the end in view. */

import { useLayoutEffect, useRef, useState } from 'react';
import { atBottom, visibleRows } from './logLines';

export const ROW_HEIGHT = 18;
const VIEW_HEIGHT = 320;

interface LogViewProps {
  lines: readonly string[];
  numbers: readonly number[];
  /** The marker line, drawn as such when it is the last line. */
  marker: string | null;
  follow: boolean;
  /** The user scrolled away from the end (false) or back to it (true). */
  onFollowChange: (follow: boolean) => void;
  testId: string;
}

export function LogView({ lines, numbers, marker, follow, onFollowChange, testId }: LogViewProps) {
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const count = lines.length;
  const height = Math.min(VIEW_HEIGHT, Math.max(count, 1) * ROW_HEIGHT + 2);

  // New lines, or follow switched on: show the end.
  useLayoutEffect(() => {
    const element = box.current;
    if (!follow || element === null) return;
    element.scrollTop = element.scrollHeight;
    setScrollTop(element.scrollTop);
  }, [follow, count]);

  const onScroll = () => {
    const element = box.current;
    if (element === null) return;
    setScrollTop(element.scrollTop);
    const end = atBottom(element.scrollTop, element.scrollHeight, element.clientHeight, ROW_HEIGHT);
    if (end !== follow) onFollowChange(end);
  };

  const { start, end } = visibleRows(scrollTop, height, ROW_HEIGHT, count);
  const rows = [];
  for (let i = start; i < end; i++) {
    const isMarker = marker !== null && i === count - 1 && lines[i] === marker;
    rows.push(
      <div
        key={i}
        className={`log-line${isMarker ? ' log-line-marker' : ''}`}
        style={{ top: i * ROW_HEIGHT }}
        data-line={numbers[i]}
      >
        <span className="log-no">{numbers[i]}</span>
        <span className="log-text">{lines[i]}</span>
      </div>,
    );
  }
  return (
    <div ref={box} className="log-view" style={{ height }} onScroll={onScroll} data-testid={testId} tabIndex={0} role="log" aria-live="off">
      <div className="log-rows" style={{ height: count * ROW_HEIGHT }}>
        {rows}
      </div>
    </div>
  );
}
