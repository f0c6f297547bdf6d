import type { TopLevelSpec } from 'vega-lite';
import { renderSpecSvg } from './curves.js';

/** One query of a single search run. */
export interface SearchPoint {
  /** 1-based query number. */
  n: number;
  value: number;
  bestSoFar: number;
}

export interface SearchPlot {
  title: string;
  yTitle: string;
  points: readonly SearchPoint[];
  /** Queries made during Bayesian optimisation (RoBoT); later ones are the greedy phase. */
  t0?: number;
}

/**
 * One search run: every query's value as a point (coloured by phase when T0 is known), the best so far as a
 * step line, T0 marked. A mean curve over runs is `renderCurvesSvg`; a single run needs its points to be read.
 */
export async function renderSearchSvg(plot: SearchPlot): Promise<string> {
  const phase = (n: number): string => (plot.t0 === undefined ? 'query' : n <= plot.t0 ? 'Bayesian optimisation' : 'greedy');
  const rows = plot.points.map((p) => ({ ...p, phase: phase(p.n) }));
  const x = { field: 'n', type: 'quantitative', title: 'number of queried architectures', axis: { tickMinStep: 1 } } as const;
  const y = { type: 'quantitative', scale: { zero: false }, title: plot.yTitle, axis: { format: '.1f' } } as const;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: plot.title, offset: 20 },
    width: 420,
    height: 260,
    background: 'white',
    layer: [
      {
        data: { values: rows },
        mark: { type: 'line', interpolate: 'step-after', color: '#444', strokeWidth: 1.5 },
        // A legend entry of its own (a line symbol), next to the phases' points.
        encoding: {
          x,
          y: { ...y, field: 'bestSoFar' },
          strokeDash: { datum: 'best so far', type: 'nominal', title: null, legend: { symbolType: 'stroke', symbolStrokeColor: '#444', symbolStrokeWidth: 2 } },
        },
      },
      {
        data: { values: rows },
        mark: { type: 'point', filled: true, size: 45 },
        encoding: { x, y: { ...y, field: 'value' }, color: { field: 'phase', type: 'nominal', title: null, legend: { labelLimit: 400, symbolOpacity: 1 } } },
      },
      ...(plot.t0 !== undefined
        ? [
            {
              data: { values: [{ t0: plot.t0 + 0.5 }] },
              mark: { type: 'rule' as const, strokeDash: [4, 3], color: '#888' },
              encoding: { x: { field: 't0', type: 'quantitative' as const } },
            },
            {
              // above the plot area: the points and the best-so-far line can be anywhere inside it
              data: { values: [{ t0: plot.t0 + 0.5, text: `T0 = ${plot.t0}` }] },
              mark: { type: 'text' as const, align: 'left' as const, dx: 3, y: -8, fontSize: 10, color: '#555' },
              encoding: { x: { field: 't0', type: 'quantitative' as const }, text: { field: 'text', type: 'nominal' as const } },
            },
          ]
        : []),
    ],
  };
  return renderSpecSvg(spec);
}
