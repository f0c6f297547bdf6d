/**
 * Acquisition functions of bayes_opt 1.2.0 (UCB, EI) and the standard normal distribution they need.
 * Both are maximised; partial derivatives w.r.t. the posterior mean and standard deviation let the
 * local optimiser chain them with the GP's input gradients.
 */

export type AcquisitionKind = 'ucb' | 'ei';

export interface AcquisitionSpec {
  readonly kind: AcquisitionKind;
  /** UCB exploration weight κ (bayes_opt default 2.576). */
  readonly kappa: number;
  /** EI margin ξ (bayes_opt default 0). */
  readonly xi: number;
}

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const INV_SQRT_PI = 1 / Math.sqrt(Math.PI);
/** Below this |x| the series for erf is used, above it the continued fraction for erfc. */
const ERF_SWITCH = 2.5;

/**
 * Complementary error function to near double precision: a positive-term series
 * erf(x) = (2/√π)·e^{−x²}·Σ 2ⁿx^{2n+1}/(1·3·…·(2n+1)) for small |x| (no cancellation), and the
 * Laplace continued fraction for erfc at large x (where 1 − erf would lose every digit).
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < ERF_SWITCH) return 1 - erfSeries(x);
  if (x > 27) return 0; // e^{−x²} underflows
  // erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), by modified Lentz.
  const tiny = 1e-300;
  let fval = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    if (d === 0) d = tiny;
    c = x + a / c;
    if (c === 0) c = tiny;
    d = 1 / d;
    const delta = c * d;
    fval *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return (Math.exp(-x * x) * INV_SQRT_PI) / fval;
}

/** Error function. */
export function erf(x: number): number {
  if (Math.abs(x) < ERF_SWITCH) return erfSeries(x);
  return x > 0 ? 1 - erfc(x) : erfc(-x) - 1;
}

function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (Math.abs(term) <= 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/** Standard normal density φ(z). */
export function normPdf(z: number): number {
  return INV_SQRT_2PI * Math.exp(-0.5 * z * z);
}

/** Standard normal CDF Φ(z) = erfc(−z/√2)/2, accurate in both tails. */
export function normCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** Upper confidence bound μ + κσ. */
export function ucb(mean: number, std: number, kappa: number): number {
  return mean + kappa * std;
}

/**
 * Expected improvement over yMax with margin ξ: aΦ(z) + σφ(z), a = μ − yMax − ξ, z = a/σ.
 * At σ = 0 it is max(a, 0) — bayes_opt's a/0 → ±∞ limit (its 0/0 NaN at a = 0 becomes 0).
 */
export function expectedImprovement(mean: number, std: number, yMax: number, xi: number): number {
  const a = mean - yMax - xi;
  if (!(std > 0)) return a > 0 ? a : 0;
  const z = a / std;
  return a * normCdf(z) + std * normPdf(z);
}

/** Acquisition value at a posterior (μ, σ). */
export function acquisitionValue(spec: AcquisitionSpec, mean: number, std: number, yMax: number): number {
  return spec.kind === 'ucb' ? ucb(mean, std, spec.kappa) : expectedImprovement(mean, std, yMax, spec.xi);
}

/**
 * Value and partials ∂/∂μ, ∂/∂σ written to out[0..2]. For EI, ∂EI/∂μ = Φ(z) and ∂EI/∂σ = φ(z)
 * (the terms from z's own dependence cancel).
 */
export function acquisitionWithPartials(
  spec: AcquisitionSpec,
  mean: number,
  std: number,
  yMax: number,
  out: Float64Array,
): void {
  if (spec.kind === 'ucb') {
    out[0] = mean + spec.kappa * std;
    out[1] = 1;
    out[2] = spec.kappa;
    return;
  }
  const a = mean - yMax - spec.xi;
  if (!(std > 0)) {
    out[0] = a > 0 ? a : 0;
    out[1] = a > 0 ? 1 : 0;
    out[2] = 0;
    return;
  }
  const z = a / std;
  const cdf = normCdf(z);
  const pdf = normPdf(z);
  out[0] = a * cdf + std * pdf;
  out[1] = cdf;
  out[2] = pdf;
}
