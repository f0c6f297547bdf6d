// RoBoT as a library: load NAS-Bench-201 (CIFAR-10), search with T = 20 queries, print the result.
// Run: npx tsx examples/robot-nb201.ts   (after npm ci; reads the data folder like the CLI does)
import { QueryLedger, Rng, TabularObjective, buildPool, createRobot, loadBenchmark } from 'robot-nas';

const bench = loadBenchmark({ benchmark: 'nb201', task: 'cifar10' });
const metrics = ['sz.grad_norm', 'sz.snip', 'sz.grasp', 'sz.fisher', 'sz.synflow', 'sz.jacov'];
const { pool, objective, cost, final } = buildPool(bench, metrics); // archs having all six metrics

// Any Objective works here: a table lookup, or real training (see src/objective/types.ts).
const ledger = new QueryLedger(new TabularObjective(objective, cost));
const robot = createRobot({ metrics, normalise: 'minmax', acquisition: 'ucb' });
const out = await robot.run({ pool, ledger, budget: 20, rng: new Rng(10), seed: 10 });

console.log(`pool ${pool.archs.length}, queried ${ledger.count} architectures (T0 = ${out.t0}), cost ${ledger.cost.toFixed(0)} s`);
console.log(`best ${pool.archs[out.best]}`);
console.log(`validation ${objective[out.best].toFixed(2)}, test ${final[out.best].toFixed(2)}`);
console.log('weights', Object.fromEntries(Object.entries(out.weights!).map(([k, v]) => [k, +v.toFixed(3)])));
