/**
 * Optimiser numerics for training candidate networks: the cosine learning-rate schedule,
 * gradient-norm clipping and momentum SGD. They follow PyTorch's definitions so that
 * trainings configured like the NAS-Bench papers' (SGD + cosine annealing) behave the same.
 * Pure functions on typed arrays, no I/O.
 */
import { InputError } from '../util/errors.js';

/**
 * Learning rate during `epoch` (0-based; fractional for per-step schedules) of `epochs`, as
 * PyTorch's CosineAnnealingLR(T_max=epochs, eta_min=lrMin) with initial rate lrMax:
 * lrMin + (lrMax − lrMin)·(1 + cos(π·epoch/epochs))/2.
 */
export function cosineLr(epoch: number, epochs: number, lrMax: number, lrMin: number): number {
  if (!Number.isInteger(epochs) || epochs < 1) throw new InputError(`cosine schedule: epochs must be an integer >= 1, got ${epochs}`);
  if (!Number.isFinite(epoch) || epoch < 0 || epoch > epochs) {
    throw new InputError(`cosine schedule: epoch must be in [0, ${epochs}], got ${epoch}`);
  }
  if (!Number.isFinite(lrMax) || lrMax < 0) throw new InputError(`cosine schedule: learning rate must be finite and >= 0, got ${lrMax}`);
  if (!Number.isFinite(lrMin) || lrMin < 0 || lrMin > lrMax) {
    throw new InputError(`cosine schedule: minimum learning rate must be in [0, ${lrMax}], got ${lrMin}`);
  }
  return lrMin + ((lrMax - lrMin) * (1 + Math.cos((Math.PI * epoch) / epochs))) / 2;
}

/**
 * Scales all gradients in place so that their joint L2 norm is at most `maxNorm`, as
 * torch.nn.utils.clip_grad_norm_: the coefficient maxNorm / (norm + 1e-6) is applied only when
 * it is below 1. The norm is accumulated in float64 so large networks do not lose precision.
 * Returns the norm before clipping. A NaN/infinite norm throws (the trainer treats it as a
 * diverged run rather than silently scaling everything to NaN).
 */
export function clipGradNorm(grads: Float32Array[], maxNorm: number): number {
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) throw new InputError(`gradient clipping: max norm must be finite and > 0, got ${maxNorm}`);
  let sq = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
  const norm = Math.sqrt(sq);
  if (!Number.isFinite(norm)) throw new Error('non-finite gradient norm');
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= coef;
  return norm;
}

/** Hyperparameters of `Sgd`. */
export interface SgdOptions {
  /** Momentum factor in [0, 1); 0 is plain SGD. */
  momentum: number;
  /** L2 penalty added to the gradient (coupled weight decay, as torch.optim.SGD). */
  weightDecay: number;
}

/**
 * torch.optim.SGD with momentum, dampening 0, nesterov off and weight decay:
 * d = g + wd·p; buf = d on a parameter's first step, else momentum·buf + d; p −= lr·buf.
 * Parameters are updated in place in the arrays given to the constructor.
 */
export class Sgd {
  private readonly params: Map<string, Float32Array>;
  private readonly momentum: number;
  private readonly weightDecay: number;
  private readonly buffers = new Map<string, Float32Array>();

  constructor(params: Map<string, Float32Array>, opts: SgdOptions) {
    if (!Number.isFinite(opts.momentum) || opts.momentum < 0 || opts.momentum >= 1) {
      throw new InputError(`SGD: momentum must be in [0, 1), got ${opts.momentum}`);
    }
    if (!Number.isFinite(opts.weightDecay) || opts.weightDecay < 0) {
      throw new InputError(`SGD: weight decay must be finite and >= 0, got ${opts.weightDecay}`);
    }
    this.params = params;
    this.momentum = opts.momentum;
    this.weightDecay = opts.weightDecay;
  }

  /** One update with learning rate `lr`; parameters missing from `grads` are left untouched. */
  step(grads: Map<string, Float32Array>, lr: number): void {
    if (!Number.isFinite(lr) || lr < 0) throw new InputError(`SGD: learning rate must be finite and >= 0, got ${lr}`);
    // Check everything first so a bad call leaves no parameter half-updated.
    for (const [name, g] of grads) {
      const p = this.params.get(name);
      if (!p) throw new Error(`SGD: gradient for unknown parameter '${name}'`);
      if (p.length !== g.length) throw new Error(`SGD: gradient of '${name}' has ${g.length} elements, parameter has ${p.length}`);
    }
    const { momentum: mom, weightDecay: wd } = this;
    for (const [name, g] of grads) {
      const p = this.params.get(name)!;
      if (mom === 0) {
        // Without momentum the buffer would just equal d; skip storing it.
        for (let i = 0; i < p.length; i++) p[i] -= lr * (g[i] + wd * p[i]);
        continue;
      }
      let buf = this.buffers.get(name);
      if (!buf) {
        buf = new Float32Array(p.length);
        for (let i = 0; i < p.length; i++) buf[i] = g[i] + wd * p[i];
        this.buffers.set(name, buf);
      } else {
        for (let i = 0; i < p.length; i++) buf[i] = mom * buf[i] + (g[i] + wd * p[i]);
      }
      for (let i = 0; i < p.length; i++) p[i] -= lr * buf[i];
    }
  }

  /** The momentum buffer of a parameter (undefined before its first step or without momentum). */
  buffer(name: string): Float32Array | undefined {
    return this.buffers.get(name);
  }
}
