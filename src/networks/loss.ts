/** The training loss: mean cross-entropy of logits against labels, with its gradient (and tangent) seeds. */

/**
 * Seed of the loss backward from host logits: ∂L/∂z = (softmax(z) − onehot)/N for the mean cross-entropy, and
 * its tangent (s⊙ż − s·⟨s, ż⟩)/N, in float64.
 */
export function crossEntropySeed(z: Float32Array, zt: Float32Array | null, targets: Int32Array, k: number): { g: Float32Array; gt: Float32Array | null; loss: number } {
  const n = targets.length;
  const g = new Float32Array(n * k);
  const gt = zt ? new Float32Array(n * k) : null;
  const s = new Float64Array(k);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let j = 0; j < k; j++) m = Math.max(m, z[i * k + j]);
    let sum = 0;
    for (let j = 0; j < k; j++) {
      s[j] = Math.exp(z[i * k + j] - m);
      sum += s[j];
    }
    loss += m + Math.log(sum) - z[i * k + targets[i]];
    let dot = 0;
    for (let j = 0; j < k; j++) {
      s[j] /= sum;
      if (zt) dot += s[j] * zt[i * k + j];
    }
    for (let j = 0; j < k; j++) {
      g[i * k + j] = (s[j] - (j === targets[i] ? 1 : 0)) / n;
      if (gt && zt) gt[i * k + j] = (s[j] * (zt[i * k + j] - dot)) / n;
    }
  }
  return { g, gt, loss: loss / n };
}

