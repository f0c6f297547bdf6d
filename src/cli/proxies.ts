import { Command, InvalidArgumentError, Option } from 'commander';
import { BACKEND_NAMES, initBackend, type BackendName } from '../nn/backend.js';
import { loadFixture } from '../proxies/fixture.js';
import { computeProxies, METRIC_NAMES, REFERENCE_METRICS, isMetricName, type MetricName } from '../proxies/index.js';

interface Flags {
  fixture: string;
  json?: boolean;
  backend: BackendName;
  metrics?: MetricName[];
  engine: 'manual' | 'tape';
}

function parseMetrics(text: string): MetricName[] {
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!isMetricName(n)) throw new InvalidArgumentError(`unknown metric '${n}'; expected some of ${METRIC_NAMES.join(', ')}`);
  }
  if (names.length === 0) throw new InvalidArgumentError('expected at least one metric');
  return names as MetricName[];
}

function fmt(v: number | undefined): string {
  if (v === undefined) return '-';
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e6 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(6) : v.toPrecision(8);
}

/** `robot-nas proxies --fixture DIR [--json]`: every training-free metric of a fixture's network vs its reference values. */
export function register(program: Command): void {
  program
    .command('proxies')
    .description(
      'compute the training-free metrics (grad_norm, snip, grasp, fisher, synflow, jacob_cov, naswot) of a metrics fixture ' +
        "(manifest.json, params.bin, input.bin, targets.bin) and compare with the manifest's reference values",
    )
    .requiredOption('--fixture <dir>', 'fixture folder')
    .option('--json', 'print the metric values as one JSON object on the last stdout line')
    .addOption(new Option('--backend <name>', 'tfjs engine (tensorflow needs the optional @tensorflow/tfjs-node)').choices(BACKEND_NAMES).default('wasm'))
    .option('--metrics <m1,m2,...>', `metrics to compute (default: the seven reference metrics; also: params, flops)`, parseMetrics)
    .addOption(new Option('--engine <name>', 'differentiation engine: manual (fast) or tape (tfjs gradients, slow cross-check)').choices(['manual', 'tape']).default('manual'))
    .action(async (f: Flags) => {
      const fixture = loadFixture(f.fixture);
      const info = await initBackend(f.backend);
      const names: MetricName[] = f.metrics ?? [...REFERENCE_METRICS];
      const t0 = performance.now();
      const result = computeProxies(fixture.network, fixture.params, fixture.batch, names, { engine: f.engine });
      const ms = performance.now() - t0;
      const m = fixture.manifest;
      const rows = names.map((name) => {
        const v = result.values[name];
        const ref = m.metrics[name];
        const rel = v !== undefined && ref !== undefined ? Math.abs(v - ref) / Math.max(Math.abs(ref), Number.MIN_VALUE) : undefined;
        return [name, fmt(v), fmt(ref), rel === undefined ? '-' : rel.toExponential(2)];
      });
      const header = ['metric', 'value', 'reference', 'rel. error'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
      const out: string[] = [
        `${m.arch}  C=${m.channels} N=${m.cells_per_stage} classes=${m.num_classes} batch=${m.batch}  (${info.name}${info.name === 'wasm' ? `, simd ${info.simd ? 'on' : 'off'}, ${info.threads} thread` : ''}, ${(ms / 1000).toFixed(2)} s)`,
        line(header),
        line(widths.map((w) => '-'.repeat(w))),
        ...rows.map(line),
      ];
      if (result.synflowLog !== undefined) out.push(`ln(synflow) = ${result.synflowLog.toFixed(6)}`);
      process.stdout.write(out.join('\n') + '\n');
      if (f.json) process.stdout.write(JSON.stringify(Object.fromEntries(names.map((n) => [n, result.values[n] ?? null]))) + '\n');
    });
}
