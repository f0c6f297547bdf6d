import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTable } from '../../src/benchmarks/load.js';
import { poolTableCsv } from '../../src/experiments/pool-table.js';
import { candidatePool, singleMetricOf } from '../../src/experiments/replay.js';
import { nb201Space } from '../../src/spaces/nb201.js';
import { tempDirs } from '../helpers/tmp.js';

const tmp = tempDirs('robot-nas-pool-table-');

test('a pool table reads back through loadTable with every value bit for bit, in its row order', () => {
  const archs = nb201Space.enumerate().slice(100, 105);
  const rows = archs.map((arch, i) => ({
    arch,
    value: 90 + i / 3,
    cost: 1.1 * (i + 1),
    metrics: { synflow: i === 2 ? Infinity : 1e30 / 7 + i, snip: i === 1 ? NaN : -0.1 * i - 1 / 3, naswot: i === 4 ? undefined : 0.1 + 0.2 },
  }));
  const file = join(tmp(), 'pool.csv');
  writeFileSync(file, poolTableCsv(rows, ['synflow', 'snip', 'naswot']));
  const b = loadTable(file);
  assert.equal(b.benchmark, 'nb201');
  assert.deepEqual(b.archs, archs);
  assert.deepEqual([...b.objective], rows.map((r) => r.value));
  assert.deepEqual([...b.final], rows.map((r) => r.value), 'final = the objective (validation accuracy)');
  assert.deepEqual([...b.cost], rows.map((r) => r.cost));
  assert.deepEqual([...b.metrics.keys()], ['synflow', 'snip', 'naswot']);
  for (const m of ['synflow', 'snip', 'naswot'] as const) {
    assert.deepEqual([...b.metrics.get(m)!], rows.map((r) => r.metrics[m] ?? NaN), m);
  }
  // the search's candidates: a non-finite value of a combined metric drops the architecture, others do not
  assert.deepEqual(candidatePool(b, ['synflow', 'snip']).pool.archs, [archs[0], archs[3], archs[4]]);
  assert.deepEqual(candidatePool(b, ['naswot']).pool.archs, archs.slice(0, 4));
  assert.throws(() => poolTableCsv(rows, ['cost']), /clash/);
  assert.equal(singleMetricOf('metric:snip'), 'snip');
  assert.equal(singleMetricOf('robot'), undefined);
});
