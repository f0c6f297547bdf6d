/**
 * Writes test/fixtures/metrics/anchors.json: every metric (the seven reference metrics with fisher per layer, the
 * cost measures, ZiCo, MeCo, SWAP's count, AZ-NAS's three scores with their per-cell terms) on a few NB201
 * networks, computed by the PyTorch anchor anchors/metrics_anchor.py (Debian's python3-torch) from inputs both
 * sides rebuild themselves (src/proxies/anchor-fixtures.ts). Rerun after a change to the anchor or to the list:
 *
 *   npm run anchors:fixtures
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveDataDir } from '../src/benchmarks/datadir.js';
import type { AnchorNetworkSpec } from '../src/proxies/anchor-fixtures.js';
import { seededSample } from '../src/proxies/spec.js';
import { NB201_OPS, nb201FromOps } from '../src/spaces/nb201.js';
import { writeAtomic } from '../src/util/atomic.js';
import { Rng } from '../src/util/rng.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'test', 'fixtures', 'metrics', 'anchors.json');
const cifar = join(resolveDataDir(), 'cifar10');
const IMAGES = join(cifar, 'images_1000x32x32x3_uint8.bin');
const LABELS = join(cifar, 'labels_1000_uint8.bin');

const idx = seededSample(
  Array.from({ length: 1000 }, (_, i) => i),
  32,
  new Rng(20),
);
const batches = [idx.slice(0, 16), idx.slice(16, 32)];
const net = (name: string, arch: string, channels: number, cells: number, seed: number): AnchorNetworkSpec => ({
  name,
  arch,
  channels,
  cells,
  classes: 10,
  weight_seed: seed,
  rademacher_seed: 1000 + seed,
  batches,
});

const rng = new Rng(21);
const networks: AnchorNetworkSpec[] = [
  // the deep cell of the shared fixture nb201-c16n5-cifar10-a
  net('c16n5-a', '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|', 16, 5, 1),
  // output independent of the input (every path through `none`): PyTorch's BatchNorm rounding residue drives it
  net('c16n5-cut', '|none~0|+|none~0|skip_connect~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|', 16, 5, 2),
  // a conv op on an all-zero node (constant BatchNorm channels) beside live paths
  net('c16n5-partial', '|none~0|+|nor_conv_1x1~0|none~1|+|nor_conv_1x1~0|nor_conv_3x3~1|skip_connect~2|', 16, 5, 3),
  // an identity cell (AZ-NAS trainability −∞)
  net('c8n1-identity', '|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|', 8, 1, 4),
  ...Array.from({ length: 8 }, (_, k) => net(`c8n1-r${k}`, nb201FromOps(Array.from({ length: 6 }, () => rng.int(NB201_OPS.length))), 8, 1, 10 + k)),
];

const dir = mkdtempSync(join(tmpdir(), 'robot-nas-anchors-'));
try {
  const spec = join(dir, 'spec.json');
  const values = join(dir, 'values.json');
  writeFileSync(spec, JSON.stringify({ networks }));
  const r = spawnSync('/usr/bin/python3', [join(ROOT, 'anchors', 'metrics_anchor.py'), 'fixtures', spec, values, IMAGES, LABELS], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`metrics_anchor.py failed (exit ${r.status}); it needs /usr/bin/python3 with python3-torch`);
  // Python writes NaN/Infinity, which JSON.parse does not read: keep them as strings.
  const text = readFileSync(values, 'utf8').replace(/\bNaN\b/g, '"nan"').replace(/-Infinity\b/g, '"-inf"').replace(/\bInfinity\b/g, '"inf"');
  const v = JSON.parse(text) as { torch: string; networks: { name: string; values: Record<string, unknown> }[] };
  const out = {
    about: 'Metric values computed by anchors/metrics_anchor.py (PyTorch) on the networks listed; inputs are rebuilt by src/proxies/anchor-fixtures.ts. Regenerate: npm run anchors:fixtures',
    torch: v.torch,
    networks: networks.map((n, i) => ({ ...n, values: v.networks[i].values })),
  };
  writeAtomic(OUT, JSON.stringify(out, null, 1) + '\n');
  process.stdout.write(`wrote ${OUT} (${networks.length} networks)\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
