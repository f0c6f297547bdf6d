#!/usr/bin/env python3
"""PyTorch CPU anchor for the MBConv rows of `npm run bench:train`: ms per SGD step (forward, cross-entropy, backward,
grad-norm clip 5, SGD momentum 0.9 / weight decay 3e-4) and inference img/s of the inverted-residual networks of
scripts/bench/mbconv.ts (same blocks, module names and configs; random data).
usage: torch_mbconv_bench.py THREADS [STEPS]   (Debian's /usr/bin/python3 + python3-torch); last line is JSON
"""
import json, sys, time, torch, torch.nn as nn, torch.nn.functional as F

threads = int(sys.argv[1]); steps = int(sys.argv[2]) if len(sys.argv) > 2 else 8
torch.set_num_threads(threads); torch.manual_seed(1)
ACT = {'relu6': nn.ReLU6, 'hardswish': nn.Hardswish}
GATE = {'sigmoid': nn.Sigmoid, 'hardsigmoid': nn.Hardsigmoid}
# (expansion, channels out, repeat, stride, kernel, squeeze-excite gate) per row, as MB_ARCHS in scripts/bench/mbconv.ts
ARCHS = {
  'MobileNetV2-like (k3, ReLU6)': dict(stem=16, act='relu6', head=256, blocks=[
    (1, 16, 1, 1, 3, None), (6, 24, 2, 2, 3, None), (6, 32, 2, 2, 3, None), (6, 64, 2, 2, 3, None)]),
  'MnasNet-like (k3/5/7, SE, h-swish)': dict(stem=16, act='hardswish', head=256, blocks=[
    (1, 16, 1, 1, 3, None), (4, 24, 2, 2, 5, None), (6, 32, 2, 2, 5, 'hardsigmoid'), (6, 64, 2, 2, 7, 'hardsigmoid')]),
}
CONFIGS = [('MNIST 1x28x28, batch 32', (1, 28, 28), 32), ('CIFAR 3x32x32, batch 32', (3, 32, 32), 32)]

def cbr(ci, co, act, k=1, s=1, groups=1):
    return [nn.Conv2d(ci, co, k, s, (k - 1) // 2, groups=groups, bias=False), nn.BatchNorm2d(co)] + ([ACT[act]()] if act else [])

class SE(nn.Module):
    def __init__(s, c, gate):
        super().__init__(); q = max(8, c // 4); s.fc1 = nn.Linear(c, q); s.relu = nn.ReLU(); s.fc2 = nn.Linear(q, c); s.gate = GATE[gate]()
    def forward(s, x):
        g = s.gate(s.fc2(s.relu(s.fc1(F.adaptive_avg_pool2d(x, 1).flatten(1)))))
        return x * g[:, :, None, None]

class Block(nn.Module):
    def __init__(s, ci, t, co, st, k, se, act):
        super().__init__(); ce = ci * t
        s.expand = nn.Sequential(*cbr(ci, ce, act)) if t != 1 else None
        s.dw = nn.Sequential(*cbr(ce, ce, act, k, st, ce))
        s.se = SE(ce, se) if se else None
        s.project = nn.Sequential(*cbr(ce, co, None))
        s.residual = st == 1 and ci == co
    def forward(s, x):
        y = s.expand(x) if s.expand is not None else x
        y = s.dw(y)
        if s.se is not None: y = s.se(y)
        y = s.project(y)
        return x + y if s.residual else y

class Net(nn.Module):
    def __init__(s, spec, cin, k=10):
        super().__init__(); act = spec['act']
        s.stem = nn.Sequential(*cbr(cin, spec['stem'], act, 3))
        blocks, c = [], spec['stem']
        for t, co, n, st, kk, se in spec['blocks']:
            for r in range(n):
                blocks.append(Block(c, t, co, st if r == 0 else 1, kk, se, act)); c = co
        s.blocks = nn.Sequential(*blocks)
        s.head = nn.Sequential(*cbr(c, spec['head'], act))
        s.classifier = nn.Linear(spec['head'], k)
    def forward(s, x):
        return s.classifier(F.adaptive_avg_pool2d(s.head(s.blocks(s.stem(x))), 1).flatten(1))

out = []
for name, shape, B in CONFIGS:
    print(f'\n{name}  (torch {threads} thread(s))')
    for label, spec in ARCHS.items():
        net = Net(spec, shape[0]); opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=3e-4)
        x = torch.randn(B, *shape); y = torch.randint(0, 10, (B,)); ts = []
        for s in range(steps + 1):
            t0 = time.perf_counter(); opt.zero_grad(); loss = F.cross_entropy(net(x), y); loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 5); opt.step(); t = time.perf_counter() - t0
            if s: ts.append(t)
        ts.sort(); step = ts[len(ts) // 2] * 1000
        net.eval(); xe = torch.randn(256, *shape)
        with torch.no_grad():
            net(xe); t0 = time.perf_counter(); net(xe); ev = time.perf_counter() - t0
        row = dict(config=name, arch=label, stepMs=step, evalImagesPerSecond=256 / ev, params=sum(p.numel() for p in net.parameters())); out.append(row)
        print(f'  {label:36s} step {step:6.1f} ms  inference {row["evalImagesPerSecond"]:6.0f} img/s  params {row["params"]}')
print(json.dumps(out))
