import { AdExec, type ADNode } from '../engine/autodiff.js';
import { maxAbs } from '../engine/ops.js';
import { disposeArena, inArena, Tensor } from '../engine/tensor.js';
import type { BatchNormLayer, Conv2dLayer, Exec, LinearLayer, Network, ReluSite } from '../networks/layers.js';
import { execParams, type ParamValues } from '../networks/params.js';

/**
 * SynFlow's pass on the engine: every parameter is |θ|, BatchNorm is removed except where `keepInSynflow`, training
 * mode, one all-ones image, R = Σ logits, and Σ |θ ⊙ ∂R/∂θ| over the conv/linear weights (one AdExec backward).
 *
 * Values grow by orders of magnitude per layer (1e33–1e47 on CIFAR-sized NB201 networks) and would overflow float32,
 * so each activation is carried as n·2^e: every conv/linear output is multiplied by a power of two that brings its
 * largest |value| near 1, and e is kept as an integer. Multiplying by a power of two is exact, and so are the
 * alignments of sums and concatenations (powers of two again), the conv/linear biases divided by 2^e and BatchNorm's
 * ε divided by 4^e (BN(x·2^e; ε) = BN(x; ε·4^−e), whose output is unscaled): where the plain float32 pass does not
 * overflow, this one gives its bits (a test checks it; only values some 2^120 below their layer's largest, which
 * would underflow here, could differ), and ∂R/∂θ = 2^(e_out)·∂R̂/∂θ.
 */

/** A value standing for n·2^e. */
interface Scaled {
  n: ADNode;
  e: number;
}

/** Largest power-of-two step of one multiplication (2^±100 and its products stay within float32). */
const MAX_STEP = 100;

class SynflowExec implements Exec<Scaled> {
  /** `params` is the map `ad` reads its parameters from: the biases divided by 2^e are added to it. */
  constructor(
    private readonly ad: AdExec,
    private readonly params: Map<string, Float32Array>,
  ) {}

  /** n·2^k, in steps float32 can represent. */
  private times2(n: ADNode, k: number): ADNode {
    let out = n;
    for (let left = k; left !== 0; ) {
      const step = Math.max(-MAX_STEP, Math.min(MAX_STEP, left));
      out = this.ad.scale(out, 2 ** step);
      left -= step;
    }
    return out;
  }

  /** The same value with its largest |element| in [2^−0.5, 2^0.5): the exponent moves into e. */
  private renormalise(n: ADNode, e: number): Scaled {
    const m = maxAbs(n.v);
    if (!Number.isFinite(m)) throw new Error('synflow: non-finite activation despite rescaling');
    if (m === 0) return { n, e };
    const k = Math.round(Math.log2(m));
    return k === 0 ? { n, e } : { n: this.times2(n, -k), e: e + k };
  }

  /**
   * The layer with its bias divided by 2^e (its input is scaled by 2^e), as a parameter of its own: the kernel adds it
   * where it adds the bias of the unscaled layer. Below float32's range the bias is negligible next to the activation.
   */
  private scaledBias<L extends Conv2dLayer | LinearLayer>(layer: L, e: number): L {
    if (layer.bias === undefined || e === 0) return layer;
    const name = `${layer.bias}·2^${-e}`;
    this.params.set(name, this.params.get(layer.bias)!.map((v) => v * 2 ** -e));
    return { ...layer, bias: name };
  }

  /** Aligns parts to the largest exponent (the smaller ones shrink by exact powers of two). */
  private aligned(xs: Scaled[]): { ns: ADNode[]; e: number } {
    const e = Math.max(...xs.map((x) => x.e));
    return { ns: xs.map((x) => (x.e === e ? x.n : this.times2(x.n, x.e - e))), e };
  }

  conv(layer: Conv2dLayer, x: Scaled): Scaled {
    return this.renormalise(this.ad.conv(this.scaledBias(layer, x.e), x.n), x.e);
  }

  linear(layer: LinearLayer, x: Scaled): Scaled {
    return this.renormalise(this.ad.linear(this.scaledBias(layer, x.e), x.n), x.e);
  }

  batchNorm(layer: BatchNormLayer, x: Scaled): Scaled {
    if (!layer.keepInSynflow) return x;
    // The floor keeps a zero variance finite.
    const eps = Math.max(layer.eps * 4 ** -x.e, 1e-35);
    return { n: this.ad.batchNorm({ ...layer, eps }, x.n), e: 0 };
  }

  relu(site: ReluSite, x: Scaled): Scaled {
    return { n: this.ad.relu(site, x.n), e: x.e };
  }

  avgPool(x: Scaled, kernel: number, stride: number, pad: number): Scaled {
    return { n: this.ad.avgPool(x.n, kernel, stride, pad), e: x.e };
  }

  add(xs: Scaled[]): Scaled {
    const { ns, e } = this.aligned(xs);
    return { n: this.ad.add(ns), e };
  }

  zerosLike(x: Scaled): Scaled {
    return { n: this.ad.zerosLike(x.n), e: x.e };
  }

  globalAvgPool(x: Scaled): Scaled {
    return { n: this.ad.globalAvgPool(x.n), e: x.e };
  }

  maxPool(x: Scaled, kernel: number, stride: number, pad: number): Scaled {
    return { n: this.ad.maxPool(x.n, kernel, stride, pad), e: x.e };
  }

  concat(xs: Scaled[]): Scaled {
    const { ns, e } = this.aligned(xs);
    return { n: this.ad.concat(ns), e };
  }

  crop(x: Scaled, top: number, left: number): Scaled {
    return { n: this.ad.crop(x.n, top, left), e: x.e };
  }
}

export interface SynflowPassResult {
  /** Per weight layer: Σ |θ ⊙ ∂R̂/∂θ| in float64 (R̂ = R·2^(−scaleExp)). */
  layerSums: number[];
  /** synflow = 2^scaleExp · Σ layerSums. */
  scaleExp: number;
}

export function synflowPass(net: Network, values: ParamValues): SynflowPassResult {
  const [c, h, w] = net.inputShape;
  const params = execParams(net, values, (v) => v.map(Math.abs));
  const ad = new AdExec(params);
  const arena: Tensor[] = [];
  try {
    return inArena(arena, () => {
      const x = ad.input(Tensor.from(new Float32Array(h * w * c).fill(1), [1, h, w, c]), false);
      const out = net.forward(new SynflowExec(ad, params), { n: x, e: 0 });
      const seed = new Float32Array(out.n.v.size).fill(1);
      const r = ad.backward(out.n, { v: seed, t: null }, { dual: false, paramGrads: true, fisher: false, inputGrad: false, last: true });
      const layerSums = net.weightLayers.map((l) => {
        const g = r.paramGrads.get(l.weight);
        const wl = params.get(l.weight)!;
        let s = 0;
        if (g) for (let j = 0; j < g.length; j++) s += Math.abs(wl[j] * g[j]);
        return s;
      });
      return { layerSums, scaleExp: out.e };
    });
  } finally {
    ad.dispose();
    disposeArena(arena);
  }
}

/** ln of SynFlow (finite even where the value itself overflows float64). */
export function synflowLog(r: SynflowPassResult): number {
  return r.scaleExp * Math.LN2 + Math.log(sumOf(r.layerSums));
}

/** SynFlow's value: Σ·2^scaleExp, exact but for the sum's rounding (Infinity beyond float64). */
export function synflowValue(r: SynflowPassResult): number {
  const half = Math.trunc(r.scaleExp / 2);
  return sumOf(r.layerSums) * 2 ** half * 2 ** (r.scaleExp - half);
}

function sumOf(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
