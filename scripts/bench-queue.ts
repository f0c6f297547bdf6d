/**
 * The distributed queue against the local runner: trainings per minute with 1 and 2 `robot-nas worker` processes
 * (BullMQ on a local Redis) and with 1 and 2 local worker threads, on the same MNIST trainings (the `search`
 * defaults: NB201 C=8, N=1, 4,000 train / 1,000 validation digits, 1 epoch), and the queue's own overhead per job:
 *
 *   submit → start           the coordinator adds the job (its BullMQ timestamp) → a worker takes it (processedOn)
 *   finish → coordinator     the worker stores the result (finishedOn) → the coordinator's run() resolves
 *   on the worker            taken → finished, minus the training's own seconds (thread hand-off, network build)
 *
 * compared with a typical MNIST query (the median training time measured here). Each side first runs one warm-up
 * job per worker (engine start-up and data loading happen once per process, not per job). The machine is shared, so
 * sides alternate (local 1, queue 1, local 2, queue 2) and ratios from one run are what to quote.
 *
 *   npm run bench:queue [-- --jobs 6 --train-limit 4000 --redis redis://HOST:PORT --json]
 *
 * Without --redis (or ROBOT_NAS_REDIS) a private redis-server from PATH or /usr/bin is started and stopped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { Queue } from 'bullmq';
import { jobExecutor, trainingJob, type Job, type JobResult, type TrainingJob } from '../src/jobs/index.js';
import { selectArchs } from '../src/pipeline/archs.js';
import { openQueueRunner } from '../src/runner/queue.js';
import { checkRedis, parseQueueUrl } from '../src/runner/queue-connection.js';
import type { Runner } from '../src/runner/types.js';
import { workerThreadRunner } from '../src/runner/worker-threads.js';
import { getSpace } from '../src/spaces/index.js';
import { augmentFor } from '../src/train/augment.js';
import { prepareData } from '../src/train/data.js';
import { dataRefOf, type TrainingOutcome } from '../src/train/spec.js';
import { DARTS_TRAINING } from '../src/train/trainer.js';

const o = new Command()
  .option('--jobs <n>', 'measured trainings per configuration', (v) => Number.parseInt(v, 10), 6)
  .option('--train-limit <n>', 'training images per job', (v) => Number.parseInt(v, 10), 4000)
  .option('--redis <url>', 'an existing Redis (default: $ROBOT_NAS_REDIS, else a private redis-server)')
  .option('--json', 'print a JSON summary as the last line')
  .parse()
  .opts<{ jobs: number; trainLimit: number; redis?: string; json?: boolean }>();

const REPO = new URL('..', import.meta.url).pathname;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;

// --- Redis ---------------------------------------------------------------------------------------------------------
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

let redisChild: ChildProcess | undefined;
let redisDir: string | undefined;
async function redisUrl(): Promise<string> {
  const given = o.redis ?? process.env.ROBOT_NAS_REDIS;
  if (given) return given;
  const which = spawnSync('sh', ['-c', 'command -v redis-server || ls /usr/bin/redis-server'], { encoding: 'utf8' });
  const bin = which.stdout.trim().split('\n')[0];
  if (!bin) throw new Error('no redis-server: install it (apt-get install redis-server) or pass --redis redis://HOST:PORT');
  const port = await freePort();
  redisDir = mkdtempSync(join(tmpdir(), 'robot-nas-bench-redis-'));
  redisChild = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--dir', redisDir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await checkRedis(parseQueueUrl(url));
      return url;
    } catch (e) {
      if (i > 100) throw e;
      await sleep(50);
    }
  }
}

// --- jobs -----------------------------------------------------------------------------------------------------------
const limits = { trainLimit: o.trainLimit, validLimit: 1000 };
const data = await prepareData({ dataset: 'mnist', validFraction: 0.2, ...limits, seed: 0 });
const train = { ...DARTS_TRAINING, lr: 0.1, epochs: 1, batchSize: 32, augment: augmentFor('mnist', data.info.mean, data.info.std, data.info.shape[1]) };
const jobOf = (arch: string): TrainingJob =>
  trainingJob({
    space: 'nb201',
    arch,
    network: { channels: 8, cells: 1 },
    data: dataRefOf(data, undefined, limits),
    train,
    seed: 0,
  });
const executor = jobExecutor();
// warm-ups first (2, one per worker), then the measured jobs: the same for every configuration
const archs = selectArchs(getSpace('nb201'), { kind: 'sample', n: o.jobs + 2 }, 11);
const warm = archs.slice(0, 2).map(jobOf);
const measured = archs.slice(2).map(jobOf);

interface Timed {
  arch: string;
  seconds: number;
  submitMs: number;
  doneMs: number;
}

/** Runs the warm-ups (one per worker, at once), then every measured job at once; wall and per-job times. */
async function runAll(runner: Runner<Job, JobResult>, workers: number): Promise<{ wall: number; jobs: Timed[] }> {
  await Promise.all(warm.slice(0, workers).map((j) => runner.run(j)));
  const t0 = Date.now();
  const jobs = await Promise.all(
    measured.map(async (j) => {
      const submitMs = Date.now();
      const r = (await runner.run(j)) as TrainingOutcome;
      return { arch: j.arch, seconds: r.seconds, submitMs, doneMs: Date.now() };
    }),
  );
  return { wall: (Date.now() - t0) / 1000, jobs };
}

function spawnWorkers(url: string, queue: string, n: number): Promise<ChildProcess[]> {
  return Promise.all(
    Array.from({ length: n }, () => {
      const child = spawn(process.execPath, [join(REPO, 'bin', 'robot-nas.js'), 'worker', '--queue', url, '--queue-name', queue, '--concurrency', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
      return new Promise<ChildProcess>((resolve, reject) => {
        let text = '';
        child.stderr!.on('data', (d: Buffer) => {
          text += d.toString();
          if (text.includes('taking jobs from')) resolve(child);
        });
        child.on('exit', (code) => reject(new Error(`worker exited (${code}): ${text}`)));
      });
    }),
  );
}

interface Row {
  side: string;
  workers: number;
  wall: number;
  perMin: number;
  medianTraining: number;
  submitToStartMs?: number[];
  finishToCoordinatorMs?: number[];
  onWorkerMs?: number[];
  localOverheadMs?: number[];
}

/** The throughput columns every side reports. */
function throughput(side: Row['side'], workers: number, r: { wall: number; jobs: { seconds: number }[] }): Pick<Row, 'side' | 'workers' | 'wall' | 'perMin' | 'medianTraining'> {
  return { side, workers, wall: r.wall, perMin: (60 * r.jobs.length) / r.wall, medianTraining: median(r.jobs.map((j) => j.seconds)) };
}

async function local(workers: number): Promise<Row> {
  const runner = workerThreadRunner(workers, executor);
  try {
    const r = await runAll(runner, workers);
    return {
      ...throughput('local threads', workers, r),
      // with `workers` jobs submitted at once, only the first `workers` start at once: overhead of those
      localOverheadMs: r.jobs.slice(0, workers).map((j) => j.doneMs - j.submitMs - 1000 * j.seconds),
    };
  } finally {
    await runner.close();
  }
}

async function queued(url: string, workers: number): Promise<Row> {
  const target = parseQueueUrl(url, `bench-${process.pid}-${workers}-${Date.now().toString(36)}`);
  const procs = await spawnWorkers(url, target.name, workers);
  const runner = await openQueueRunner({ target, capacity: workers, executor });
  const q = new Queue(target.name, { connection: { url } });
  try {
    const r = await runAll(runner, workers);
    const s2s: number[] = [];
    const f2c: number[] = [];
    const onw: number[] = [];
    for (const j of r.jobs) {
      const bj = await q.getJob(executor.key(jobOf(j.arch)));
      if (!bj?.processedOn || !bj.finishedOn) throw new Error(`job of ${j.arch} has no timestamps`);
      s2s.push(bj.processedOn - bj.timestamp);
      f2c.push(j.doneMs - bj.finishedOn);
      onw.push(bj.finishedOn - bj.processedOn - 1000 * j.seconds);
    }
    return {
      ...throughput('queue workers', workers, r),
      submitToStartMs: s2s,
      finishToCoordinatorMs: f2c,
      onWorkerMs: onw,
    };
  } finally {
    await runner.close();
    await q.obliterate({ force: true }).catch(() => undefined);
    await q.close();
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))));
  }
}

const fmtMs = (v: number[]): string => `median ${median(v).toFixed(0)} ms, mean ${mean(v).toFixed(0)} ms (${Math.min(...v).toFixed(0)}–${Math.max(...v).toFixed(0)})`;

const url = await redisUrl();
try {
  process.stdout.write(
    `MNIST trainings: NB201 C=8, N=1, ${data.info.trainCount} train / ${data.info.validCount} validation digits, 1 epoch; ` +
      `${measured.length} measured jobs per configuration (after one warm-up job per worker); Redis ${url}\n\n`,
  );
  const rows: Row[] = [];
  for (const workers of [1, 2]) {
    for (const side of ['local', 'queue'] as const) {
      const row = side === 'local' ? await local(workers) : await queued(url, workers);
      rows.push(row);
      process.stdout.write(
        `${row.side.padEnd(14)} ${workers}  ${row.perMin.toFixed(2).padStart(6)} trainings/min  (wall ${row.wall.toFixed(1)} s, median training ${row.medianTraining.toFixed(1)} s)\n`,
      );
    }
  }
  const q = rows.filter((r) => r.side === 'queue workers');
  const s2s = q.flatMap((r) => r.submitToStartMs!);
  const f2c = q.flatMap((r) => r.finishToCoordinatorMs!);
  const onw = q.flatMap((r) => r.onWorkerMs!);
  const lov = rows.filter((r) => r.side === 'local threads').flatMap((r) => r.localOverheadMs!);
  const typical = median(rows.map((r) => r.medianTraining));
  const queueOwn = median(s2s) + median(f2c);
  process.stdout.write(
    `\nqueue overhead per job (${s2s.length} jobs):\n` +
      `  submit → start          ${fmtMs(s2s)}\n` +
      `  finish → coordinator    ${fmtMs(f2c)}\n` +
      `  on the worker           ${fmtMs(onw)}   (thread hand-off and network build, outside the training's own seconds)\n` +
      `  local runner, same      ${fmtMs(lov)}   (submit → result minus the training's seconds, worker threads)\n`,
  );
  process.stdout.write(
    `\ntypical MNIST query here: ${typical.toFixed(1)} s (median training time)\n` +
      `queue's own overhead per job (medians of submit → start + finish → coordinator): ${queueOwn.toFixed(0)} ms = ${((100 * queueOwn) / (1000 * typical)).toFixed(2)} % of a query (target < 2 %)\n`,
  );
  if (o.json) {
    process.stdout.write(JSON.stringify({ rows, typicalQuerySeconds: typical, queueOverheadMs: queueOwn, overheadPercent: (100 * queueOwn) / (1000 * typical) }) + '\n');
  }
} finally {
  redisChild?.kill('SIGKILL');
  if (redisDir) rmSync(redisDir, { recursive: true, force: true });
}
