/**
 * Time-series charts (uPlot, bundled: nothing from a CDN). Times are UTC buckets from the API,
 * drawn in the browser's time zone; the numbers are also in a table under each chart (a
 * `<details>`), so screen readers and tests read them as text.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  readonly label: string;
  readonly values: readonly number[];
  readonly color: string;
}

export interface ChartProps {
  readonly title: string;
  /** Bucket starts, ISO-8601 (`2026-01-01T13` hours or `2026-01-01` days, UTC). */
  readonly at: readonly string[];
  readonly series: readonly ChartSeries[];
  /** Bars (days) or lines (hours). */
  readonly bars?: boolean;
  readonly height?: number;
}

/** `yyyy-mm-ddThh` or `yyyy-mm-dd` (UTC) as epoch seconds. */
export function bucketSeconds(at: string): number {
  const iso = at.length === 13 ? `${at}:00:00Z` : at.length === 10 ? `${at}T00:00:00Z` : at;
  return Date.parse(iso) / 1000;
}

export function Chart(props: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(320, Math.min(el.clientWidth || 560, 1100));
    const bars = props.bars ? uPlot.paths.bars?.({ size: [0.7, 40] }) : undefined;
    const plot = new uPlot(
      {
        width,
        height: props.height ?? 200,
        series: [
          {},
          ...props.series.map((s) => ({
            label: s.label,
            stroke: s.color,
            fill: props.bars ? `${s.color}99` : `${s.color}22`,
            width: props.bars ? 1 : 2,
            ...(bars ? { paths: bars, points: { show: false } } : {}),
          })),
        ],
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] } },
        axes: [{}, { size: 50 }],
        cursor: { drag: { x: false, y: false } },
      },
      [props.at.map(bucketSeconds), ...props.series.map((s) => [...s.values])],
      el,
    );
    return () => plot.destroy();
  }, [props.at.join(), props.series.map((s) => s.values.join()).join('|'), props.bars]);
  return (
    <figure class="chart" data-chart={props.title}>
      <figcaption>{props.title}</figcaption>
      <div ref={box} class="chart-box" role="img" aria-label={props.title} />
      <details>
        <summary>Numbers</summary>
        <table class="chart-numbers">
          <thead>
            <tr>
              <th>UTC</th>
              {props.series.map((s) => (
                <th>{s.label}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.at.map((at, i) => (
              <tr>
                <td>{at}</td>
                {props.series.map((s) => (
                  <td>{s.values[i] ?? 0}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
