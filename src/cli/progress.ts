import cliProgress from 'cli-progress';
import type { TrainRequestHooks } from '../pipeline/train.js';

/** A progress bar on stderr (only when stderr is a terminal, so logs and pipes stay clean). */
export interface Progress {
  update(done: number, label?: string): void;
  stop(): void;
}

export function progressBar(total: number, title: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || total <= 1) return { update() {}, stop() {} };
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
    return { step() {}, end() {}, log: (line) => void stream.write(`${line}\n`), stop() {} };
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
 * The console's view of one training (`train`, `search --train-best`): its plan on stderr, a bar through each epoch,
 * then one line per finished epoch. `stop()` clears a bar left by a training that ended early.
 */
export function trainingProgress(epochs: number): TrainRequestHooks & { stop(): void } {
  let bar: Progress | undefined;
  return {
    log: (m) => void process.stderr.write(`${m}\n`),
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
