/** A small daily trend chart in SVG: lines (broken where a day has no data) or grouped bars. */

import { bands, dayLabel, labelIndexes, linePath, linearScale, yAxis } from './charts';

export interface ChartSeries {
  name: string; // "v1", "all versions"
  color: string;
  values: (number | null)[]; // one per day
}

interface TrendChartProps {
  title: string;
  days: string[];
  series: ChartSeries[];
  kind: 'line' | 'bar';
  format: (value: number) => string;
  /** Pin the top of the y axis (1 for ratios). */
  max?: number;
  testId?: string;
}

const WIDTH = 520;
const HEIGHT = 190;
const MARGIN = { top: 12, right: 14, bottom: 26, left: 54 };

export function TrendChart({ title, days, series, kind, format, max, testId }: TrendChartProps) {
  const all = series.flatMap((s) => s.values);
  const hasData = all.some((v) => v !== null && (kind === 'line' || v > 0));
  const axis = yAxis(all, 4, max);
  const left = MARGIN.left;
  const right = WIDTH - MARGIN.right;
  const top = MARGIN.top;
  const bottom = HEIGHT - MARGIN.bottom;
  const y = linearScale(axis.domain, [bottom, top]);
  const band = bands(days.length, kind === 'bar' ? series.length : 1, left, right, kind === 'bar' ? 0.25 : 0);
  const labels = labelIndexes(days.length, 8);

  return (
    <figure className="trend-chart" data-testid={testId}>
      <figcaption>
        <span className="chart-title">{title}</span>
        <span className="chart-legend">
          {series.map((s) => (
            <span key={s.name} className="legend-item">
              <span className="legend-swatch" style={{ background: s.color }} aria-hidden="true" />
              {s.name}
            </span>
          ))}
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`${title}, daily`} className="chart-svg">
        {axis.ticks.map((tick) => (
          <g key={tick} className="chart-gridline">
            <line x1={left} x2={right} y1={y(tick)} y2={y(tick)} />
            <text x={left - 6} y={y(tick)} dy="0.32em" textAnchor="end">
              {format(tick)}
            </text>
          </g>
        ))}
        <line className="chart-axis" x1={left} x2={right} y1={bottom} y2={bottom} />
        {labels.map((i) => (
          <text key={days[i]} className="chart-xlabel" x={band.center(i)} y={bottom + 17} textAnchor="middle">
            {dayLabel(days[i]!)}
          </text>
        ))}
        {kind === 'bar'
          ? series.map((s, si) =>
              s.values.map((value, i) =>
                value === null || value <= 0 ? null : (
                  <rect
                    key={`${s.name}-${days[i]}`}
                    x={band.x(i, si)}
                    width={Math.max(1, band.width - 1)}
                    y={y(value)}
                    height={Math.max(0, bottom - y(value))}
                    fill={s.color}
                    rx={1.5}
                  >
                    <title>{`${s.name} · ${dayLabel(days[i]!)}: ${format(value)}`}</title>
                  </rect>
                ),
              ),
            )
          : series.map((s) => {
              const geometry = linePath(s.values, band.center, y);
              return (
                <g key={s.name}>
                  {geometry.path ? <path d={geometry.path} fill="none" stroke={s.color} strokeWidth={2} /> : null}
                  {s.values.map((value, i) =>
                    value === null ? null : (
                      <circle
                        key={days[i]}
                        cx={band.center(i)}
                        cy={y(value)}
                        r={geometry.lonely.some((p) => p.index === i) ? 3.5 : 2.5}
                        fill={s.color}
                      >
                        <title>{`${s.name} · ${dayLabel(days[i]!)}: ${format(value)}`}</title>
                      </circle>
                    ),
                  )}
                </g>
              );
            })}
        {!hasData ? (
          <text className="chart-empty" x={(left + right) / 2} y={(top + bottom) / 2} textAnchor="middle">
            no data in this window
          </text>
        ) : null}
      </svg>
    </figure>
  );
}
