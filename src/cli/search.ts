import { Command, Option } from 'commander';
import { availableParallelism } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { metricsByData } from '../proxies/types.js';
import { startEngine } from './engine.js';
import { runSearch, SEARCH_METRICS, type SearchOptions, type SearchResult } from '../pipeline/search.js';
import { checkModelDestination } from '../model/store.js';
import { InputError } from '../util/errors.js';
import { imbalanced, perClassAccuracy } from '../train/trainer.js';
import { addMaxPixels, applyMaxPixels, choice, DATA_HELP, parseCount, parseImageChannels, parseLimit, parseMetrics, parseNumber, parsePositive, parsePositiveInt, parseSeed, parseSize, TRAIN_DATASETS } from './options.js';
import { trainArchitecture, type TrainRun } from '../pipeline/train.js';
import { TRAIN_DEFAULTS } from './train.js';
import { shellCommand } from '../util/shell.js';
import { progressBar, trainingBars, trainingProgress, type Progress, type TrainingBars } from './progress.js';
import { DEFAULT_METHOD } from '../search/registry.js';
import { addQueueOptions, addQueueTimeout, cliQueueRunner, queueSummary, type QueueFlags } from './queue.js';

/**
 * `robot-nas search`: RoBoT (or a baseline) on real data with training queries. Without arguments it is the
 * README's main job: NAS-Bench-201 cells on the `mnist` package's digits, sized to finish in minutes on 2 cores.
 */

/** The no-argument run: small enough for ~10 minutes on 2 cores, large enough that architectures differ. */
export const SEARCH_DEFAULTS = {
  space: 'nb201',
  dataset: 'mnist',
  pool: 200,
  budget: 20,
  epochs: 1,
  channels: 8,
  cells: 1,
  batchSize: 32,
  lr: 0.1,
  scoreBatch: 64,
  validFraction: 0.2,
  trainLimit: 4000,
  validLimit: 1000,
  seed: 0,
} as const;

interface Flags extends QueueFlags {
  space: 'nb201' | 'darts';
  dataset: string;
  data?: string;
  imageSize?: number;
  imageChannels?: 1 | 3;
  pool: number | 'all';
  budget: number | 'all';
  method: string;
  metrics?: string[];
  epochs: number;
  channels: number;
  cells: number;
  batchSize: number;
  lr: number;
  scoreBatch: number;
  validFraction: number;
  trainLimit?: number | 'all';
  validLimit?: number | 'all';
  seed: number;
  searchSeed?: number;
  out?: string;
  cache?: string | false;
  parallel?: number;
  async?: boolean;
  maxParams?: number;
  maxFlops?: number;
  maxLatency?: number;
  trainBest?: number;
  save?: string;
  json?: boolean;
  maxPixels?: number;
}

/** 1,234,567 → "1.23 M" (sizes in the summary). */
function short(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} G` : n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : String(n);
}

function fmt(v: number | null | undefined, d = 2): string {
  return v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(d);
}

/**
 * The `train` command that trains a search's answer longer: the same data (`--data`, `--image-size`,
 * `--image-channels`), split (`--seed`, `--valid-fraction`), network and recipe (`--batch-size`, `--lr`), for at
 * least 10 epochs on every training image. Settings equal to `train`'s defaults are left out; every word is quoted by
 * the one shell quoting (util/shell), so the line runs as printed.
 */
export function nextTrainCommand(r: SearchResult): string {
  const s = r.settings as {
    dir?: string | null;
    imageSize?: number;
    imageChannels?: number;
    seed: number;
    validFraction: number;
    channels: number;
    cells: number;
    training: { epochs: number; batchSize: number; lr: number };
  };
  const words = ['npx', 'robot-nas', 'train', '--space', r.space, '--arch', r.best.arch, '--dataset', r.data.dataset];
  if (s.dir !== undefined && s.dir !== null) words.push('--data', s.dir);
  if (s.imageSize !== undefined) words.push('--image-size', String(s.imageSize));
  if (s.imageChannels !== undefined) words.push('--image-channels', String(s.imageChannels));
  if (s.seed !== TRAIN_DEFAULTS.seed) words.push('--seed', String(s.seed));
  words.push('--channels', String(s.channels), '--cells', String(s.cells), '--epochs', String(Math.max(10, s.training.epochs)));
  if (s.validFraction !== TRAIN_DEFAULTS.validFraction) words.push('--valid-fraction', String(s.validFraction));
  if (s.training.batchSize !== TRAIN_DEFAULTS.batchSize) words.push('--batch-size', String(s.training.batchSize));
  if (s.training.lr !== TRAIN_DEFAULTS.lr) words.push('--lr', String(s.training.lr));
  // the image size limit the search ran with (--max-pixels sets it for the process)
  if (process.env.ROBOT_NAS_MAX_PIXELS) words.push('--max-pixels', process.env.ROBOT_NAS_MAX_PIXELS);
  return shellCommand(words);
}

/** Per-class validation accuracy of the answer, when its classes are imbalanced (or always with `all`). */
export function perClassLine(r: SearchResult): string | undefined {
  const bc = r.bestByClass;
  if (!bc || !imbalanced(bc.total)) return undefined;
  const { perClass, balanced } = perClassAccuracy(bc);
  const names = r.data.classNames;
  const parts = perClass.map((v, k) => `${names?.[k] ?? k} ${v === null ? 'n/a' : v.toFixed(1)}`);
  return `balanced accuracy    ${fmt(balanced)} % (classes are imbalanced: ${Math.min(...bc.total.filter((n) => n > 0))}–${Math.max(...bc.total)} validation images each); per class: ${parts.join(', ')}`;
}

/** The short summary printed at the end of a search. */
export function formatSearchSummary(r: SearchResult, cwd = process.cwd()): string {
  const s = r.settings as {
    channels: number;
    cells: number;
    budget: number;
    dataset: string;
    dir: string | null;
    seed: number;
    imageSize?: number;
    imageChannels?: number;
    trainLimit: number | null;
    validLimit: number | null;
    validFraction: number;
    training: { epochs: number };
  };
  const rel = (f: string): string => relative(cwd, f) || f;
  const lines = [
    `${r.method} on ${r.data.dataset} — ${r.space} (C=${s.channels}, ${r.space === 'nb201' ? 'N' : 'cells'}=${s.cells}), pool ${r.pool.size}${r.pool.dropped > 0 ? ` (${r.pool.dropped} of ${r.pool.size + r.pool.dropped} dropped: non-finite metric)` : ''}, budget ${s.budget}, seed ${r.seed}`,
    `best architecture    ${r.best.arch}`,
    `validation accuracy  ${fmt(r.best.validAccuracy)} % (query ${r.best.query} of ${r.queries}${r.t0 !== null ? `; T0 = ${r.t0}` : ''}; ` +
      `${r.data.validCount} validation images, ${s.training.epochs} epoch${s.training.epochs > 1 ? 's' : ''} on ${r.data.trainCount})`,
  ];
  const pc = perClassLine(r);
  if (pc) lines.push(pc);
  lines.push(`answer size          ${r.best.params.toLocaleString('en-US')} parameters, ${short(r.best.flops)} FLOPs, ${fmt(r.bestLatencyMs)} ms batch-1 inference on this machine`);
  if (r.limits) {
    const l = r.limits;
    const stated = [
      ...(l.maxParams !== undefined ? [`params ≤ ${short(l.maxParams)}`] : []),
      ...(l.maxFlops !== undefined ? [`FLOPs ≤ ${short(l.maxFlops)}`] : []),
      ...(l.maxLatency !== undefined ? [`latency ≤ ${l.maxLatency} ms`] : []),
    ];
    lines.push(`limits               ${stated.join(', ')}: ${l.removed} of ${l.before} candidates removed before scoring`);
    const z = r.suggestedSize;
    if (z) {
      lines.push(
        `suggested size       C=${z.channels}, ${r.space === 'nb201' ? 'N' : 'cells'}=${z.cells}: ${z.params.toLocaleString('en-US')} parameters, ${short(z.flops)} FLOPs` +
          `${z.latencyMs !== undefined ? `, ${fmt(z.latencyMs)} ms` : ''} — the largest of this cell within the limits; train it with ` +
          shellCommand(['npx', 'robot-nas', 'train', '--from', rel(dirname(r.files.result)), '--channels', String(z.channels), '--cells', String(z.cells)]),
      );
    }
  }
  lines.push(
    `pareto front         ${r.pareto.map((p) => `${fmt(p.validAccuracy)} % at ${short(p.params)}`).join(', ')} (accuracy vs parameters of the queried architectures; result.json "pareto")`,
  );
  if (r.diverged.length > 0) {
    lines.push(`diverged             ${r.diverged.length} of ${r.queries} trainings: ${r.diverged.map((d) => `query ${d.query} (${d.reason})`).join(', ')}`);
  }
  if (r.weights) {
    lines.push(`metric weights       ${Object.entries(r.weights).map(([k, v]) => `${k} ${v >= 0 ? '+' : ''}${v.toFixed(2)}`).join(', ')}`);
  }
  lines.push(...explanationLines(r));
  lines.push(
    `cost                 ${r.queries} trainings, ${fmt(r.totalCost, 1)} s of training (${fmt(r.freshTrainingSeconds, 1)} s in this run, ${r.cacheHits} from the cache); ` +
      `metrics ${fmt(r.pool.scoringSeconds, 1)} s for ${r.pool.scoredNow} architectures; wall ${fmt(r.wallSeconds, 0)} s`,
    `parallel             ${r.parallel} at a time (${r.schedule === 'sync' ? 'synchronous rounds' : 'asynchronous'}): queries took ${fmt(r.queryWallSeconds, 0)} s wall` +
      ` (their recorded costs scheduled on ${r.parallel} worker${r.parallel > 1 ? 's' : ''}: ${fmt(r.scheduleSeconds, 0)} s)`,
    `results              ${rel(dirname(r.files.result))}/ (result.json, queries.jsonl, metrics.csv, search-curve.svg)`,
    `next                 ${nextTrainCommand(r)}`,
  );
  return lines.join('\n');
}

/** The explanation of the answer: what the weights lean on, what single metrics would have picked, the phases. */
export function explanationLines(r: SearchResult): string[] {
  const e = r.explanation;
  const lines: string[] = [];
  const leaning = e.leans.filter((l) => l.share >= 0.005);
  if (leaning.length > 0) {
    lines.push(`leans on             ${leaning.map((l) => `${l.metric} ${l.weight >= 0 ? 'high' : 'low'} ${(100 * l.share).toFixed(0)} %`).join(', ')} (share of the learned weights)`);
  }
  if (e.singles.length > 0) {
    const same = e.singles.filter((p) => p.index === r.best.index).map((p) => p.metric);
    const other = e.singles.filter((p) => p.index !== r.best.index);
    const parts = [
      ...(same.length > 0 ? [`${same.join(', ')} → the answer`] : []),
      ...other.map((p) => `${p.metric} → query ${p.query} (${fmt(p.value)} %, ${p.gap >= 0 ? '+' : ''}${fmt(p.gap)})`),
    ];
    lines.push(`single metrics       among the ${r.queries} queried, each metric's top pick: ${parts.join('; ')}`);
  }
  const ph = e.phases;
  if (ph) {
    lines.push(
      `phases               ${ph.bo > 0 ? `queries 1–${ph.bo} Bayesian optimisation of the weights` : 'no new query in Bayesian optimisation'} (T0 = ${ph.bo})` +
        (ph.exploitationStartedAt === null
          ? ', no exploitation'
          : `, ${ph.exploitationStartedAt < r.queries ? `${ph.exploitationStartedAt}–${r.queries}` : `query ${r.queries}`} exploitation of the learned combination`),
    );
  }
  return lines;
}

export function register(program: Command): void {
  const d = SEARCH_DEFAULTS;
  const cmd = program
    .command('search')
    .description(
      'find a good architecture for a dataset with RoBoT: score a pool with training-free metrics, then spend a budget of real ' +
        'trainings (Bayesian optimisation of the metric weights, then greedy). Without options: NAS-Bench-201 cells on MNIST digits, a few minutes on 2 cores.',
    )
    .addOption(new Option('--space <space>', 'search space').choices(['nb201', 'darts']).default(d.space))
    .addOption(new Option('--dataset <name>', `dataset: ${TRAIN_DATASETS.join(', ')}`).argParser(choice(TRAIN_DATASETS)).default(d.dataset))
    .option('--data <dir|file>', `${DATA_HELP} (default: the project data folder, see README)`)
    .option('--image-size <N>', "resize the images to N×N (default: their own size; mixed sizes go to the most common one)", parsePositiveInt)
    .option('--image-channels <1|3>', 'grey (1) or RGB (3) input (default: the images\' own: grey stays 1 channel)', parseImageChannels)
    .option('--pool <n|all>', 'candidate pool: a seeded sample of n architectures, or all (nb201)', parseLimit, d.pool)
    .option('--budget <T|all>', 'distinct architectures to train (all: the whole pool)', parseLimit, d.budget)
    .option('--method <m>', "robot-plus (RoBoT+, the robust variant), robot (the paper's RoBoT), rs, rea, reinforce, or metric:<name> (one metric, top-T)", DEFAULT_METHOD)
    .option('--metrics <m1,m2,...>', `training-free metrics to score and combine: ${metricsByData()} (default ${SEARCH_METRICS.join(',')})`, parseMetrics)
    .option('--epochs <E>', 'training epochs per query', parsePositiveInt, d.epochs)
    .option('--channels <C>', 'network width: nb201 C of the first stage; darts initial channels', parsePositiveInt, d.channels)
    .option('--cells <N>', 'nb201: cells per stage; darts: number of cells', parsePositiveInt, d.cells)
    .option('--batch-size <n>', 'training batch size', parsePositiveInt, d.batchSize)
    .option('--lr <x>', 'initial learning rate (cosine to 0.001; SGD momentum 0.9, weight decay 3e-4, clip 5)', parseNumber, d.lr)
    .option('--score-batch <n>', 'images per metric-scoring batch', parsePositiveInt, d.scoreBatch)
    .option('--valid-fraction <x>', 'share of the training images held out for validation', parseNumber, d.validFraction)
    .option('--train-limit <n|all>', 'train on at most n of the training images (seeded, class-balanced)', parseLimit, d.trainLimit)
    .option('--valid-limit <n|all>', 'validate on at most n of the held-out images', parseLimit, d.validLimit)
    .option('--seed <s>', 'seed of pool, split, initial weights and search', parseSeed, d.seed)
    .option('--search-seed <s>', 'seed of the search method alone (default: --seed); pool, split and trainings stay those of --seed', parseSeed)
    .option('--out <dir>', 'output folder (default robot-nas-results/search-<dataset>-<space>-<method>-s<seed>)')
    .option('--cache <file>', 'query cache (default: query-cache.jsonl next to the output folder)')
    .option('--no-cache', 'do not read or write a query cache on disk')
    .option('--parallel <K>', 'scorings and trainings at once, on K worker threads (0: one at a time in this thread); RoBoT proposes K queries per round (default: the number of cores)', parseCount)
    .option('--async', 'propose a new query as soon as a training finishes, instead of synchronous rounds of K (faster with uneven trainings; the result then depends on finishing order)')
    .option('--max-params <n>', 'only candidates with at most n parameters (e.g. 100k, 1.5M)', parseSize)
    .option('--max-flops <n>', 'only candidates with at most n multiply-accumulates per image (e.g. 20M)', parseSize)
    .option('--max-latency <ms>', "only candidates whose median batch-1 inference on this machine's engine takes at most ms milliseconds (measured once, cached)", parsePositive)
    .option('--train-best <E>', 'after the search, train the answer for E epochs and report its train / validation / test accuracy (as `train` does)', parsePositiveInt)
    .option('--save <dir>', 'with --train-best: save the trained answer as a model folder (for predict and export)')
    .option('--json', 'print result.json to stdout instead of the summary');
  addMaxPixels(cmd);
  addQueueTimeout(cmd);
  // --cache FILE and --no-cache set one value (the last given wins in commander): both given is a contradiction
  const given = new Set<string>();
  cmd.on('option:cache', () => given.add('--cache'));
  cmd.on('option:no-cache', () => given.add('--no-cache'));
  addQueueOptions(cmd, 'submit the scoring and training jobs to this Redis queue (redis://HOST:PORT) for `robot-nas worker`s to run, instead of running them here; --parallel = jobs kept in flight')
    .action(async (f: Flags) => {
      applyMaxPixels(f);
      if (given.size === 2) throw new InputError('--cache FILE and --no-cache contradict each other: give one of them');
      if (f.async && f.parallel === 0) {
        throw new InputError('--async: with --parallel 0 the jobs run one at a time in this thread, so nothing can be proposed while another runs; drop --async, or give --parallel K (K ≥ 2)');
      }
      if (f.save !== undefined && f.trainBest === undefined) throw new InputError('--save: needs --train-best E (the epochs to train the answer for before saving it)');
      // Refused now rather than after the search and the training.
      if (f.save !== undefined) checkModelDestination(f.save, 'save');
      const pool = f.pool;
      const method = f.method;
      const out = f.out ?? join('robot-nas-results', `search-${f.dataset}-${f.space}-${method.replace(/[^a-z0-9_]+/gi, '-')}-s${f.seed}${f.searchSeed !== undefined ? `-r${f.searchSeed}` : ''}`);
      const cache = f.cache === false ? null : (f.cache ?? join(dirname(out), 'query-cache.jsonl'));
      const opts: SearchOptions = {
        space: f.space,
        dataset: f.dataset,
        ...(f.data !== undefined ? { dir: f.data } : {}),
        ...(f.imageSize !== undefined ? { imageSize: f.imageSize } : {}),
        ...(f.imageChannels !== undefined ? { imageChannels: f.imageChannels } : {}),
        pool,
        budget: f.budget,
        method,
        metrics: f.metrics ?? [...SEARCH_METRICS],
        channels: f.channels,
        cells: f.cells,
        epochs: f.epochs,
        batchSize: f.batchSize,
        lr: f.lr,
        scoreBatch: f.scoreBatch,
        validFraction: f.validFraction,
        ...(f.trainLimit !== undefined && f.trainLimit !== 'all' ? { trainLimit: f.trainLimit } : {}),
        ...(f.validLimit !== undefined && f.validLimit !== 'all' ? { validLimit: f.validLimit } : {}),
        seed: f.seed,
        ...(f.searchSeed !== undefined ? { searchSeed: f.searchSeed } : {}),
        out,
        ...(f.out === undefined ? { outIsDefault: true } : {}),
        cache,
        parallel: f.parallel ?? availableParallelism(),
        schedule: f.async ? 'async' : 'sync',
        ...(f.maxParams !== undefined || f.maxFlops !== undefined || f.maxLatency !== undefined
          ? {
              limits: {
                ...(f.maxParams !== undefined ? { maxParams: f.maxParams } : {}),
                ...(f.maxFlops !== undefined ? { maxFlops: f.maxFlops } : {}),
                ...(f.maxLatency !== undefined ? { maxLatency: f.maxLatency } : {}),
              },
            }
          : {}),
      };
      let bar: Progress | undefined;
      let training: TrainingBars | undefined;
      const stopBars = (): void => {
        bar?.stop();
        bar = undefined;
        training?.stop();
        training = undefined;
      };
      // Everything finished is already on disk (rows, cache lines, query log): say how to continue.
      process.once('SIGINT', () => {
        stopBars();
        const kept =
          (cache === null ? 'with --no-cache finished trainings are not kept' : `finished trainings are cached in ${cache}`) +
          (f.queue !== undefined ? '; jobs in the queue keep running on the workers and the rerun collects their results' : '');
        process.stderr.write(`\ninterrupted — run the same command again to resume (${kept})\n`);
        process.exit(130);
      });
      const log = (m: string): void => {
        if (training) training.log(m);
        else {
          bar?.stop();
          bar = undefined;
          process.stderr.write(`${m}\n`);
        }
      };
      // checked (and connected) before any data are loaded, so a bad --queue fails at once
      const runner = f.queue !== undefined || f.queueName !== undefined || f.queueTimeout !== undefined ? await cliQueueRunner(f, opts.parallel, 'parallel', log) : undefined;
      startEngine();
      const result = await runSearch(opts, {
        log,
        onDataProgress: (phase, done, total) => {
          if (done === 0 || bar === undefined) {
            bar?.stop();
            bar = progressBar(total, phase.padEnd(8));
          }
          bar.update(done);
          if (done >= total) {
            bar.stop();
            bar = undefined;
          }
        },
        onLatencyStart: (todo) => {
          bar = progressBar(todo, 'latency ');
        },
        onLatencyMeasured: (done) => bar?.update(done),
        onLatencyEnd: () => {
          bar?.stop();
          bar = undefined;
        },
        onScoringStart: (total, todo) => {
          if (todo > 0) bar = progressBar(total, 'scoring ');
        },
        onScored: (done) => bar?.update(done),
        onScoringEnd: () => {
          bar?.stop();
          bar = undefined;
          training = trainingBars();
        },
        onTrainEvent: (arch, e) => {
          if (e.type === 'progress') training?.step(arch, e.step, e.steps, e.loss);
        },
        onQuery: (l, budget) => {
          training?.end(l.arch);
          log(
            `query ${String(l.n).padStart(String(budget).length)}/${budget}  val ${l.validAccuracy.toFixed(2)}%  ` +
              `${l.cached ? 'cached' : `${l.seconds.toFixed(1)} s`}  best ${l.bestSoFar.toFixed(2)}%  ${l.arch}` +
              (l.diverged ? `  (diverged: ${String(l.details?.divergence ?? 'yes')})` : ''),
          );
        },
      }, { ...(runner ? { runner } : {}), startedAt: 0 }).finally(async () => {
        stopBars();
        await runner?.close();
      });
      if (runner) process.stderr.write(`${queueSummary(runner.stats)}\n`);
      let trained: TrainRun | undefined;
      if (f.trainBest !== undefined) {
        // The answer, trained longer on the search's split and recipe (its seed gives the same split).
        if (!f.json) process.stdout.write(formatSearchSummary(result) + '\n\n');
        const progress = trainingProgress(f.trainBest);
        trained = await trainArchitecture({
          space: f.space,
          arch: result.best.arch,
          dataset: f.dataset,
          ...(f.data !== undefined ? { data: f.data } : {}),
          ...(f.imageSize !== undefined ? { imageSize: f.imageSize } : {}),
          ...(f.imageChannels !== undefined ? { imageChannels: f.imageChannels } : {}),
          cacheDir: cache === null ? out : dirname(cache),
          epochs: f.trainBest,
          channels: f.channels,
          cells: f.cells,
          batchSize: f.batchSize,
          lr: f.lr,
          validFraction: f.validFraction,
          ...(f.trainLimit !== undefined ? { trainLimit: f.trainLimit } : {}),
          ...(f.validLimit !== undefined ? { validLimit: f.validLimit } : {}),
          seed: f.seed,
          ...(f.save !== undefined ? { save: f.save } : {}),
        }, progress).finally(() => progress.stop());
        if (f.json) process.stdout.write(JSON.stringify({ ...result, trained: trained.report }, null, 2) + '\n');
        else process.stdout.write(trained.summary + '\n');
        if (trained.notSaved) throw trained.notSaved;
        return;
      }
      process.stdout.write(f.json ? JSON.stringify(result, null, 2) + '\n' : formatSearchSummary(result) + '\n');
    });
}
