import type { ADNode } from '../engine/autodiff.js';
import type { Network } from '../networks/layers.js';
import { corrcoef, symmetricEigenvalues } from './linalg.js';
import type { ParamValues } from '../networks/params.js';
import { engineParams, withForward } from './forward.js';
import type { Batch } from './types.js';

/**
 * MeCo (Jiang et al., NeurIPS 2023; HamsterMimi/MeCo `correlation/NAS_Bench_201.py`):
 *
 *   meco = Σ_modules λ_min(corr(F_m))
 *
 * where F_m is the output of module m for ONE input image, reshaped to channels × positions, corr its C × C
 * Pearson correlation matrix (torch.corrcoef), with NaN entries (a constant channel) set to 0, and λ_min its
 * smallest eigenvalue. Choices, as in the official NB201 script: a single real training image (batch size 1; we
 * take the first image of the scoring batch); the network's own PyTorch-default weights; training mode (BatchNorm
 * on that image's statistics); every module's forward hook — so a tensor returned by several nested modules
 * (BatchNorm → its Sequential → its ReLUConvBN) counts once per module, as the network's `Exec.module` marks
 * describe the official module tree; element-wise sums and concatenations are not modules. Outputs with one value
 * per channel (global pooling, the classifier, the network itself) give a correlation matrix of NaNs, hence 0, and
 * are skipped; so are all-zero outputs (`none`).
 *
 * Where the channels outnumber the positions minus one (C ≥ H·W, e.g. 64 channels on 8×8 maps), the centred
 * channels span at most H·W − 1 dimensions, so λ_min is exactly 0; PyTorch's float32 eigensolver returns
 * rounding noise there (|λ| ≈ 1e-7), we return 0 without solving.
 */
export function meco(net: Network, params: ParamValues, batch: Batch): number {
  const [, c, h, w] = batch.shape;
  const one = batch.x.subarray(0, c * h * w);
  const counts = new Map<ADNode, number>();
  const order: ADNode[] = [];
  const count = (x: ADNode): void => {
    if (x.v.shape.length !== 4) return;
    if (!counts.has(x)) order.push(x);
    counts.set(x, (counts.get(x) ?? 0) + 1);
  };
  return withForward(
    net,
    engineParams(net, params),
    one,
    1,
    {
      observer: {
        op(kind, out, kernel) {
          // A 1×1 "pool" only shapes the zeros of DARTS's stride-2 `none` op; it is no module of the network.
          if ((kind === 'avgPool' || kind === 'maxPool') && kernel === 1) return;
          count(out);
        },
        module(_name, _role, x) {
          count(x);
        },
      },
    },
    () => {
      let total = 0;
      for (const x of order) total += counts.get(x)! * minCorrEigenvalue(x.v.view(), x.v.shape[1] * x.v.shape[2], x.v.shape[3]);
      return total;
    },
  );
}

/** λ_min of the channel correlation matrix of one image's NHWC map [positions, channels], NaN entries as 0. */
export function minCorrEigenvalue(map: Float32Array, positions: number, channels: number): number {
  if (channels >= positions) return 0; // rank ≤ positions − 1 < channels (see above)
  const rows = new Float64Array(channels * positions);
  for (let p = 0; p < positions; p++) for (let k = 0; k < channels; k++) rows[k * positions + p] = map[p * channels + k];
  const corr = corrcoef(rows, channels, positions);
  let allZero = true;
  for (let i = 0; i < corr.length; i++) {
    if (Number.isNaN(corr[i])) corr[i] = 0;
    else if (corr[i] !== 0) allZero = false;
  }
  if (allZero) return 0;
  const ev = symmetricEigenvalues(corr, channels);
  return ev[0];
}
