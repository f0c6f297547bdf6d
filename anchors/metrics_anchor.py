#!/usr/bin/env python3
"""PyTorch anchor for the training-free metrics of robot-nas (Debian's python3-torch: run with /usr/bin/python3).

An independent implementation of the published definitions of ZiCo, MeCo, SWAP and AZ-NAS (and of fisher per
layer), written from the papers and the choices of their official code (see the README's metrics section); it
shares no code with the TypeScript side. The metrics grad_norm, snip, grasp, synflow, jacob_cov and naswot come from
../shared/tools/ref_metrics.py (read in place) when it is present.

  metrics_anchor.py fixtures SPEC.json OUT.json CIFAR_IMAGES CIFAR_LABELS
      For each network of SPEC (arch, C, N, classes, weight seed, batches of CIFAR-10 image indices) build the
      weights with the counter-based generator both sides implement (fixture_weights) and write every metric's
      value (and fisher per layer, AZ-NAS per cell) to OUT.json. scripts/anchors-fixtures.ts drives it.
  metrics_anchor.py bench ARCHS_TXT N THREADS CIFAR_IMAGES CIFAR_LABELS
      Seconds per NB201 architecture (C16 N5) for each new metric under its official protocol (ZiCo: two
      batches of 64; MeCo: one image; SWAP: 16 images, 32 Gaussian re-initialisations; AZ-NAS: 64 noise images,
      Kaiming-normal weights); the last line is JSON.
"""
import json, os, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED_TOOLS = os.path.join(HERE, '..', '..', 'shared', 'tools')
MEAN = np.array([0.4914, 0.4822, 0.4465])
STD = np.array([0.2470, 0.2435, 0.2616])

# ---------------------------------------------------------------- counter-based random stream (src/proxies/hash.ts)
M32 = np.uint64(0xFFFFFFFF)


def mix32(x):
    """lowbias32 on uint32 values, computed in uint64 and masked (no overflow warnings)."""
    x = np.asarray(x, dtype=np.uint64) & M32
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7feb352d)) & M32
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x846ca68b)) & M32
    x ^= x >> np.uint64(16)
    return x


def stream_key(seed, tag):
    return int(mix32(np.uint64(tag & 0xFFFFFFFF) ^ mix32(np.uint64(seed & 0xFFFFFFFF))))


def hash_at(key, idx):
    return mix32(np.asarray(idx, dtype=np.uint64) ^ np.uint64(key))


def fnv1a(s):
    h = 0x811c9dc5
    for b in s.encode('utf-8'):
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def rademacher_nchw(shape, key):
    n = int(np.prod(shape))
    bits = hash_at(key, np.arange(n, dtype=np.uint64)) & np.uint64(1)
    return torch.tensor(np.where(bits == 1, 1.0, -1.0).astype(np.float32).reshape(shape))


# ---------------------------------------------------------------- NB201 with MeCo's module tree
# The zero-cost-proxies variant of NAS-Bench-201 (shared/fixtures/metrics/README.md), with parameter names as
# robot-nas (and ref_metrics.py) use them; wrapper modules reference the same layers so that every module MeCo's
# nasbench2.py would hook exists here too (Sequential `op` inside ReLUConvBN, the stem's Sequential, POOLING,
# Identity, Zero, stacks of cells, the reduction's residual Sequential, the head's lastact Sequential).

def parse_arch(s):
    edges = []
    for j, node in enumerate(s.split('+')):
        for e in node[1:-1].split('|'):
            op, i = e.split('~')
            edges.append((j + 1, int(i), op))
    return edges


class ReLUConvBN(nn.Module):
    def __init__(self, cin, cout, k, stride, pad, affine):
        super().__init__()
        self.relu = nn.ReLU(inplace=False)
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=pad, bias=not affine)
        self.bn = nn.BatchNorm2d(cout, affine=affine, track_running_stats=affine)
        self.op = nn.Sequential(self.relu, self.conv, self.bn)

    def forward(self, x):
        return self.op(x)


class Identity(nn.Module):
    def forward(self, x):
        return x


class Zero(nn.Module):
    def forward(self, x):
        return x.mul(0.)


class Pooling(nn.Module):
    def __init__(self):
        super().__init__()
        self.avgpool = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x):
        return self.avgpool(x)


class Cell(nn.Module):
    def __init__(self, edges, C):
        super().__init__()
        self.edges = edges
        self.ops = nn.ModuleDict()
        for (j, i, op) in edges:
            key = f'{j}_{i}'
            if op == 'nor_conv_3x3':
                self.ops[key] = ReLUConvBN(C, C, 3, 1, 1, False)
            elif op == 'nor_conv_1x1':
                self.ops[key] = ReLUConvBN(C, C, 1, 1, 0, False)
            elif op == 'skip_connect':
                self.ops[key] = Identity()
            elif op == 'avg_pool_3x3':
                self.ops[key] = Pooling()
            else:
                self.ops[key] = Zero()

    def forward(self, x):
        outs = [x]
        for j in (1, 2, 3):
            outs.append(sum(self.ops[f'{jj}_{i}'](outs[i]) for (jj, i, _) in self.edges if jj == j))
        return outs[3]


class Reduction(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv_a = ReLUConvBN(cin, cout, 3, 2, 1, True)
        self.conv_b = ReLUConvBN(cout, cout, 3, 1, 1, True)
        self.shortcut = nn.Conv2d(cin, cout, 1, bias=False)
        self.residual = nn.Sequential(nn.AvgPool2d(2, 2), self.shortcut)

    def forward(self, x):
        return self.residual(x) + self.conv_b(self.conv_a(x))


class Stem(nn.Module):
    def __init__(self, conv, bn):
        super().__init__()
        self.net = nn.Sequential(conv, bn)

    def forward(self, x):
        return self.net(x)


class NB201(nn.Module):
    def __init__(self, arch, C, N, num_classes):
        super().__init__()
        edges = parse_arch(arch)
        self.stem_conv = nn.Conv2d(3, C, 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(C)
        layers, stacks = [], []
        for s, c in enumerate([C, 2 * C, 4 * C]):
            if s > 0:
                layers.append(Reduction(c // 2, c))
            cells = [Cell(edges, c) for _ in range(N)]
            layers += cells
            stacks.append(cells)
        self.layers = nn.ModuleList(layers)
        self.top_bn = nn.BatchNorm2d(4 * C)
        self.top_relu = nn.ReLU(inplace=True)
        self.classifier = nn.Linear(4 * C, num_classes)
        # wrappers (registered last, so parameter names stay those above)
        self.stem = Stem(self.stem_conv, self.stem_bn)
        self.stacks = nn.ModuleList([nn.Sequential(*cs) for cs in stacks])
        self.lastact = nn.Sequential(self.top_bn, self.top_relu)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.N = N

    def blocks(self):
        """The stem, then each stack of cells and each reduction block, in order."""
        out, k = [], 0
        for s in range(3):
            if s > 0:
                out.append(self.layers[k]); k += 1
            out.append(self.stacks[s]); k += self.N
        return out

    def forward(self, x):
        x = self.stem(x)
        for b in self.blocks():
            x = b(x)
        return self.classifier(self.gap(self.lastact(x)).flatten(1))

    def cell_features(self, x):
        """AZ-NAS's features: the stem output and the output of every cell and reduction block."""
        f = [self.stem(x)]
        for m in self.layers:
            f.append(m(f[-1]))
        return f


def fixture_weights(model, seed):
    """Counter-based weights (src/proxies/fixture-weights.ts): conv/linear weights and biases U(±1/√fan_in) from
    hash(seed, fnv1a(name), element), BatchNorm weight 1 and bias 0."""
    fan = {}
    for name, m in model.named_modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            fan[name] = int(np.prod(m.weight.shape[1:]))
    with torch.no_grad():
        for name, p in model.named_parameters():
            mod, kind = name.rsplit('.', 1)
            if mod in fan:
                key = stream_key(seed, fnv1a(name))
                u = hash_at(key, np.arange(p.numel(), dtype=np.uint64)).astype(np.float64) / 4294967296.0
                bound = 1.0 / np.sqrt(float(fan[mod]))
                p.copy_(torch.tensor(((2.0 * u - 1.0) * bound).astype(np.float32).reshape(p.shape)))
            else:
                p.fill_(1.0 if kind == 'weight' else 0.0)


def cifar_batch(imgs, labs, idx, ncls):
    x = torch.tensor(((imgs[idx] / 255.0 - MEAN) / STD).astype(np.float32).transpose(0, 3, 1, 2).copy())
    y = torch.tensor(labs[idx].astype(np.int64) % ncls)
    return x, y


# ---------------------------------------------------------------- the metrics

def zico(model, batches):
    grads = {}
    model.train()
    for x, y in batches:
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        for name, m in model.named_modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)) and m.weight.grad is not None:
                grads.setdefault(name, []).append(m.weight.grad.detach().double().reshape(-1).numpy().copy())
    total = 0.0
    for g in grads.values():
        g = np.array(g)
        sd = g.std(axis=0)
        nz = sd != 0
        s = float(np.sum(np.abs(g).mean(axis=0)[nz] / sd[nz]))
        if s != 0:
            total += np.log(s)
    return total


def meco(model, x1):
    vals = []

    def hook(m, inp, out):
        fea = out[0].detach().double().reshape(out.shape[1], -1).numpy()
        with np.errstate(invalid='ignore', divide='ignore'):
            c = np.corrcoef(fea) if fea.shape[0] > 1 else np.zeros((1, 1))
        c = np.nan_to_num(np.atleast_2d(c), nan=0.0, posinf=0.0, neginf=0.0)
        vals.append(float(np.linalg.eigvalsh(c).min()))
    hs = [m.register_forward_hook(hook) for _, m in model.named_modules()]
    model.train()
    with torch.no_grad():
        model(x1)
    for h in hs:
        h.remove()
    return float(np.sum([v for v in vals if np.isfinite(v)]))


def swap_count(model, x):
    feats = []

    def hook(m, inp, out):
        if inp[0].dim() == 4:
            feats.append(out.detach().reshape(x.shape[0], -1))
    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.ReLU)]
    model.train()
    with torch.no_grad():
        model(x)
    for h in hs:
        h.remove()
    a = torch.sign(torch.cat(feats, 1)).T
    return int(torch.unique(a, dim=0).shape[0])


def entropy(f):
    b, c, h, w = f.shape
    z = f.detach().double().permute(0, 2, 3, 1).reshape(-1, c)
    z = z - z.mean(0, keepdim=True)
    s = torch.linalg.eigvalsh(z.T @ z / z.shape[0])
    p = s / s.sum()
    return float((-p * torch.log(p + 1e-8)).sum())


def az_scores(model, x, rad_seed):
    model.train()
    feats = model.cell_features(x)
    for f in feats:
        if f.requires_grad:
            f.retain_grad()
    ent = [entropy(f) for f in feats]
    expressivity = float(np.sum(ent))
    progressivity = float(np.min(np.diff(ent)))
    cells = [0.0] * (len(feats) - 1)
    for l in reversed(range(1, len(feats))):
        f_out, f_in = feats[l], feats[l - 1]
        g_out = rademacher_nchw(tuple(f_out.shape), stream_key(rad_seed, l))
        g_in = torch.autograd.grad(f_out, f_in, grad_outputs=g_out, retain_graph=True, allow_unused=True)[0]
        if g_in is None:
            g_in = torch.zeros_like(f_in)
        if g_in.shape == g_out.shape and torch.equal(g_in, g_out):
            cells[l - 1] = -np.inf
            continue
        if g_in.shape[2] != g_out.shape[2]:
            g_in = F.pixel_unshuffle(g_in, g_in.shape[2] // g_out.shape[2])
        a = g_in.detach().double().permute(0, 2, 3, 1).reshape(-1, g_in.shape[1])
        b = g_out.double().permute(0, 2, 3, 1).reshape(-1, g_out.shape[1])
        sig = float(torch.linalg.svdvals(a.T @ b / b.shape[0]).max())
        cells[l - 1] = -sig - 1.0 / (sig + 1e-6) + 2.0
    trainability = float(np.mean(cells))
    fin = lambda v: v if not np.isnan(v) else -np.inf
    return {'az_expressivity': fin(expressivity), 'az_progressivity': fin(progressivity), 'az_trainability': fin(trainability),
            'az_entropies': ent, 'az_cells': cells}


def fisher_layers(model, x, y):
    """Per conv/linear layer: Σ_k ½·mean_n(Σ_positions a⊙∂L/∂a)² · fan-in, a the layer's output; sums in float64."""
    acts = {}

    def hook(m, inp, out):
        out.retain_grad(); acts[m] = out
    layers = [(n, m) for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    hs = [m.register_forward_hook(hook) for _, m in layers]
    model.train(); model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    for h in hs:
        h.remove()
    out = {}
    for n, m in layers:
        a = acts[m]
        if a.grad is None:
            out[n] = 0.0; continue
        ag = a.detach().double() * a.grad.double()
        v = ag.sum(dim=(2, 3)) if ag.dim() == 4 else ag
        out[n] = float((0.5 * (v ** 2).mean(0)).sum() * int(np.prod(m.weight.shape[1:])))
    return out


def cost(model, shape):
    macs = [0]

    def hook(m, inp, out):
        if isinstance(m, nn.Conv2d):
            macs[0] += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        else:
            macs[0] += m.in_features * m.out_features
    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros((1,) + tuple(shape)))
    model.train()
    for h in hs:
        h.remove()
    return sum(p.numel() for p in model.parameters() if p.requires_grad), macs[0]


# ---------------------------------------------------------------- commands

def fixtures(spec_file, out_file, images, labels):
    spec = json.load(open(spec_file))
    imgs = np.fromfile(images, dtype=np.uint8).reshape(-1, 32, 32, 3)
    labs = np.fromfile(labels, dtype=np.uint8)
    ref = None
    if os.path.exists(os.path.join(SHARED_TOOLS, 'ref_metrics.py')):
        sys.path.insert(0, SHARED_TOOLS)
        import ref_metrics as ref
    torch.set_num_threads(1)
    out = []
    for net in spec['networks']:
        arch, C, N, ncls = net['arch'], net['channels'], net['cells'], net['classes']
        model = NB201(arch, C, N, ncls)
        fixture_weights(model, net['weight_seed'])
        state = {k: v for k, v in model.state_dict().items() if 'running_' not in k and 'num_batches' not in k}
        batches = [cifar_batch(imgs, labs, np.array(b), ncls) for b in net['batches']]
        x, y = batches[0]
        v = {}
        params, flops = cost(model, (3, 32, 32))
        v['params'], v['flops'] = params, flops
        if ref is not None:
            def fresh(bn=True):
                m = ref.NB201Net(arch, C, N, ncls, use_bn=bn); m.load_state_dict(state, strict=False); m.train(); return m
            v['grad_norm'] = ref.grad_norm(fresh(), x, y)
            v['snip'] = ref.snip(fresh(), x, y)
            v['grasp'] = ref.grasp(fresh(), x, y)
            # float32 conditioning of GraSP (a Hessian product): the same network in float64
            v['grasp_f64'] = ref.grasp(fresh().double(), x.double(), y)
            v['synflow'] = ref.synflow(fresh(False), x)
            try:
                v['jacob_cov'] = ref.jacob_cov(fresh(), x)
            except Exception:
                v['jacob_cov'] = float('nan')
            v['naswot'] = ref.naswot(fresh(), x)
        fl = fisher_layers(model, x, y)
        v['fisher'] = float(sum(fl.values()))
        v['fisher_layers'] = fl
        # per-layer float32 conditioning (BatchNorm on near-constant channels multiplies rounding by 1/√eps)
        v['fisher_layers_f64'] = fisher_layers(_double(model), x.double(), y)
        v['zico'] = zico(model, batches)
        # ZiCo's ratios mean/std over two batches are heavy-tailed (an entry whose two gradients agree to 1e-5 weighs
        # 1e5), so float32 rounding moves it: the same network in float64 shows by how much.
        v['zico_f64'] = zico(_double(model), [(b[0].double(), b[1]) for b in batches])
        v['meco'] = meco(model, x[:1])
        v['swap_count'] = swap_count(model, x[:16])
        v.update(az_scores(model, x, net['rademacher_seed']))
        out.append({'name': net['name'], 'values': v})
        print(net['name'], {k: val for k, val in v.items() if not isinstance(val, (dict, list))}, flush=True)
    json.dump({'generator': 'anchors/metrics_anchor.py', 'torch': torch.__version__, 'networks': out}, open(out_file, 'w'),
              indent=1, allow_nan=True)


def _double(model):
    import copy
    return copy.deepcopy(model).double()


def normal_init(model, kind):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                if kind == 'swap':
                    nn.init.normal_(m.weight)
                else:
                    nn.init.kaiming_normal_(m.weight, mode='fan_in', nonlinearity='relu')
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d) and m.affine:
                nn.init.ones_(m.weight); nn.init.zeros_(m.bias)


def bench(arch_file, n, threads, images, labels):
    archs = [l.strip() for l in open(arch_file) if l.strip()][:n]
    torch.set_num_threads(threads)
    imgs = np.fromfile(images, dtype=np.uint8).reshape(-1, 32, 32, 3)
    labs = np.fromfile(labels, dtype=np.uint8)
    idx = np.random.default_rng(7).choice(len(imgs), 128, replace=False)
    b1, b2 = cifar_batch(imgs, labs, idx[:64], 10), cifar_batch(imgs, labs, idx[64:], 10)
    t = {'zico': [], 'meco': [], 'swap': [], 'aznas': []}
    for k, a in enumerate(archs):
        torch.manual_seed(k)
        t0 = time.perf_counter(); m = NB201(a, 16, 5, 10); zico(m, [b1, b2]); t['zico'].append(time.perf_counter() - t0)
        t0 = time.perf_counter(); m = NB201(a, 16, 5, 10); meco(m, b1[0][:1]); t['meco'].append(time.perf_counter() - t0)
        t0 = time.perf_counter(); m = NB201(a, 16, 5, 10)
        for _ in range(32):
            normal_init(m, 'swap'); swap_count(m, b1[0][:16])
        t['swap'].append(time.perf_counter() - t0)
        t0 = time.perf_counter(); m = NB201(a, 16, 5, 10); normal_init(m, 'az')
        az_scores(m, torch.randn(64, 3, 32, 32), k); t['aznas'].append(time.perf_counter() - t0)
    mean = {k: float(np.mean(v)) for k, v in t.items()}
    print(f'torch {threads} thread(s): {len(archs)} archs, ' + ', '.join(f'{k} {v:.3f} s/arch' for k, v in mean.items()))
    print(json.dumps(mean))


if __name__ == '__main__':
    if len(sys.argv) >= 2 and sys.argv[1] == 'fixtures' and len(sys.argv) == 6:
        fixtures(*sys.argv[2:])
    elif len(sys.argv) >= 2 and sys.argv[1] == 'bench' and len(sys.argv) == 7:
        bench(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6])
    else:
        sys.exit(__doc__)
