/**
 * A small executor for the runner contract tests: jobs that square a number in `steps` steps (sleeping `stepMs` each,
 * reporting progress), optionally failing as an input error or another error. It loads no engine, so every runner
 * is tested on its own behaviour; worker threads build it from this module (`thread`).
 */
import type { Executor } from '../../src/runner/types.js';
import { InputError } from '../../src/util/errors.js';

export interface SquareJob {
  kind: 'square';
  x: number;
  steps: number;
  stepMs: number;
  fail?: 'input' | 'error';
}

export interface SquareResult {
  x: number;
  square: number;
  /** When the job ran (ms since the epoch): for checking how many ran at once. */
  started: number;
  ended: number;
}

export const square = (x: number, o: Partial<Omit<SquareJob, 'kind' | 'x'>> = {}): SquareJob => ({ kind: 'square', x, steps: 2, stepMs: 5, ...o });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function testExecutor(options: { tag?: string } = {}): Executor<SquareJob, SquareResult> {
  return {
    async run(job, ctx) {
      const started = Date.now();
      for (let step = 1; step <= job.steps; step++) {
        ctx.signal?.throwIfAborted();
        await sleep(job.stepMs);
        ctx.emit({ type: 'progress', step, steps: job.steps, loss: job.x });
      }
      if (job.fail === 'input') throw new InputError(`x = ${job.x} is refused`);
      if (job.fail === 'error') throw new Error(`x = ${job.x} broke`);
      return { x: job.x, square: job.x * job.x, started, ended: Date.now() };
    },
    key: (job) => `square-${job.x}-${job.steps}-${job.stepMs}-${job.fail ?? 'ok'}${options.tag ? `-${options.tag}` : ''}`,
    kind: (job) => job.kind,
    label: (job) => `square ${job.x}`,
    subject: (job) => `x=${job.x}`,
    check(value) {
      const j = value as Partial<SquareJob> | null;
      if (typeof j !== 'object' || j === null || j.kind !== 'square' || typeof j.x !== 'number') throw new InputError('not a square job');
      return j as SquareJob;
    },
    summary: (_job, r) => `square ${r.square}`,
    thread: { module: import.meta.url, name: 'testExecutor', options },
  };
}
