import cliProgress from 'cli-progress';
import type { TrainRequestHooks } from '../pipeline/train.js';
import { startEngine } from './engine.js';

/**
 * A progress bar on stderr when it is a terminal; otherwise (a pipe, a log file) one line every
 * `ROBOT_NAS_PROGRESS_EVERY` seconds (default 10; 0: none), so long work is never silent there either.
 */
export interface Progress {
  update(done: number, label?: string): void;
  stop(): void;
}

/** Seconds between progress lines when stderr is not a terminal (0: none). */
export function progressEvery(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env['ROBOT_NAS_PROGRESS_EVERY'] ?? 10);
  return Number.isFinite(v) && v >= 0 ? v : 10;
}

const secs = (s: number): string => (s < 100 ? `${s.toFixed(0)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`);

/** Periodic lines for a non-terminal stream: `title  done/total (p%), elapsed, ETA`. */
function progressLines(total: number, title: string, stream: NodeJS.WritableStream): Progress {
  const every = progressEvery() * 1000;
  const t0 = performance.now();
  let last = t0;
  return {
    update(done, label = '') {
      const now = performance.now();
      if (every === 0 || now - last < every || done >= total) return;
      last = now;
      const el = (now - t0) / 1000;
      const eta = done > 0 ? (el * (total - done)) / done : NaN;
      stream.write(`${title.trim()} ${done}/${total} (${((100 * done) / total).toFixed(0)}%), ${secs(el)}${Number.isFinite(eta) ? `, about ${secs(eta)} left` : ''}${label ? `  ${label}` : ''}\n`);
    },
    stop() {},
  };
}

export function progressBar(total: number, title: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return progressLines(total, title, stream);
  if (total <= 1) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${title} [{bar}] {value}/{total} | {percentage}% | ETA {eta_formatted} | {label}`,
      stream,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { label: '' });
  return {
    update(done, label = '') {
      bar.update(done, { label });
    },
    stop() {
      bar.stop();
    },
  };
}

/** One bar per running training (several run at once with --parallel), and log lines printed above them. */
export interface TrainingBars {
  step(arch: string, step: number, steps: number, loss: number): void;
  end(arch: string): void;
  log(line: string): void;
  stop(): void;
}

export function trainingBars(stream: NodeJS.WriteStream = process.stderr): TrainingBars {
  if (!stream.isTTY) {
    // one line every few seconds with the step of every running training
    const every = progressEvery() * 1000;
    const running = new Map<string, { step: number; steps: number; loss: number }>();
    let last = performance.now();
    return {
      step(arch, step, steps, loss) {
        running.set(arch, { step, steps, loss });
        const now = performance.now();
        if (every === 0 || now - last < every) return;
        last = now;
        const parts = [...running.entries()].map(([a, r]) => `${((100 * r.step) / r.steps).toFixed(0)}% (step ${r.step}/${r.steps}, loss ${r.loss.toFixed(3)}) ${a.length > 40 ? `${a.slice(0, 37)}...` : a}`);
        stream.write(`training ${parts.join('; ')}\n`);
      },
      end(arch) {
        running.delete(arch);
      },
      log: (line) => void stream.write(`${line}\n`),
      stop() {},
    };
  }
  const multi = new cliProgress.MultiBar(
    { format: 'training [{bar}] {percentage}% | ETA {eta_formatted} | {label}', stream, hideCursor: true, clearOnComplete: true, etaBuffer: 20 },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  const short = (arch: string): string => (arch.length > 60 ? `${arch.slice(0, 57)}...` : arch);
  return {
    step(arch, step, steps, loss) {
      let bar = bars.get(arch);
      if (bar === undefined) {
        bar = multi.create(steps, 0, { label: '' });
        bars.set(arch, bar);
      }
      bar.update(step, { label: `loss ${loss.toFixed(3)}  ${short(arch)}` });
    },
    end(arch) {
      const bar = bars.get(arch);
      if (bar !== undefined) {
        multi.remove(bar);
        bars.delete(arch);
      }
    },
    log(line) {
      multi.log(`${line}\n`);
    },
    stop() {
      multi.stop();
    },
  };
}

/**
 * The console's view of one training (`train`, `search --train-best`): a bar while the data are decoded, its plan
 * on stderr, a bar through each epoch, then one line per finished epoch. `stop()` clears a bar left by a training that ended early.
 */
export function trainingProgress(epochs: number): TrainRequestHooks & { stop(): void } {
  let bar: Progress | undefined;
  return {
    log: (m) => void process.stderr.write(`${m}\n`),
    startEngine: () => void startEngine(),
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
    onStep: (step, steps, loss) => {
      bar ??= progressBar(steps, 'training');
      bar.update(step, `loss ${loss.toFixed(3)}`);
    },
    onEpoch: (e) => {
      bar?.stop();
      bar = undefined;
      process.stderr.write(`epoch ${e.epoch + 1}/${epochs}  lr ${e.lr.toFixed(4)}  loss ${e.trainLoss.toFixed(4)}  train ${e.trainAccuracy.toFixed(2)}%  ${e.seconds.toFixed(1)} s\n`);
    },
    stop: () => {
      bar?.stop();
      bar = undefined;
    },
  };
}
