/**
 * The inference graph of a network, traced from its one forward definition (`Network.forward` run with a
 * recording executor), so every exporter translates the network the engine trains rather than a second
 * description of NB201 or DARTS that could drift from it. Values carry their shape per image: [C, H, W], or
 * [F] after global pooling. BatchNorm nodes mean inference mode (running statistics).
 */
import { convOut, type BatchNormLayer, type Conv2dLayer, type Exec, type LinearLayer, type Network, type ReluSite } from '../networks/layers.js';

export type GraphOp =
  | { kind: 'input' }
  | { kind: 'conv'; layer: Conv2dLayer }
  | { kind: 'linear'; layer: LinearLayer }
  | { kind: 'batchNorm'; layer: BatchNormLayer }
  | { kind: 'relu' }
  /** Average pooling excludes padding (PyTorch count_include_pad=False); max pooling never selects it. */
  | { kind: 'avgPool' | 'maxPool'; kernel: number; stride: number; pad: number }
  | { kind: 'add' }
  | { kind: 'zeros' }
  | { kind: 'globalAvgPool' }
  | { kind: 'concat' }
  /** x[:, :, top:, left:]. */
  | { kind: 'crop'; top: number; left: number };

export interface GraphNode {
  id: number;
  op: GraphOp;
  inputs: number[];
  /** Per-image shape: [C, H, W], or [F]. */
  shape: number[];
}

export interface Graph {
  /** In creation order (inputs before their consumers); nodes[0] is the input. */
  nodes: GraphNode[];
  output: number;
}

interface Ref {
  id: number;
  shape: number[];
}

class Tracer implements Exec<Ref> {
  readonly nodes: GraphNode[] = [];
  private readonly reluOf = new Map<number, Ref>();

  node(op: GraphOp, inputs: Ref[], shape: number[]): Ref {
    const id = this.nodes.length;
    this.nodes.push({ id, op, inputs: inputs.map((r) => r.id), shape });
    return { id, shape };
  }

  conv(layer: Conv2dLayer, x: Ref): Ref {
    const [c, h, w] = x.shape;
    if (c !== layer.inChannels) throw new Error(`trace: ${layer.name} expects ${layer.inChannels} channels, got ${c}`);
    const eff = (layer.kernel - 1) * (layer.dilation ?? 1) + 1;
    return this.node({ kind: 'conv', layer }, [x], [layer.outChannels, convOut(h, eff, layer.stride, layer.pad), convOut(w, eff, layer.stride, layer.pad)]);
  }
  linear(layer: LinearLayer, x: Ref): Ref {
    return this.node({ kind: 'linear', layer }, [x], [layer.outFeatures]);
  }
  batchNorm(layer: BatchNormLayer, x: Ref): Ref {
    return this.node({ kind: 'batchNorm', layer }, [x], x.shape);
  }
  relu(_site: ReluSite, x: Ref): Ref {
    // One ReLU per input value, however many ReLU modules read it (as the engine computes it).
    let r = this.reluOf.get(x.id);
    if (!r) {
      r = this.node({ kind: 'relu' }, [x], x.shape);
      this.reluOf.set(x.id, r);
    }
    return r;
  }
  private pool(kind: 'avgPool' | 'maxPool', x: Ref, kernel: number, stride: number, pad: number): Ref {
    const [c, h, w] = x.shape;
    return this.node({ kind, kernel, stride, pad }, [x], [c, convOut(h, kernel, stride, pad), convOut(w, kernel, stride, pad)]);
  }
  avgPool(x: Ref, kernel: number, stride: number, pad: number): Ref {
    return this.pool('avgPool', x, kernel, stride, pad);
  }
  maxPool(x: Ref, kernel: number, stride: number, pad: number): Ref {
    return this.pool('maxPool', x, kernel, stride, pad);
  }
  add(xs: Ref[]): Ref {
    return xs.length === 1 ? xs[0] : this.node({ kind: 'add' }, xs, xs[0].shape);
  }
  zerosLike(x: Ref): Ref {
    return this.node({ kind: 'zeros' }, [x], x.shape);
  }
  globalAvgPool(x: Ref): Ref {
    return this.node({ kind: 'globalAvgPool' }, [x], [x.shape[0]]);
  }
  concat(xs: Ref[]): Ref {
    if (xs.length === 1) return xs[0];
    return this.node({ kind: 'concat' }, xs, [xs.reduce((s, x) => s + x.shape[0], 0), xs[0].shape[1], xs[0].shape[2]]);
  }
  crop(x: Ref, top: number, left: number): Ref {
    const [c, h, w] = x.shape;
    return this.node({ kind: 'crop', top, left }, [x], [c, h - top, w - left]);
  }
}

export function traceNetwork(net: Network): Graph {
  const t = new Tracer();
  const input = t.node({ kind: 'input' }, [], [...net.inputShape]);
  const out = net.forward(t, input);
  return { nodes: t.nodes, output: out.id };
}

/** Number of live consumers of every node (the output counts as one). */
export function consumerCounts(g: Graph): number[] {
  const n = new Array<number>(g.nodes.length).fill(0);
  for (const node of liveNodes(g)) for (const i of node.inputs) n[i]++;
  n[g.output]++;
  return n;
}

/** The nodes the output depends on, in order (a DARTS state that no later op or concat reads is dropped). */
export function liveNodes(g: Graph): GraphNode[] {
  const live = new Array<boolean>(g.nodes.length).fill(false);
  live[g.output] = true;
  for (let i = g.nodes.length - 1; i >= 0; i--) if (live[i]) for (const j of g.nodes[i].inputs) live[j] = true;
  return g.nodes.filter((n) => live[n.id]);
}
