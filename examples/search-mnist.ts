// RoBoT with real training as a library: a small search on MNIST digits, then the answer trained longer.
// Run: npx tsx examples/search-mnist.ts   (after npm ci; ≈ 2 minutes on 2 cores)
import { buildNb201, prepareData, runSearch, trainNetwork, DARTS_TRAINING, augmentFor, trainingSeed } from 'robot-nas';

const result = await runSearch({
  space: 'nb201', dataset: 'mnist', pool: 30, budget: 5, method: 'robot',
  metrics: ['grad_norm', 'snip', 'grasp', 'fisher', 'synflow', 'jacob_cov'],
  channels: 8, cells: 1, epochs: 1, batchSize: 32, lr: 0.1, scoreBatch: 64,
  validFraction: 0.2, trainLimit: 1000, validLimit: 500, seed: 1, parallel: 2,
  out: 'robot-nas-results/example-search', cache: 'robot-nas-results/query-cache.jsonl',
});
console.log(`best of ${result.queries} trained (T0 = ${result.t0}): ${result.best.arch}`);
console.log(`validation accuracy after 1 epoch on 1,000 digits: ${result.best.validAccuracy.toFixed(2)} %`);

// The same split (seed 1), all 6,397 training digits, 3 epochs, plus the 2,004 test digits.
const data = await prepareData({ dataset: 'mnist', seed: 1, withTest: true });
const net = buildNb201({ arch: result.best.arch, channels: 8, cellsPerStage: 1, numClasses: 10, inputShape: data.info.shape });
const settings = { ...DARTS_TRAINING, lr: 0.1, epochs: 3, batchSize: 32, augment: augmentFor('mnist', data.info.mean, data.info.std, 28) };
const r = await trainNetwork(net, data, settings, trainingSeed(1, result.best.arch));
console.log(`3 epochs on ${data.info.trainCount} digits: validation ${r.validAccuracy.toFixed(2)} %, test ${r.testAccuracy!.toFixed(2)} % (${r.seconds.toFixed(0)} s)`);
