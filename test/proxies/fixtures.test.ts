import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/shared.js';
import { loadFixture } from '../../src/proxies/fixture.js';
import { computeProxies, REFERENCE_METRICS } from '../../src/proxies/index.js';

/** Tolerances of shared/fixtures/metrics/README.md. */
const TOLERANCE: Record<string, number> = { grasp: 1e-2 };

const dirs = existsSync(FIXTURES)
  ? readdirSync(FIXTURES, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(FIXTURES, d.name, 'manifest.json')))
      .map((d) => d.name)
      .sort()
  : [];

test('metric fixtures are present', () => {
  assert.ok(dirs.length >= 5, `expected the metric fixtures in ${FIXTURES}`);
});

for (const name of dirs) {
  test(`fixture ${name}: every metric within tolerance of the PyTorch reference`, async () => {
    const fx = loadFixture(join(FIXTURES, name));
    const r = computeProxies(fx.network, fx.params, fx.batch, [...REFERENCE_METRICS]);
    const failures: string[] = [];
    for (const m of REFERENCE_METRICS) {
      const ref = fx.manifest.metrics[m];
      assert.equal(typeof ref, 'number', `manifest lacks ${m}`);
      const v = r.values[m]!;
      const rel = Math.abs(v - ref) / Math.abs(ref);
      if (!(rel <= (TOLERANCE[m] ?? 1e-3))) failures.push(`${m}: ${v} vs ${ref} (rel ${rel.toExponential(2)})`);
    }
    assert.deepEqual(failures, []);
    // ln(synflow) is reported too and must agree with the value.
    assert.ok(Math.abs(r.synflowLog! - Math.log(fx.manifest.metrics.synflow)) < 1e-3);
  });
}
