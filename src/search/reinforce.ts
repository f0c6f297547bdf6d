import type { Rng } from '../util/rng.js';
import type { SearchContext, SearchMethod, SearchOutcome } from './types.js';
import { fillRandomly, randomUnqueried } from './random.js';
import { keepBusy, queryTarget } from './schedule.js';

export interface ReinforceOptions {
  /** Adam learning rate (reference: 0.01). */
  readonly learningRate?: number;
  /** Momentum of the reward baseline (reference: 0.9). */
  readonly baselineMomentum?: number;
  /** Hard cap on policy iterations, as a multiple of the budget (default 50). */
  readonly maxIterationsPerBudget?: number;
  /** Policy samples tried per iteration to hit a pool member (default 1000). */
  readonly maxSampleAttempts?: number;
}

/** Exponential moving average with the reference's bias correction (numerator / denominator). */
export class ExponentialMovingAverage {
  private numerator = 0;
  private denominator = 0;
  constructor(private readonly momentum: number) {}

  update(value: number): void {
    this.numerator = this.momentum * this.numerator + (1 - this.momentum) * value;
    this.denominator = this.momentum * this.denominator + (1 - this.momentum);
  }

  /** NaN before the first update (the reference would divide by zero too). */
  value(): number {
    return this.numerator / this.denominator;
  }
}

/** Adam (Kingma & Ba) with PyTorch's defaults and update rule, on a flat parameter vector. */
export class Adam {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private t = 0;

  constructor(
    size: number,
    private readonly lr = 0.001,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly eps = 1e-8,
  ) {
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }

  /** One descent step on `params` (in place) along `grad`. */
  step(params: Float64Array, grad: ArrayLike<number>): void {
    this.t++;
    const bc1 = 1 - this.beta1 ** this.t;
    const bc2 = 1 - this.beta2 ** this.t;
    for (let i = 0; i < params.length; i++) {
      const g = grad[i];
      this.m[i] = this.beta1 * this.m[i] + (1 - this.beta1) * g;
      this.v[i] = this.beta2 * this.v[i] + (1 - this.beta2) * g * g;
      // PyTorch: p -= lr / bc1 · m / (sqrt(v) / sqrt(bc2) + eps)
      params[i] -= ((this.lr / bc1) * this.m[i]) / (Math.sqrt(this.v[i]) / Math.sqrt(bc2) + this.eps);
    }
  }
}

/**
 * Independent softmax policies, one per categorical decision, stored as one flat logit vector
 * (decision k owns logits[offset[k] .. offset[k] + decisions[k])).
 */
export class SoftmaxPolicy {
  readonly logits: Float64Array;
  readonly offsets: readonly number[];

  constructor(
    readonly decisions: readonly number[],
    init?: (i: number) => number,
  ) {
    const offsets: number[] = [];
    let total = 0;
    for (const d of decisions) {
      offsets.push(total);
      total += d;
    }
    this.offsets = offsets;
    this.logits = new Float64Array(total);
    if (init) for (let i = 0; i < total; i++) this.logits[i] = init(i);
  }

  /** Reference initialisation: logits = 1e-3 · N(0, 1). */
  static random(decisions: readonly number[], rng: Rng): SoftmaxPolicy {
    return new SoftmaxPolicy(decisions, () => 1e-3 * rng.normal());
  }

  /** Softmax probabilities of decision k. */
  probabilities(k: number): Float64Array {
    const off = this.offsets[k];
    const n = this.decisions[k];
    let max = -Infinity;
    for (let j = 0; j < n; j++) max = Math.max(max, this.logits[off + j]);
    const p = new Float64Array(n);
    let sum = 0;
    for (let j = 0; j < n; j++) {
      p[j] = Math.exp(this.logits[off + j] - max); // shifted for numerical stability
      sum += p[j];
    }
    for (let j = 0; j < n; j++) p[j] /= sum;
    return p;
  }

  sample(rng: Rng): number[] {
    return this.decisions.map((_, k) => rng.categorical(this.probabilities(k)));
  }

  /** Σ_k log π_k(a_k). */
  logProb(actions: readonly number[]): number {
    let s = 0;
    for (let k = 0; k < this.decisions.length; k++) s += Math.log(this.probabilities(k)[actions[k]]);
    return s;
  }

  /**
   * Gradient w.r.t. the logits of the REINFORCE loss −Σ_k log π_k(a_k) · advantage.
   * d log softmax(z)[a] / dz_j = [j = a] − p_j, hence ∂loss/∂z_kj = −advantage · ([j = a_k] − p_kj).
   */
  lossGradient(actions: readonly number[], advantage: number): Float64Array {
    const g = new Float64Array(this.logits.length);
    for (let k = 0; k < this.decisions.length; k++) {
      const p = this.probabilities(k);
      const off = this.offsets[k];
      for (let j = 0; j < p.length; j++) g[off + j] = -advantage * ((j === actions[k] ? 1 : 0) - p[j]);
    }
    return g;
  }
}

/**
 * REINFORCE as in RoBoT's reference baseline: a softmax policy per `space.decisions` entry, reward = the
 * queried objective, an EMA baseline, Adam on the logits; one sample and one update per iteration.
 *
 * - A sample that decodes to no architecture, or to one outside the pool, is resampled without a policy
 *   update (the reference samples the whole space, where this cannot happen). If `maxSampleAttempts`
 *   samples in a row miss the pool, that iteration queries a random unqueried member instead (no update).
 * - Repeat samples of already-queried architectures are free but still update the policy, as in the reference.
 * - After `maxIterationsPerBudget · budget` iterations (the policy may have collapsed onto queried
 *   architectures), the remaining budget goes to random unqueried pool members.
 */
export function createReinforce(options: ReinforceOptions = {}): SearchMethod {
  const lr = options.learningRate ?? 0.01;
  const momentum = options.baselineMomentum ?? 0.9;
  const iterFactor = options.maxIterationsPerBudget ?? 50;
  const maxAttempts = options.maxSampleAttempts ?? 1000;
  return {
    name: 'REINFORCE',
    async run(ctx: SearchContext): Promise<SearchOutcome> {
      const { pool, ledger, rng, budget } = ctx;
      const space = pool.space;
      const target = queryTarget(ctx);
      const policy = SoftmaxPolicy.random(space.decisions, rng);
      const adam = new Adam(policy.logits.length, lr, 0.9, 0.999, 1e-8);
      const baseline = new ExponentialMovingAverage(momentum);
      const maxIterations = iterFactor * budget;

      let iterations = 0;
      let missedIterations = 0;
      // What each proposed index was drawn with: the policy's actions, or none (a random fill after a miss).
      const drawnWith = new Map<number, (number[] | null)[]>();
      await keepBusy(
        ctx,
        target,
        (round) => {
          if (iterations >= maxIterations) return -1;
          iterations++;
          let actions: number[] | undefined;
          let index = -1;
          for (let attempt = 0; attempt < maxAttempts && index < 0; attempt++) {
            actions = policy.sample(rng);
            const arch = space.decode(actions);
            if (arch !== null) index = pool.indexOf.get(arch) ?? -1;
          }
          if (index < 0) {
            missedIterations++;
            index = randomUnqueried(pool.archs.length, ledger, rng, round);
            if (index < 0) return -1;
            actions = undefined;
          }
          const list = drawnWith.get(index) ?? [];
          list.push(actions ?? null);
          drawnWith.set(index, list);
          return index;
        },
        (index, reward) => {
          const actions = drawnWith.get(index)?.shift();
          if (actions === undefined || actions === null) return; // a random fill teaches the policy nothing
          baseline.update(reward);
          adam.step(policy.logits, policy.lossGradient(actions, reward - baseline.value()));
        },
      );
      const policyQueries = ledger.count;
      await fillRandomly(ctx, target);
      return {
        best: ledger.best(),
        extras: { iterations, missedIterations, randomFill: ledger.count - policyQueries },
      };
    },
  };
}

/** REINFORCE with the reference's settings. */
export const reinforce: SearchMethod = createReinforce();
