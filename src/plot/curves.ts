import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { mean, stderr } from '../util/stats.js';

/** One line of a search-curve plot: per-run best-so-far curves of a method. */
export interface CurveSeries {
  readonly label: string;
  /** runs × queries; runs may be shorter (they are padded by the caller). */
  readonly runs: readonly (readonly number[])[];
  /** Mean T0 to mark with a vertical rule (RoBoT), if any. */
  readonly t0?: number;
}

export interface CurvePlot {
  readonly title: string;
  readonly yTitle: string;
  readonly series: readonly CurveSeries[];
  /** Plot 'lower is better' ranks on a reversed axis, etc. */
  readonly yReverse?: boolean;
}

/** Mean ± standard error per query count, as plot rows. */
export function curveRows(series: readonly CurveSeries[]): { method: string; t: number; mean: number; lo: number; hi: number }[] {
  const rows: { method: string; t: number; mean: number; lo: number; hi: number }[] = [];
  for (const s of series) {
    const len = Math.max(0, ...s.runs.map((r) => r.length));
    for (let t = 0; t < len; t++) {
      const vs = s.runs.map((r) => r[t]).filter((v) => v !== undefined && Number.isFinite(v));
      if (vs.length === 0) continue;
      const m = mean(vs);
      const se = stderr(vs);
      rows.push({ method: s.label, t: t + 1, mean: m, lo: m - se, hi: m + se });
    }
  }
  return rows;
}

/** Figure-2-style SVG: best-so-far vs number of queried architectures, mean ± s.e., T0 marked. */
export async function renderCurvesSvg(plot: CurvePlot): Promise<string> {
  const rows = curveRows(plot.series);
  // T0 labels sit above the plot area, one row per method (close T0s stay readable, and no label covers a curve).
  const t0rows = plot.series
    .filter((s) => s.t0 !== undefined && Number.isFinite(s.t0))
    .map((s, k, all) => ({ method: s.label, t0: s.t0, y: -8 - 12 * (all.length - 1 - k) }));
  const maxT = Math.max(1, ...rows.map((r) => r.t));
  const x = { field: 't', type: 'quantitative', title: 'number of queried architectures' } as const;
  const y = { type: 'quantitative', scale: { zero: false, reverse: plot.yReverse ?? false }, title: plot.yTitle } as const;
  // One legend, drawn from the lines (full colour); the bands and rules share the scale without adding symbols.
  // (every layer carries the same legend, with the symbol set explicitly: else the band's opacity pales it)
  const color = {
    field: 'method',
    type: 'nominal',
    title: null,
    legend: { labelLimit: 400, symbolType: 'stroke', symbolStrokeWidth: 2.5, symbolOpacity: 1, symbolFillColor: 'transparent' },
  } as const;
  const quiet = color;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: plot.title, offset: 12 + 12 * t0rows.length },
    width: 420,
    height: 260,
    background: 'white',
    layer: [
      {
        data: { values: rows },
        mark: { type: 'errorband', opacity: 0.2 },
        encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color: quiet },
      },
      {
        data: { values: rows },
        mark: { type: 'line', strokeWidth: 1.8 },
        encoding: { x, y: { ...y, field: 'mean' }, color },
      },
      ...(t0rows.length > 0
        ? [
            {
              data: { values: t0rows },
              mark: { type: 'rule' as const, strokeDash: [4, 3] },
              encoding: { x: { field: 't0', type: 'quantitative' as const }, color: quiet },
            },
            // Labels of T0s in the right part of the plot end at their rule, so they never run into the legend.
            ...(['left', 'right'] as const).map((align) => ({
              data: { values: t0rows.filter((r) => (r.t0! > 0.6 * maxT) === (align === 'right')).map((r) => ({ ...r, text: `T0 = ${r.t0!.toFixed(1)} (${r.method})` })) },
              mark: { type: 'text' as const, align, dx: align === 'left' ? 3 : -3, fontSize: 10 },
              encoding: {
                x: { field: 't0', type: 'quantitative' as const },
                y: { field: 'y', type: 'quantitative' as const, scale: null },
                text: { field: 'text', type: 'nominal' as const },
                color: quiet,
              },
            })),
          ]
        : []),
    ],
  };
  return renderSpecSvg(spec);
}

/** A vega-lite spec rendered to SVG text, headless. */
export async function renderSpecSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
