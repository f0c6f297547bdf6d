/**
 * Whether a network can run in the engine at all, decided from its definition before any work: the engine keeps
 * every tensor in one 32-bit WebAssembly memory (engine/memory.ts, 4 GiB). A training or scoring step at batch B
 * holds at least the weights and their gradients and every activation of the forward pass for the backward pass:
 *
 *   bytes ≥ 0.9 × 4 × (2 · parameters + B · activation values per image)
 *
 * Measured against the engine's peak heap (NB201 C = 8…64, N = 1…5, DARTS C = 16, 8 cells, B = 32…256), a training
 * step takes 0.98–1.34× the bracket and a scoring pass of the six metrics 1.9–2.4×, so the bound (0.9×) is a lower
 * one: a size it refuses cannot run, and a size it lets through may still be too large for a metric (the engine then
 * says so). `--channels 100000` or `--cells 10000` are refused in a second instead of failing deep inside the engine.
 */
import { convOut, type BatchNormLayer, type Conv2dLayer, type Exec, type LinearLayer, type ReluSite } from '../networks/layers.js';
import { countParams } from '../networks/params.js';
import { SettingError } from '../util/errors.js';
import { buildSpecNetwork, type NetworkSpec } from './network.js';

/** The engine's memory: one wasm32 memory (engine/memory.ts). */
export const ENGINE_BYTES = 4 * 2 ** 30;

/** The smallest network of each space at a given size (parameter-free cell operations): the lower bound of a pool. */
export const SMALLEST_ARCH: Record<NetworkSpec['space'], string> = {
  nb201: '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|',
  darts:
    "Genotype(normal=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('max_pool_3x3', 1)], normal_concat=range(2, 6), " +
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('max_pool_3x3', 1)], reduce_concat=range(2, 6))",
};

type Shape = number[];

/** Walks the network on shapes only, adding up the values of every activation one image produces. */
class ActivationCounter implements Exec<Shape> {
  values = 0;

  private out(x: Shape): Shape {
    this.values += x.reduce((a, b) => a * b, 1);
    return x;
  }
  conv(l: Conv2dLayer, x: Shape): Shape {
    const eff = (l.kernel - 1) * (l.dilation ?? 1) + 1;
    return this.out([convOut(x[0]!, eff, l.stride, l.pad), convOut(x[1]!, eff, l.stride, l.pad), l.outChannels]);
  }
  linear(l: LinearLayer): Shape {
    return this.out([l.outFeatures]);
  }
  batchNorm(_l: BatchNormLayer, x: Shape): Shape {
    return this.out([...x]);
  }
  relu(_s: ReluSite, x: Shape): Shape {
    return this.out([...x]);
  }
  avgPool(x: Shape, k: number, s: number, p: number): Shape {
    return this.out([convOut(x[0]!, k, s, p), convOut(x[1]!, k, s, p), x[2]!]);
  }
  maxPool(x: Shape, k: number, s: number, p: number): Shape {
    return this.avgPool(x, k, s, p);
  }
  add(xs: Shape[]): Shape {
    return this.out([...xs[0]!]);
  }
  zerosLike(x: Shape): Shape {
    return this.out([...x]);
  }
  globalAvgPool(x: Shape): Shape {
    return this.out([x[2]!]);
  }
  concat(xs: Shape[]): Shape {
    return this.out([xs[0]![0]!, xs[0]![1]!, xs.reduce((c, x) => c + x[2]!, 0)]);
  }
  crop(x: Shape, top: number, left: number): Shape {
    return this.out([Math.max(0, x[0]! - top), Math.max(0, x[1]! - left), x[2]!]);
  }
}

export interface Footprint {
  params: number;
  /** Activation values of one image's forward pass. */
  activations: number;
}

/** Parameters and activation values per image of a network, from its definition (nothing is allocated). */
export function footprint(spec: NetworkSpec): Footprint {
  const net = buildSpecNetwork(spec);
  const counter = new ActivationCounter();
  const [c, h, w] = net.inputShape;
  net.forward(counter, [h, w, c]);
  return { params: countParams(net), activations: counter.values };
}

/** The engine bytes a step at `batch` needs at least (see the module comment). */
export function minimumBytes(f: Footprint, batch: number): number {
  return 0.9 * 4 * (2 * f.params + batch * f.activations);
}

function gb(bytes: number): string {
  return bytes >= 1e12 ? `${(bytes / 1e12).toPrecision(3)} TB` : `${(bytes / 1e9).toPrecision(3)} GB`;
}

function count(n: number): string {
  return n >= 1e12 ? `${(n / 1e12).toPrecision(3)} T` : n >= 1e9 ? `${(n / 1e9).toPrecision(3)} G` : n >= 1e6 ? `${(n / 1e6).toPrecision(3)} M` : n.toLocaleString('en-US');
}

/** What each size is called in the caller's settings (the CLI maps them to flags). */
export interface SizeSettings {
  channels: string;
  cells: string;
}

/**
 * Refuses (SettingError) a network that cannot fit in the engine at one of `batches` (each with the setting that sets
 * it): the setting named is the one to lower — the batch when a batch of 8 fits, else the width when the network at
 * one cell per stage does not fit, else the depth. `what` says which network: 'the smallest nb201 network', 'the
 * network'. Nothing is allocated.
 */
export function checkFits(spec: NetworkSpec, batches: readonly { setting: string; batch: number; doing: string }[], what: string, names: SizeSettings = { channels: 'channels', cells: 'cells' }): void {
  const f = footprint(spec);
  for (const b of batches) {
    const need = minimumBytes(f, b.batch);
    if (need <= ENGINE_BYTES) continue;
    // the batch is to blame when a usual one (8 images, or fewer when that was asked) fits; else the network's size
    let setting = b.setting;
    if (minimumBytes(f, Math.min(b.batch, 8)) > ENGINE_BYTES) {
      setting = spec.cells > 1 && minimumBytes(footprint({ ...spec, cells: 1 }), Math.min(b.batch, 8)) <= ENGINE_BYTES ? names.cells : names.channels;
    }
    throw new SettingError(
      setting,
      `${what} at ${spec.channels} channels and ${spec.cells} cell${spec.cells > 1 ? 's' : ''} (${count(f.params)} parameters, ${count(f.activations)} activation values per image) ` +
        `needs at least ${gb(need)} to ${b.doing} a batch of ${b.batch}, but the engine holds ${gb(ENGINE_BYTES)}; use fewer channels or cells, or a smaller batch`,
    );
  }
}

/**
 * `checkFits` for a whole pool: for each batch, the network of the pool that needs the most memory must fit — so that
 * a search cannot fail hours in, when its optimiser reaches a network the engine cannot hold. Computed from the
 * definitions (about 0.1 ms a network).
 */
export function checkPoolFits(specs: readonly NetworkSpec[], batches: readonly { setting: string; batch: number; doing: string }[], names?: SizeSettings): void {
  const prints = new Map<NetworkSpec, Footprint>();
  const of = (s: NetworkSpec): Footprint => {
    let f = prints.get(s);
    if (f === undefined) prints.set(s, (f = footprint(s)));
    return f;
  };
  for (const b of batches) {
    let worst: NetworkSpec | undefined;
    let most = -1;
    for (const s of specs) {
      const need = minimumBytes(of(s), b.batch);
      if (need > most) [worst, most] = [s, need];
    }
    if (worst !== undefined && most > ENGINE_BYTES) checkFits(worst, [b], `the pool's largest network (${worst.arch})`, names);
  }
}
