/** Show a JSON value as a collapsible tree of text (never HTML). */

import { useState } from 'react';

interface JsonTreeProps {
  value: unknown;
  /** Levels open at first; deeper objects start collapsed. */
  openDepth?: number;
  testId?: string;
}

export function JsonTree({ value, openDepth = 2, testId }: JsonTreeProps) {
  const [raw, setRaw] = useState(false);
  return (
    <div className="json-tree" data-testid={testId}>
      <div className="json-tools">
        <button type="button" className="link-button small" onClick={() => setRaw((r) => !r)}>
          {raw ? 'Tree' : 'Raw JSON'}
        </button>
      </div>
      {raw ? (
        <pre className="json-raw">{JSON.stringify(value, null, 2) ?? 'undefined'}</pre>
      ) : (
        <div className="json-body">
          <JsonNode value={value} depth={0} openDepth={openDepth} />
        </div>
      )}
    </div>
  );
}

function JsonNode({ name, value, depth, openDepth }: { name?: string; value: unknown; depth: number; openDepth: number }) {
  const label = name === undefined ? null : <span className="json-key">{name}: </span>;
  if (value !== null && typeof value === 'object') {
    const isArray = Array.isArray(value);
    const entries: [string, unknown][] = isArray
      ? (value as unknown[]).map((v, i) => [String(i), v])
      : Object.entries(value as Record<string, unknown>);
    const brackets = isArray ? ['[', ']'] : ['{', '}'];
    if (entries.length === 0) {
      return (
        <div className="json-line">
          {label}
          <span className="json-punct">{brackets.join('')}</span>
        </div>
      );
    }
    const size = isArray ? `${entries.length} item${entries.length === 1 ? '' : 's'}` : `${entries.length} key${entries.length === 1 ? '' : 's'}`;
    return (
      <details className="json-branch" open={depth < openDepth}>
        <summary>
          {label}
          <span className="json-punct">{brackets[0]}</span>
          <span className="json-size">{size}</span>
          <span className="json-punct">{brackets[1]}</span>
        </summary>
        <div className="json-children">
          {entries.map(([key, child]) => (
            <JsonNode key={key} name={isArray ? `${key}` : JSON.stringify(key)} value={child} depth={depth + 1} openDepth={openDepth} />
          ))}
        </div>
      </details>
    );
  }
  return (
    <div className="json-line">
      {label}
      <span className={`json-${value === null ? 'null' : typeof value}`}>{leafText(value)}</span>
    </div>
  );
}

function leafText(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}
