import type { ADNode } from '../engine/autodiff.js';
import * as C from '../engine/conv.js';
import * as O from '../engine/ops.js';
import { Tensor } from '../engine/tensor.js';
import type { Network } from '../networks/layers.js';
import { symmetricEigenvalues } from './linalg.js';
import type { ParamValues } from '../networks/params.js';
import { deriveSeed } from '../util/seeds.js';
import { engineParams, withForward } from './forward.js';
import { normalsAt, rademacherAt, streamKey } from './hash.js';
import { gaussianInit } from './swap.js';

/**
 * AZ-NAS (Lee & Ham, CVPR 2024; cvlab-yonsei/AZ-NAS `NB201/ZeroShotProxy/compute_az_nas_score.py`): three scores
 * of the cell features F_0 (stem output), F_1 … F_L (each cell's and each reduction block's output; the network's
 * `feature` module marks).
 *
 * - expressivity = Σ_l H(F_l): H is the entropy −Σ p log(p + 1e-8) of the normalised eigenvalues p = λ/Σλ of the
 *   C × C covariance of F_l's channels over all N·H·W positions (centred, divided by N·H·W).
 * - progressivity = min_l (H(F_l) − H(F_{l−1})).
 * - trainability = mean over l = L … 1 of −σ − 1/(σ + 1e-6) + 2, σ the largest singular value of
 *   M = G_inᵀ G_out / (N·H_out·W_out), where G_out is a Rademacher (±1) tensor shaped like F_l and G_in = ∂⟨F_l, G_out⟩/∂F_{l−1}
 *   (one cell's vector-Jacobian product, through BatchNorm's batch statistics); when F_{l−1} is larger (a reduction),
 *   G_in is pixel-unshuffled to F_l's size first; a cell whose G_in equals G_out exactly (an identity) scores −∞.
 *
 * Choices, as in the official code: the weights are re-drawn by kaiming_normal_(fan_in, relu) — N(0, 2/fan_in) —
 * with biases 0 and BatchNorm γ = 1, β = 0; the input is Gaussian noise N(0, 1) (AZ-NAS scores without data or
 * labels), as many images as the scoring batch (the official 64); training mode. Non-finite scores are −∞, as the
 * official code reports NaN. The official AZ-NAS ranking is Σ log(rank/n) over the three scores and the FLOPs; RoBoT
 * combines them itself. The noise, the weights and the Rademacher vectors are counter-based draws (hash.ts; the
 * Rademacher position is the NCHW index), so an anchor can reproduce them.
 */
export interface AzScores {
  expressivity: number;
  progressivity: number;
  trainability: number;
  /** H(F_l) per feature, for tests and anchors. */
  entropies: number[];
  /** Trainability term per cell, l = 1 … L. */
  cellScores: number[];
}

/** kaiming_normal_(mode=fan_in, nonlinearity=relu) weights N(0, 2/fan_in), zero biases, BatchNorm γ 1 and β 0. */
export function kaimingNormalInit(net: Network, seed: number): ParamValues {
  return gaussianInit(net, seed, (fanIn) => Math.sqrt(2 / fanIn));
}

/** N(0, 1) images, NCHW (torch.randn), from the counter-based normals of `seed`. */
export function gaussianImages(n: number, shape: readonly [number, number, number], seed: number): Float32Array {
  return normalsAt(streamKey(seed, 0), n * shape[0] * shape[1] * shape[2]);
}

/** The three scores with the weights and input given (NCHW, n images); `rademacherSeed` keys G_out. */
export function azScores(net: Network, params: ParamValues, x: Float32Array, n: number, rademacherSeed: number): AzScores {
  const features: ADNode[] = [];
  return withForward(
    net,
    engineParams(net, params),
    x,
    n,
    {
      observer: {
        module(_name, role, f) {
          if (role === 'feature') features.push(f);
        },
      },
    },
    ({ exec }) => {
      if (features.length < 2) throw new Error(`AZ-NAS: ${net.id} marks ${features.length} cell feature(s); at least two are needed`);
      const entropies = features.map((f) => entropy(f.v));
      let progressivity = Infinity;
      for (let l = 1; l < entropies.length; l++) progressivity = Math.min(progressivity, entropies[l] - entropies[l - 1]);
      const expressivity = entropies.reduce((s, v) => s + v, 0);

      const cellScores: number[] = new Array<number>(features.length - 1);
      for (let l = features.length - 1; l >= 1; l--) {
        const fOut = features[l];
        const fIn = features[l - 1];
        const gOut = rademacher(fOut.v.shape, streamKey(rademacherSeed, l));
        let gIn: Float32Array;
        if (!fIn.needsGrad) {
          gIn = new Float32Array(fIn.v.size);
        } else {
          const r = exec.backward(fOut, { v: gOut, t: null }, { dual: false, paramGrads: false, fisher: false, inputGrad: true, last: false }, fIn);
          gIn = r.inputGrad ?? new Float32Array(fIn.v.size);
        }
        cellScores[l - 1] = trainabilityTerm(gIn, fIn.v.shape, gOut);
      }
      const trainability = cellScores.reduce((s, v) => s + v, 0) / cellScores.length;
      const finite = (v: number): number => (Number.isNaN(v) ? -Infinity : v);
      return {
        expressivity: finite(expressivity),
        progressivity: finite(progressivity),
        trainability: finite(trainability),
        entropies,
        cellScores,
      };
    },
  );
}

/** The official protocol: Kaiming-normal weights and N(0, 1) noise from the seed, then `azScores`. */
export function azNas(net: Network, n: number, seed: number): AzScores {
  const params = kaimingNormalInit(net, deriveSeed(seed, 'az:weights'));
  const x = gaussianImages(n, net.inputShape, deriveSeed(seed, 'az:input'));
  return azScores(net, params, x, n, deriveSeed(seed, 'az:rademacher'));
}

/** Entropy of the normalised eigenvalues of the channel covariance of an NHWC tensor (NaN for an all-zero one). */
export function entropy(f: Tensor): number {
  const c = f.shape[3];
  const rows = f.size / c;
  const mean = Float64Array.from(O.channelSum(f, c), (s) => s / rows);
  const centred = O.subtractChannel(f, mean);
  // XᵀX over all positions is the filter gradient of a 1×1 convolution of X with itself.
  const g = C.conv2dFilterGrad(centred, centred, C.squareGeom(1, 1, 0));
  const cov = Float64Array.from(g.view(), (v) => v / rows);
  centred.dispose();
  g.dispose();
  // A covariance has no negative eigenvalue; the float32 sums above can leave −ε ones on rank-deficient features
  // (e.g. channels that are copies), which would make p + 1e-8 negative and the entropy NaN: they count as 0.
  const ev = symmetricEigenvalues(cov, c).map((v) => Math.max(v, 0));
  let sum = 0;
  for (const v of ev) sum += v;
  let h = 0;
  for (const v of ev) {
    const p = v / sum;
    h += -p * Math.log(p + 1e-8);
  }
  return h;
}

/** ±1 tensor of an NHWC shape; element (b, y, x, c) takes position ((b·C + c)·H + y)·W + x (PyTorch's NCHW index). */
function rademacher(shape: readonly number[], key: number): Tensor {
  const [n, h, w, c] = shape;
  const t = Tensor.empty(shape);
  const v = t.view();
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) {
        for (let k = 0; k < c; k++) v[o++] = rademacherAt(key, ((b * c + k) * h + y) * w + xx);
      }
    }
  }
  return t;
}

/** −σ_max − 1/(σ_max + 1e-6) + 2 for M = G_inᵀG_out / rows, G_in pixel-unshuffled to G_out's size (NHWC tensors). */
function trainabilityTerm(gIn: Float32Array, inShape: readonly number[], gOut: Tensor): number {
  const [n, ho, wo, co] = gOut.shape;
  const out = gOut.view();
  if (gIn.length === out.length && inShape[3] === co) {
    let same = true;
    for (let i = 0; i < gIn.length && same; i++) same = gIn[i] === out[i];
    if (same) return -Infinity;
  }
  const [, hi, wi, ci] = inShape;
  let rowsIn: Tensor;
  let cin = ci;
  if (hi !== ho || wi !== wo) {
    // nn.PixelUnshuffle(s): channel c·s² + i·s + j of output (y, x) is input channel c at (y·s + i, x·s + j).
    const s = Math.trunc(hi / ho);
    cin = ci * s * s;
    rowsIn = Tensor.empty([n, ho, wo, cin]);
    const u = rowsIn.view();
    for (let b = 0; b < n; b++) {
      for (let y = 0; y < ho; y++) {
        for (let xx = 0; xx < wo; xx++) {
          const base = ((b * ho + y) * wo + xx) * cin;
          for (let c = 0; c < ci; c++) {
            for (let i = 0; i < s; i++) {
              for (let j = 0; j < s; j++) u[base + c * s * s + i * s + j] = gIn[((b * hi + y * s + i) * wi + xx * s + j) * ci + c];
            }
          }
        }
      }
    }
  } else {
    rowsIn = Tensor.from(gIn, [n, ho, wo, ci]);
  }
  const g = C.conv2dFilterGrad(rowsIn, gOut, C.squareGeom(1, 1, 0)); // [1,1,cin,co]: Σ_rows gIn ⊗ gOut
  const rows = n * ho * wo;
  const m = Float64Array.from(g.view(), (v) => v / rows);
  rowsIn.dispose();
  g.dispose();
  // σ_max² = λ_max of the smaller Gram matrix.
  const small = Math.min(cin, co);
  const gram = new Float64Array(small * small);
  for (let a = 0; a < small; a++) {
    for (let b = a; b < small; b++) {
      let sum = 0;
      if (co <= cin) for (let r = 0; r < cin; r++) sum += m[r * co + a] * m[r * co + b];
      else for (let k = 0; k < co; k++) sum += m[a * co + k] * m[b * co + k];
      gram[a * small + b] = sum;
      gram[b * small + a] = sum;
    }
  }
  const ev = symmetricEigenvalues(gram, small);
  const sigma = Math.sqrt(Math.max(0, ev[small - 1]));
  return -sigma - 1 / (sigma + 1e-6) + 2;
}
