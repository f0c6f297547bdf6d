import type { Network } from '../networks/layers.js';
import type { ParamValues } from '../networks/params.js';
import { fnv1a, hashAt, streamKey } from './hash.js';

/**
 * Weights that the PyTorch anchor (anchors/metrics_anchor.py `fixture_weights`) builds bit for bit without reading
 * any file: every conv/linear weight and bias element is (2u − 1)/√fan_in with u = hash(seed, fnv1a(name), i)/2³²
 * (the distribution of PyTorch's default initialisation), BatchNorm weights 1 and biases 0. The arithmetic is
 * float64 with one rounding to float32, identical in both languages. Used by the committed metric fixtures
 * (test/fixtures/metrics), which therefore hold values only, no weights.
 */
export function fixtureWeights(net: Network, seed: number): ParamValues {
  const out: ParamValues = new Map();
  for (const p of net.params) {
    const a = new Float32Array(p.shape.reduce((s, d) => s * d, 1));
    if (p.init.kind === 'const') {
      a.fill(p.init.value);
    } else {
      const key = streamKey(seed, fnv1a(p.name));
      const bound = 1 / Math.sqrt(p.init.fanIn);
      for (let i = 0; i < a.length; i++) a[i] = (2 * (hashAt(key, i) / 4294967296) - 1) * bound;
    }
    out.set(p.name, a);
  }
  return out;
}
