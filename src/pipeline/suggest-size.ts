/**
 * Search small, train large: the largest network of the answer's architecture (width C, depth N) that still fits
 * the search's size and speed limits. The search ranks architectures on a small proxy (default C = 8, N = 1); the
 * cell found is then worth training wider and deeper, as DARTS does, up to what the user said they can ship.
 * Parameters and FLOPs are counted from the network definition; latency (only with --max-latency) is measured on
 * this machine, for the few sizes that pass the cheaper limits, largest first.
 */
import { architectureCost } from '../model/cost.js';
import type { NetworkSpec } from '../model/network.js';
import { measureSpecLatency } from './limits.js';
import type { PoolLimits, SizeSuggestion } from './types.js';

/** Widths and depths tried, as the search spaces' usual settings (NB201: C 16, N 5 is the benchmark's size). */
const WIDTHS = [8, 12, 16, 24, 32, 48, 64];
const DEPTHS = { nb201: [1, 2, 3, 4, 5], darts: [1, 2, 3, 4, 5, 6, 8] } as const;

/**
 * The fitting size with the most parameters (ties: fewer FLOPs), at least the searched size; undefined without any
 * limit (no target to fit) or when even the searched size does not fit (cannot happen for a search's answer).
 */
export function suggestSize(base: NetworkSpec, limits: PoolLimits | undefined): SizeSuggestion | undefined {
  if (limits === undefined || (limits.maxParams === undefined && limits.maxFlops === undefined && limits.maxLatency === undefined)) return undefined;
  // the searched size itself, then the usual ones above it
  const up = (ladder: readonly number[], from: number): number[] => [from, ...ladder.filter((v) => v > from)];
  const depths = up(DEPTHS[base.space as keyof typeof DEPTHS] ?? [], base.cells);
  const sizes: { channels: number; cells: number; params: number; flops: number }[] = [];
  for (const channels of up(WIDTHS, base.channels)) {
    for (const cells of depths) {
      const c = architectureCost({ ...base, channels, cells });
      if (limits.maxParams !== undefined && c.params > limits.maxParams) continue;
      if (limits.maxFlops !== undefined && c.flops > limits.maxFlops) continue;
      sizes.push({ channels, cells, ...c });
    }
  }
  sizes.sort((a, b) => b.params - a.params || a.flops - b.flops);
  for (const s of sizes) {
    if (limits.maxLatency === undefined) return { ...s, limits };
    const ms = measureSpecLatency({ ...base, channels: s.channels, cells: s.cells });
    if (ms <= limits.maxLatency) return { ...s, latencyMs: ms, limits };
  }
  return undefined;
}
