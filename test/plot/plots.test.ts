/**
 * Plots people can read: legend swatches in their line's full colour, the best-so-far line in the legend, and T0
 * labels above the plot area (y < 0 in the plot's frame), where no curve or point can sit under them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderCurvesSvg } from '../../src/plot/curves.js';
import { renderSearchSvg } from '../../src/plot/search.js';

const runs = (base: number, k: number): number[][] => Array.from({ length: 4 }, (_, r) => Array.from({ length: 20 }, (_, t) => base + k * Math.log(t + 1) + r));

/** The `<path …>` of every legend symbol, and the text labels of T0 rules with their translate y. */
function legendSymbols(svg: string): string[] {
  return [...svg.matchAll(/role-legend-symbol[^>]*><path ([^>]*)\/>/g)].map((m) => m[1]);
}
function t0Labels(svg: string): { text: string; y: number }[] {
  return [...svg.matchAll(/<text [^>]*transform="translate\(([-\d.]+),([-\d.]+)\)"[^>]*>(T0 = [^<]*)<\/text>/g)].map((m) => ({ text: m[3], y: Number(m[2]) }));
}

test('Figure-2 curves: legend swatches are the lines\' colours at full opacity; T0 labels sit above the plot', async () => {
  const svg = await renderCurvesSvg({
    title: 't',
    yTitle: 'y',
    series: [
      { label: 'RS', runs: runs(35, 3) },
      { label: 'RoBoT', runs: runs(20, 8), t0: 9.3 },
      { label: 'RoBoT, clipped', runs: runs(25, 7), t0: 11 },
      { label: 'RoBoT, rank', runs: runs(30, 5), t0: 18.6 },
    ],
  });
  const lineColours = new Set([...svg.matchAll(/aria-roledescription="line mark"[^>]*stroke="(#[0-9a-f]{6})"/g)].map((m) => m[1]));
  assert.equal(lineColours.size, 4, 'four coloured lines');
  const symbols = legendSymbols(svg);
  assert.equal(symbols.length, 4);
  for (const s of symbols) {
    const stroke = /stroke="(#[0-9a-f]{6})"/.exec(s)?.[1];
    assert.ok(stroke !== undefined && lineColours.has(stroke), `legend swatch ${s} is a line colour`);
    assert.match(s, /opacity="1"/, 'full opacity, not the pale band');
  }
  const labels = t0Labels(svg);
  assert.deepEqual(labels.map((l) => l.text).sort(), ['T0 = 11.0 (RoBoT, clipped)', 'T0 = 18.6 (RoBoT, rank)', 'T0 = 9.3 (RoBoT)']);
  assert.ok(labels.every((l) => l.y < 0), `labels above the plot area: ${JSON.stringify(labels)}`);
  assert.equal(new Set(labels.map((l) => l.y)).size, 3, 'one row per label');
  assert.match(svg, /text-anchor="end"[^>]*>T0 = 18\.6/, 'a label near the right edge ends at its rule');
});

test('search curve: the best-so-far line has a legend entry; T0 sits above the plot', async () => {
  const points = Array.from({ length: 12 }, (_, i) => ({ n: i + 1, value: 90 + (i % 4), bestSoFar: 93 }));
  const svg = await renderSearchSvg({ title: 't', yTitle: 'y', points, t0: 5 });
  assert.match(svg, />best so far<\/text>/);
  assert.ok(legendSymbols(svg).some((s) => /d="M-5,0L5,0"/.test(s) && /stroke="#444"/.test(s)), 'a line swatch in the best-so-far colour');
  const labels = t0Labels(svg);
  assert.equal(labels.length, 1);
  assert.ok(labels[0].y < 0, `T0 label above the plot area (y ${labels[0].y})`);
});
