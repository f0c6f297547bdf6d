import type { TopLevelSpec } from 'vega-lite';
import { renderSpecSvg } from './curves.js';

/**
 * A confusion matrix as a heat map: rows the true class, columns the predicted one, each cell's count written in
 * it and its colour the share of its row (so a small class's errors show as clearly as a large one's).
 */
export async function renderConfusionSvg(title: string, names: readonly string[], matrix: readonly (readonly number[])[]): Promise<string> {
  const rows = matrix.flatMap((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((n, p) => ({ truth: names[t] ?? String(t), predicted: names[p] ?? String(p), count: n, share: total > 0 ? n / total : 0 }));
  });
  const order = names.map(String);
  const side = Math.max(160, Math.min(640, 28 * names.length));
  const x = { field: 'predicted', type: 'nominal', sort: order, title: 'predicted class' } as const;
  const y = { field: 'truth', type: 'nominal', sort: order, title: 'true class' } as const;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, offset: 12 },
    width: side,
    height: side,
    background: 'white',
    data: { values: rows },
    encoding: { x, y },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'share', type: 'quantitative', title: 'share of row', scale: { scheme: 'blues', domain: [0, 1] } } } },
      ...(names.length <= 30
        ? [
            {
              mark: { type: 'text' as const, fontSize: 9 },
              encoding: {
                text: { field: 'count', type: 'quantitative' as const },
                color: { condition: { test: 'datum.share > 0.5', value: 'white' }, value: 'black' },
              },
            },
          ]
        : []),
    ],
  };
  return renderSpecSvg(spec);
}

/** The matrix as CSV: a header `true\predicted,<names…>`, then one row per true class. */
export function confusionCsv(names: readonly string[], matrix: readonly (readonly number[])[]): string {
  const q = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [['true\\predicted', ...names].map(q).join(',')];
  matrix.forEach((row, t) => lines.push([q(names[t] ?? String(t)), ...row.map(String)].join(',')));
  return lines.join('\n') + '\n';
}
