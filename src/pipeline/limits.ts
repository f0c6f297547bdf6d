/**
 * Step 3 of a search, the pool's limits: size and speed limits on the candidate pool, applied before anything is scored.
 * Parameters and FLOPs come from the network definition (model/cost); latency is the median batch-1 inference
 * on this machine's engine (model/latency), measured once per candidate and cached next to the metric table,
 * keyed by everything it depends on (network size, input, engine and its version, CPU), so a rerun or another search with the
 * same limits measures nothing again. A limit that leaves no candidate names the architecture closest to it.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { architectureCost } from '../model/cost.js';
import { measureLatency } from '../model/latency.js';
import { buildSpecNetwork, type NetworkSpec } from '../model/network.js';
import { getEngine } from '../engine/kernels.js';
import type { DataInfo } from '../train/data.js';
import { SettingError } from '../util/errors.js';
import { queryKey } from '../util/key.js';
import { PACKAGE_VERSION } from '../util/version.js';
import { shownPath } from './files.js';
import type { PoolLimits, SearchHooks, SearchPlan } from './types.js';

export interface ArchSize {
  params: number;
  /** Multiply-accumulates per image. */
  flops: number;
  /** Median batch-1 inference, ms (measured only when a latency limit or the answer needs it). */
  latencyMs?: number;
}

export interface LimitedPool {
  archs: string[];
  /** Candidates before the limits, and how many they removed. */
  before: number;
  removed: number;
  /** Size of a candidate (computed on first use: without limits, only the queried ones are ever sized). */
  sizeOf(arch: string): ArchSize;
}

/** Batch-1 forward passes per latency measurement (after 2 untimed ones): a median of 9 is stable to ~5 %. */
const LATENCY_REPEATS = 9;

/** Median batch-1 inference (ms) of a network on this machine's engine, measured as every latency limit measures it. */
export function measureSpecLatency(spec: NetworkSpec): number {
  return measureLatency(buildSpecNetwork(spec), { warmup: 2, repeats: LATENCY_REPEATS }).medianMs;
}

export function hasLimits(l: PoolLimits | undefined): l is PoolLimits {
  return l !== undefined && (l.maxParams !== undefined || l.maxFlops !== undefined || l.maxLatency !== undefined);
}

export function checkLimits(l: PoolLimits | undefined): void {
  if (l === undefined) return;
  for (const key of ['maxParams', 'maxFlops', 'maxLatency'] as const) {
    const v = l[key];
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new SettingError(key, `expected a positive number, got ${v}`);
  }
}

/** The network of a pool candidate, as the search trains it. */
export function candidateSpec(p: SearchPlan, info: DataInfo, arch: string): NetworkSpec {
  return { space: p.o.space, arch, channels: p.o.channels, cells: p.o.cells, classes: info.classes, inputShape: info.shape };
}

/** Latencies measured on this machine, kept in a JSONL file beside the metric table (one line per architecture). */
export class LatencyCache {
  private readonly known = new Map<string, number>();
  readonly file: string;

  constructor(dir: string, p: SearchPlan, info: DataInfo) {
    const key = queryKey({
      kind: 'latency',
      space: p.o.space,
      channels: p.o.channels,
      cells: p.o.cells,
      classes: info.classes,
      shape: info.shape,
      engine: getEngine().info, // kernel backend, threads, vector width: what the latency depends on
      cpu: cpus()[0]?.model ?? 'unknown',
      repeats: LATENCY_REPEATS,
      // the engine's code: a newer robot-nas may run the same network at another speed
      code: PACKAGE_VERSION,
    }).slice(0, 16);
    this.file = join(dir, `latency-${key}.jsonl`);
    if (existsSync(this.file)) {
      for (const line of readFileSync(this.file, 'utf8').split('\n')) {
        try {
          const r = JSON.parse(line) as { arch?: unknown; medianMs?: unknown };
          if (typeof r.arch === 'string' && typeof r.medianMs === 'number' && r.medianMs > 0) this.known.set(r.arch, r.medianMs);
        } catch {
          // a line torn by a killed run is measured again
        }
      }
    }
  }

  has(arch: string): boolean {
    return this.known.has(arch);
  }

  get(spec: NetworkSpec): number {
    const hit = this.known.get(spec.arch);
    if (hit !== undefined) return hit;
    const ms = measureSpecLatency(spec);
    this.known.set(spec.arch, ms);
    appendFileSync(this.file, `${JSON.stringify({ arch: spec.arch, medianMs: ms })}\n`);
    return ms;
  }
}

const LIMIT_OF = { maxParams: 'params', maxFlops: 'flops', maxLatency: 'latencyMs' } as const;
const STATE = { maxParams: (v: number) => `parameters ≤ ${v}`, maxFlops: (v: number) => `FLOPs ≤ ${v}`, maxLatency: (v: number) => `batch-1 latency ≤ ${v} ms` } as const;

/** Applies the limits to the pool (in pool order), or refuses when none is left. */
export function applyLimits(p: SearchPlan, info: DataInfo, archs: readonly string[], latency: LatencyCache, hooks: SearchHooks): LimitedPool {
  const limits = p.o.limits;
  const sizes = new Map<string, ArchSize>();
  const sizeOf = (a: string): ArchSize => {
    let s = sizes.get(a);
    if (s === undefined) sizes.set(a, (s = architectureCost(candidateSpec(p, info, a))));
    return s;
  };
  if (!hasLimits(limits)) return { archs: [...archs], before: archs.length, removed: 0, sizeOf };
  const active = (Object.keys(LIMIT_OF) as (keyof typeof LIMIT_OF)[]).filter((k) => limits[k] !== undefined);
  // Cheap limits first: latency is measured only for candidates that pass the size limits.
  const fitsSize = archs.filter((a) => active.every((k) => k === 'maxLatency' || sizeOf(a)[LIMIT_OF[k]]! <= limits[k]!));
  if (limits.maxLatency !== undefined) {
    const todo = fitsSize.filter((a) => !latency.has(a)).length;
    hooks.log?.(`latency: batch-1 inference of ${fitsSize.length} candidate(s) on this machine — ${fitsSize.length - todo} cached in ${shownPath(latency.file)}, ${todo} to measure`);
    if (todo > 0) hooks.onLatencyStart?.(todo);
    let done = 0;
    for (const a of fitsSize) {
      const cached = latency.has(a);
      sizeOf(a).latencyMs = latency.get(candidateSpec(p, info, a));
      if (!cached) hooks.onLatencyMeasured?.(++done, todo);
    }
    hooks.onLatencyEnd?.();
  }
  const kept = fitsSize.filter((a) => active.every((k) => sizeOf(a)[LIMIT_OF[k]]! <= limits[k]!));
  const removed = archs.length - kept.length;
  const stated = active.map((k) => STATE[k](limits[k]!)).join(', ');
  hooks.log?.(`limits: ${stated} — ${kept.length} of ${archs.length} candidates left (${removed} removed)`);
  if (kept.length === 0) throw noneLeft(archs, fitsSize, sizeOf, active, limits);
  return { archs: kept, before: archs.length, removed, sizeOf };
}

/**
 * The candidate closest to the limits (the smallest worst ratio of value to limit), named in the refusal, with
 * the limit it misses most as the flag. Latency is known only for candidates within the size limits, so the
 * closest one is sought among those when there are any, else by size alone.
 */
function noneLeft(archs: readonly string[], fitsSize: readonly string[], sizeOf: (a: string) => ArchSize, active: (keyof typeof LIMIT_OF)[], limits: PoolLimits): SettingError {
  const worst = (a: string): [number, keyof typeof LIMIT_OF] => {
    let w: [number, keyof typeof LIMIT_OF] = [0, active[0]];
    for (const k of active) {
      const v = sizeOf(a)[LIMIT_OF[k]];
      if (v !== undefined && v / limits[k]! > w[0]) w = [v / limits[k]!, k];
    }
    return w;
  };
  const among = fitsSize.length > 0 ? fitsSize : archs;
  const best = among.reduce((b, a) => (worst(a)[0] < worst(b)[0] ? a : b));
  const s = sizeOf(best);
  const has = [`${s.params.toLocaleString('en-US')} parameters`, `${s.flops.toLocaleString('en-US')} FLOPs`, ...(s.latencyMs !== undefined ? [`${s.latencyMs.toFixed(2)} ms`] : [])].join(', ');
  return new SettingError(worst(best)[1], `no candidate of the pool of ${archs.length} fits the limits; the closest is ${best} (${has}). Raise the limit, or use a smaller --channels/--cells.`);
}
