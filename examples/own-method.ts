// A search method of your own next to RoBoT, on NAS-Bench-201 (CIFAR-10), T = 20, five seeds: "rank vote" queries
// the architectures whose training-free metrics rank best on average (no randomness: every seed gives the same),
// four at a time through keepBusy.
// Run: npx tsx examples/own-method.ts   (after npm ci; reads the data folder like the CLI does)
import { QueryLedger, Rng, TabularObjective, buildPool, createRobot, keepBusy, loadBenchmark, type SearchMethod } from 'robot-nas';

const bench = loadBenchmark({ benchmark: 'nb201', task: 'cifar10' });
const metrics = ['sz.grad_norm', 'sz.snip', 'sz.grasp', 'sz.fisher', 'sz.synflow', 'sz.jacov'];
const { pool, objective, cost, final } = buildPool(bench, metrics);

const rankVote: SearchMethod = {
  name: 'rank vote',
  async run(ctx) {
    const n = ctx.pool.archs.length;
    const votes = new Float64Array(n);
    for (const column of ctx.pool.metrics.values()) {
      const order = Array.from(column.keys()).sort((a, b) => column[b] - column[a]);
      order.forEach((i, rank) => (votes[i] += rank));
    }
    const ranked = Array.from(votes.keys()).sort((a, b) => votes[a] - votes[b] || a - b);
    let next = 0;
    // keepBusy keeps `ledger.parallel` queries in flight; propose() says which index to query next
    await keepBusy(ctx, ctx.budget, () => (next < n ? ranked[next++] : -1));
    return { best: ctx.ledger.best() };
  },
};

for (const method of [rankVote, createRobot({ metrics })]) {
  const tests: number[] = [];
  for (const seed of [10, 11, 12, 13, 14]) {
    const ledger = new QueryLedger(new TabularObjective(objective, cost), { parallel: 4 });
    const out = await method.run({ pool, ledger, budget: 20, rng: new Rng(seed), seed });
    tests.push(final[out.best]);
  }
  const mean = tests.reduce((a, b) => a + b) / tests.length;
  console.log(`${method.name.padEnd(9)} test accuracy ${tests.map((t) => t.toFixed(2)).join(' ')}  (mean ${mean.toFixed(2)})`);
}
