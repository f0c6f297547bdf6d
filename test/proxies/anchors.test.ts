import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, SHARED_DATA } from '../helpers/shared.js';
import { weightsPerChannel } from '../../src/networks/layers.js';
import { anchorBatch, anchorNetwork, type AnchorNetworkSpec } from '../../src/proxies/anchor-fixtures.js';
import { azScores } from '../../src/proxies/aznas.js';
import { mainPass } from '../../src/proxies/main-pass.js';
import { computeProxies } from '../../src/proxies/index.js';
import { swapCount } from '../../src/proxies/swap.js';
import { spearman } from '../../src/util/stats.js';

/**
 * Every metric against the PyTorch anchor (anchors/metrics_anchor.py) on the committed fixtures
 * (test/fixtures/metrics/anchors.json, `npm run anchors:fixtures`): 12 NB201 networks, three of them C16 N5 — a
 * deep ordinary cell, a cell whose output does not depend on its input, a cell with a conv op on an all-zero node —
 * and nine C8 N1 cells, with weights and batches both sides rebuild. Tolerances are those of the shared fixtures
 * (relative 1e-3), except where float32 itself moves the value: GraSP and ZiCo may differ from PyTorch's float32
 * value by twice the distance between PyTorch's float32 and float64 values of the same network (ZiCo's mean/std
 * ratios are heavy-tailed; GraSP is a Hessian product).
 */

type Raw = number | string | number[] | Record<string, number>;
interface FixtureNet extends AnchorNetworkSpec {
  values: Record<string, Raw>;
}

const fixtures = JSON.parse(readFileSync(join(REPO, 'test', 'fixtures', 'metrics', 'anchors.json'), 'utf8')) as { networks: FixtureNet[] };
const images = new Uint8Array(readFileSync(join(SHARED_DATA, 'cifar10', 'images_1000x32x32x3_uint8.bin')));
const labels = new Uint8Array(readFileSync(join(SHARED_DATA, 'cifar10', 'labels_1000_uint8.bin')));

function num(v: Raw | undefined): number {
  if (typeof v === 'number') return v;
  if (v === 'nan') return NaN;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  throw new Error(`not a number: ${JSON.stringify(v)}`);
}

function close(ours: number, ref: number, tol: number): boolean {
  if (!Number.isFinite(ref) || !Number.isFinite(ours)) return Object.is(ours, ref) || (Number.isNaN(ours) && Number.isNaN(ref));
  return Math.abs(ours - ref) <= tol;
}

const BATCH_METRICS = ['grad_norm', 'snip', 'grasp', 'fisher', 'synflow', 'jacob_cov', 'naswot', 'params', 'flops', 'zico', 'meco'] as const;

const fisherTotals: { ours: number; ref: number }[] = [];

for (const fx of fixtures.networks) {
  test(`anchor fixture ${fx.name}: every metric matches PyTorch`, async () => {
    const { network, params } = anchorNetwork(fx);
    const [b1, b2] = fx.batches.map((b) => anchorBatch(images, labels, b, fx.classes));
    const r = computeProxies(network, params, b1, [...BATCH_METRICS], { extraBatches: [b2] });
    const ours: Record<string, number> = { ...(r.values as Record<string, number>) };
    ours.swap_count = swapCount(network, params, b1);
    const az = azScores(network, params, b1.x, b1.shape[0], fx.rademacher_seed);
    ours.az_expressivity = az.expressivity;
    ours.az_progressivity = az.progressivity;
    ours.az_trainability = az.trainability;

    const failures: string[] = [];
    for (const [m, v] of Object.entries(ours)) {
      const ref = num(fx.values[m]);
      let tol = 1e-3 * Math.abs(ref);
      if (m === 'params' || m === 'flops' || m === 'swap_count') tol = 0;
      if (m === 'grasp' || m === 'zico') tol = Math.max(tol, 2 * Math.abs(ref - num(fx.values[`${m}_f64`])));
      if (m === 'meco' || m === 'az_progressivity') tol = Math.max(tol, 1e-6); // sums of eigenvalues near 0
      if (!close(v, ref, tol)) failures.push(`${m}: ${v} vs ${ref}`);
    }
    const ent = fx.values.az_entropies as number[];
    az.entropies.forEach((h, i) => {
      if (!close(h, num(ent[i]), 1e-4)) failures.push(`AZ entropy of feature ${i}: ${h} vs ${ent[i]}`);
    });
    const cells = fx.values.az_cells as (number | string)[];
    az.cellScores.forEach((s, i) => {
      const ref = num(cells[i]);
      if (!close(s, ref, 1e-3 * Math.abs(ref))) failures.push(`AZ trainability term of cell ${i + 1}: ${s} vs ${ref}`);
    });
    assert.deepEqual(failures, []);
  });
}

test('fisher per layer matches PyTorch on every fixture network, and ranks them alike', async () => {
  // Issue 20: the engine's exact zeros on constant BatchNorm channels made fisher rank cells cut off by `none`
  // last, where PyTorch's rounding residue makes them large. Per layer, every conv/linear output.
  const failures: string[] = [];
  for (const fx of fixtures.networks) {
    const { network, params } = anchorNetwork(fx);
    const b = anchorBatch(images, labels, fx.batches[0], fx.classes);
    const r = mainPass(network, params, b, { grads: false, fisher: true, hvp: false, jacobian: false, naswot: false });
    const refLayers = fx.values.fisher_layers as Record<string, number>;
    const refLayers64 = fx.values.fisher_layers_f64 as Record<string, number>;
    const n = b.shape[0];
    let total = 0;
    const per = network.weightLayers.map((l, i) => {
      const v = r.channelGrads![i];
      const ch = v.length / n;
      let s = 0;
      for (let k = 0; k < ch; k++) {
        let q = 0;
        for (let j = 0; j < n; j++) q += v[j * ch + k] ** 2;
        s += (0.5 * q * weightsPerChannel(l)) / n;
      }
      total += s;
      return s;
    });
    const refTotal = num(fx.values.fisher);
    // PyTorch's own float32 and float64 per-layer values differ on networks with BatchNorm on near-constant channels
    // (up to 0.5 % on c16n5-partial, 16 % on c16n5-cut; 3e-4 on c16n5-a): a layer may differ from PyTorch's float32
    // value by twice the network's largest such relative gap, and never by more than 1e-3 where that gap is smaller.
    const floor = 1e-9 * Math.abs(refTotal);
    let cond = 0;
    for (const l of network.weightLayers) {
      const a = refLayers[l.name];
      const b = refLayers64[l.name];
      cond = Math.max(cond, Math.abs(a - b) / Math.max(Math.abs(b), floor));
    }
    const rel = Math.max(1e-3, 2 * cond);
    network.weightLayers.forEach((l, i) => {
      const ref = refLayers[l.name];
      assert.equal(typeof ref, 'number', `${fx.name}: the anchor has no fisher value for ${l.name}`);
      if (!close(per[i], ref, rel * Math.max(Math.abs(ref), floor))) failures.push(`${fx.name} ${l.name}: ${per[i]} vs ${ref} (tolerance ${rel.toExponential(1)})`);
    });
    fisherTotals.push({ ours: total, ref: refTotal });
  }
  assert.deepEqual(failures, []);
  const rho = spearman(
    fisherTotals.map((f) => f.ours),
    fisherTotals.map((f) => f.ref),
  );
  assert.ok(rho > 0.99, `Spearman ρ of fisher with PyTorch over ${fisherTotals.length} networks: ${rho}`);
});
