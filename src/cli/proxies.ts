import { dirname, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { jobExecutor } from '../jobs/index.js';
import { parseArchSpec } from '../pipeline/archs.js';
import { runProxyBatch } from '../pipeline/score-batch.js';
import { localRunner } from '../runner/index.js';
import { loadFixture } from '../proxies/fixture.js';
import { computeProxies, metricsByData, REFERENCE_METRICS, type MetricName } from '../proxies/index.js';
import { InputError } from '../util/errors.js';
import { checkOutputFile } from '../util/output-paths.js';
import { addMaxPixels, applyMaxPixels, parseCount, parseMetrics, parsePositiveInt, parseSeed } from './options.js';
import type { QueueRunner } from '../runner/queue.js';
import { noteKernelFallback, startEngine } from './engine.js';
import { addQueueOptions, addQueueTimeout, cliQueueRunner, queueSummary, type QueueFlags } from './queue.js';

interface Flags extends QueueFlags {
  fixture?: string;
  json?: boolean;
  metrics?: MetricName[];
  // batch mode
  space?: string;
  dataset?: string;
  data?: string;
  archs?: string;
  batch?: number;
  channels?: number;
  cells?: number;
  workers?: number;
  seed?: number;
  out?: string;
  maxPixels?: number;
}

/** Flags that only batch mode reads (named in the error when mixed with --fixture). */
const BATCH_FLAGS = ['space', 'dataset', 'data', 'archs', 'batch', 'channels', 'cells', 'workers', 'seed', 'out', 'queue', 'queueName', 'queueTimeout', 'maxPixels'] as const;

function fmt(v: number | undefined): string {
  if (v === undefined) return '-';
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e6 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(6) : v.toPrecision(8);
}

/**
 * `robot-nas proxies --fixture DIR [--json]`: every training-free metric of a fixture's network vs its reference
 * values; `robot-nas proxies --space nb201 --dataset NAME --out FILE.csv …`: batch scoring (see batchMode).
 */
export function register(program: Command): void {
  const cmd = program
    .command('proxies')
    .description(
      'compute the training-free metrics (grad_norm, snip, grasp, fisher, synflow, jacob_cov, naswot) either of a metrics fixture ' +
        "(--fixture DIR: manifest.json, params.bin, input.bin, targets.bin; compared with the manifest's reference values) " +
        'or of many architectures of a space on a dataset batch (--space nb201|darts --dataset NAME --out FILE.csv; resumable CSV)',
    )
    .option('--fixture <dir>', 'fixture folder (fixture mode)')
    .option('--json', 'fixture mode: print the metric values as one JSON object on the last stdout line')
    .option('--metrics <m1,m2,...>', `metrics to compute: ${metricsByData()} (default: the seven reference metrics)`, parseMetrics)
    .option('--space <id>', 'batch mode: search space (nb201, or darts: RoBoT\'s DARTS NetworkCIFAR, genotypes sampled as RoBoT samples its pool)')
    .option('--dataset <name>', 'batch mode: image dataset (e.g. cifar10-1k)')
    .option('--data <dir>', 'batch mode: dataset folder (default: the loader\'s default location)')
    .option('--archs <all|N|file>', 'batch mode: the whole space, a seeded sample of N distinct architectures, or a file with one architecture per line (default all; darts cannot be enumerated, give N or a file)')
    .option('--batch <n>', 'batch mode: images per scoring batch, a seeded choice shared by all architectures (default 64)', parsePositiveInt)
    .option('--channels <C>', 'batch mode: channels of the first stage (darts: initial channels C) (default 16)', parsePositiveInt)
    .option('--cells <N>', 'batch mode: nb201: cells per stage; darts: number of cells (layers, reductions at layers/3 and 2·layers/3, RoBoT\'s search setting 5) (default 5)', parsePositiveInt)
    .option('--workers <k>', 'batch mode: worker threads (default: the number of cores; 0 = run in this thread)', parseCount)
    .option('--seed <s>', 'batch mode: run seed for the sample, the batch and the weights (default 0)', parseSeed)
    .option('--out <file.csv>', 'batch mode: output CSV, one row per architecture; rerunning resumes it');
  addMaxPixels(cmd);
  addQueueTimeout(cmd);
  addQueueOptions(cmd, 'batch mode: submit the scoring jobs to this Redis queue (redis://HOST:PORT) for `robot-nas worker`s, instead of running them here; --workers = jobs kept in flight')
    .action(async (f: Flags) => {
      applyMaxPixels(f);
      if (f.fixture === undefined) return batchMode(f);
      const mixed = BATCH_FLAGS.filter((k) => f[k] !== undefined);
      if (mixed.length > 0) throw new InputError(`--fixture cannot be combined with the batch options ${mixed.map((k) => `--${k}`).join(', ')}`);
      const fixture = loadFixture(f.fixture);
      const info = startEngine();
      const names: MetricName[] = f.metrics ?? [...REFERENCE_METRICS];
      const t0 = performance.now();
      const result = computeProxies(fixture.network, fixture.params, fixture.batch, names);
      const ms = performance.now() - t0;
      const m = fixture.manifest;
      const rows = names.map((name) => {
        const v = result.values[name];
        const ref = m.metrics[name];
        const rel = v !== undefined && ref !== undefined ? Math.abs(v - ref) / Math.max(Math.abs(ref), Number.MIN_VALUE) : undefined;
        return [name, fmt(v), fmt(ref), rel === undefined ? '-' : rel.toExponential(2)];
      });
      const header = ['metric', 'value', 'reference', 'rel. error'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
      const out: string[] = [
        `${m.arch}  C=${m.channels} N=${m.cells_per_stage} classes=${m.num_classes} batch=${m.batch}  (${info.backend} kernels, ${info.threads} thread${info.threads > 1 ? 's' : ''}, ${(ms / 1000).toFixed(2)} s)`,
        line(header),
        line(widths.map((w) => '-'.repeat(w))),
        ...rows.map(line),
      ];
      if (result.synflowLog !== undefined) out.push(`ln(synflow) = ${result.synflowLog.toFixed(6)}`);
      process.stdout.write(out.join('\n') + '\n');
      if (f.json) process.stdout.write(JSON.stringify(Object.fromEntries(names.map((n) => [n, result.values[n] ?? null]))) + '\n');
    });
}

/** Archs per minute and an ETA from the rows computed in this session only (resumed rows cost nothing). */
function rateText(computed: number, startMs: number, remaining: number): { rate: string; eta: string } {
  const min = (performance.now() - startMs) / 60000;
  if (computed === 0 || min <= 0) return { rate: '-', eta: '-' };
  const perMin = computed / min;
  const etaMin = remaining / perMin;
  const eta = etaMin >= 60 ? `${Math.floor(etaMin / 60)}h${String(Math.round(etaMin % 60)).padStart(2, '0')}m` : etaMin >= 1 ? `${Math.round(etaMin)}m` : `${Math.round(etaMin * 60)}s`;
  return { rate: perMin.toFixed(1), eta };
}

/**
 * Batch mode: `proxies --space nb201|darts --dataset NAME [--data DIR] [--archs all|N|FILE] [--metrics …] [--batch 64]
 * [--channels 16 --cells 5] [--workers K] [--seed S] --out FILE.csv`. Progress (rate, ETA) goes to stderr: a bar
 * on a terminal, otherwise a line at most every 15 s (for logs).
 */
async function batchMode(f: Flags): Promise<void> {
  const missing = (['space', 'dataset', 'out'] as const).filter((k) => f[k] === undefined);
  if (missing.length > 0) {
    throw new InputError(`give --fixture DIR, or batch mode's ${missing.map((k) => `--${k}`).join(', ')} (e.g. --space nb201 --dataset cifar10-1k --out scores.csv)`);
  }
  checkOutputFile(f.out!, 'out');
  noteKernelFallback();
  const metrics: MetricName[] = f.metrics ?? [...REFERENCE_METRICS];
  const err = process.stderr;
  const tty = err.isTTY === true;
  let bar: cliProgress.SingleBar | undefined;
  let start = 0;
  let first = 0;
  let lastLog = 0;
  const inFlight = f.workers ?? availableParallelism();
  const runner =
    f.queue !== undefined || f.queueName !== undefined || f.queueTimeout !== undefined ? await cliQueueRunner(f, inFlight, 'workers', (m) => void err.write(`${m}\n`)) : localRunner(inFlight, jobExecutor());
  const summary = await runProxyBatch({
    space: f.space!,
    archs: parseArchSpec(f.archs ?? 'all'),
    dataset: f.dataset!,
    dir: f.data,
    // decoded once into the image cache beside the output table
    imageCache: dirname(resolve(f.out!)),
    metrics,
    channels: f.channels ?? 16,
    cells: f.cells ?? 5,
    batch: f.batch ?? 64,
    seed: f.seed ?? 0,
    runner,
    out: f.out!,
    onStart: (s) => {
      if (s.repaired) err.write(`robot-nas: ${f.out}: ${s.repaired}\n`);
      err.write(`${s.total} architectures: ${s.resumed} already in ${f.out}, ${s.todo} to compute on ${runner.label}\n`);
      start = performance.now();
      first = s.resumed;
      if (tty && s.todo > 0) {
        bar = new cliProgress.SingleBar(
          { format: 'proxies [{bar}] {value}/{total} | {rate} archs/min | ETA {eta2} | {label}', stream: err, hideCursor: true, clearOnComplete: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(s.total, s.resumed, { rate: '-', eta2: '-', label: '' });
      }
    },
    onResult: (r, done, total) => {
      const { rate, eta } = rateText(done - first, start, total - done);
      if (bar) bar.update(done, { rate, eta2: eta, label: `${r.seconds.toFixed(1)} s/arch` });
      else if (performance.now() - lastLog > 15000 || done === total) {
        lastLog = performance.now();
        err.write(`proxies ${done}/${total} | ${rate} archs/min | ETA ${eta}\n`);
      }
    },
  }).finally(() => {
    bar?.stop();
    return runner.close();
  });
  if ('stats' in runner) err.write(`${queueSummary((runner as QueueRunner).stats)}\n`);
  const rate = summary.computed > 0 ? `, ${((60 * summary.computed) / summary.seconds).toFixed(1)} archs/min` : '';
  process.stdout.write(
    `${summary.out}: ${summary.total} architectures (${summary.resumed} resumed, ${summary.computed} computed in ${summary.seconds.toFixed(1)} s${rate})\n`,
  );
}
