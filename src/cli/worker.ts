import { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { jobExecutor } from '../jobs/index.js';
import { InputError } from '../util/errors.js';
import { noteKernelFallback } from './engine.js';
import { addMaxPixels, applyMaxPixels, parseNumber, parsePositiveInt } from './options.js';
import { addQueueOptions, queueTarget, type QueueFlags } from './queue.js';

/**
 * `robot-nas worker --queue redis://HOST:PORT [--concurrency K]`: runs scoring and training jobs from the queue on
 * this machine until stopped. SIGINT/SIGTERM hand the running trainings back to the queue and exit 0; a second
 * signal exits at once (the queue then gives the jobs to another worker once their locks expire).
 */
interface Flags extends QueueFlags {
  concurrency?: number;
  lockTimeout: number;
  data?: string;
  name?: string;
  maxPixels?: number;
}

export function register(program: Command): void {
  const cmd = program
    .command('worker')
    .description('take scoring and training jobs from the queue and run them here, until stopped (Ctrl-C / SIGTERM hands running jobs back)')
    .option('--concurrency <K>', 'jobs at once, one worker thread each (default: the number of cores)', parsePositiveInt)
    .option('--lock-timeout <seconds>', 'seconds without a heartbeat after which a job of this worker is given to another (BullMQ lockDuration)', parseNumber, 30)
    .option('--data <dir>', "this machine's dataset folder, used instead of the one a job names (trainings still check the images' fingerprint)")
    .option('--name <name>', 'name shown by `queue status` (default host:pid)');
  addMaxPixels(cmd);
  addQueueOptions(cmd, 'Redis URL of the queue, e.g. redis://127.0.0.1:6379 (required)').action(async (f: Flags) => {
    applyMaxPixels(f);
    if (!(f.lockTimeout >= 1)) throw new InputError('--lock-timeout: expected at least 1 second');
    const t = await queueTarget(f);
    noteKernelFallback();
    const { startQueueWorker } = await import('../runner/queue-worker.js');
    const concurrency = f.concurrency ?? availableParallelism();
    const log = (m: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`);
    const w = await startQueueWorker({
      target: t,
      executor: jobExecutor(),
      concurrency,
      lockSeconds: f.lockTimeout,
      ...(f.data !== undefined ? { dataDir: f.data } : {}),
      ...(f.name !== undefined ? { name: f.name } : {}),
      log,
    });
    log(`worker ${w.name}: taking jobs from '${t.name}' at ${t.shown}, ${concurrency} at a time (lock ${f.lockTimeout} s); Ctrl-C to stop`);
    await new Promise<void>((resolve) => {
      let signals = 0;
      const onSignal = (sig: NodeJS.Signals): void => {
        if (++signals > 1) {
          log(`${sig} again: exiting now`);
          process.exit(130);
        }
        const n = w.record.running.length;
        log(`${sig}: stopping${n > 0 ? ' — handing running trainings back to the queue' : ''}`);
        void w.stop().then(() => {
          log(`stopped: ${w.record.done} done, ${w.record.failed} failed, ${w.record.handedBack} handed back`);
          // a client cut off from Redis may keep timers of its own: they must not keep a stopped worker alive
          setTimeout(() => process.exit(process.exitCode ?? 0), 1000).unref();
          resolve();
        });
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
  });
}
