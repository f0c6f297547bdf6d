/**
 * PyTorch export: a self-contained `model.py` (plain torch.nn: the NAS-Bench-201 network of the
 * zero-cost-proxies reference and DARTS's NetworkCIFAR, module names as in those codebases) and the weights as
 * `model.safetensors` keyed by the same state_dict names (BatchNorm running statistics included), which
 * `load_model()` reads with a 15-line reader so that torch is the only requirement. Running `python model.py`
 * checks the export against sample-input.bin / sample-logits.json. Pure: returns the file contents.
 */
import type { ModelCard } from '../model/card.js';
import { encodeSafetensors } from '../model/safetensors.js';
import { weightTensors } from '../model/store.js';
import type { Network } from '../networks/layers.js';
import type { ParamValues } from '../networks/params.js';
import { nb201EdgeOps } from '../networks/nb201.js';
import { parseGenotype } from '../spaces/darts.js';
import type { BnRunning } from '../train/step.js';

export const PYTORCH_WEIGHTS_FILE = 'model.safetensors';

const MODEL_PY = String.raw`"""__TITLE__

Plain PyTorch (torch.nn), exported by robot-nas __VERSION__.

    from model import load_model, MEAN, STD, CLASS_NAMES
    net = load_model()     # weights from model.safetensors next to this file, in eval mode
    logits = net(x)        # x: float32 [N, __C__, __H__, __W__], pixels / 255 normalised per channel with MEAN / STD

Input preprocessing: __PREPROCESSING__.
'python model.py' checks the export: it runs sample-input.bin through the network and compares the
logits with sample-logits.json (those of the robot-nas engine). Needs only torch; the safetensors file
is read by read_safetensors below (safetensors.torch.load_file reads it too).
"""
import json
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

SPACE = __SPACE__
ARCH = __ARCH__
# nb201: the ops of edges (1,0), (2,0), (2,1), (3,0), (3,1), (3,2); darts: the genotype.
CELL = __CELL__
CHANNELS = __CHANNELS__
CELLS = __CELLS__
NUM_CLASSES = __CLASSES__
INPUT_SHAPE = (__C__, __H__, __W__)
MEAN = __MEAN__
STD = __STD__
CLASS_NAMES = __NAMES__

HERE = os.path.dirname(os.path.abspath(__file__))


# ---- NAS-Bench-201 ----------------------------------------------------------------------------------

NB201_EDGES = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]


class Nb201ReLUConvBN(nn.Module):
    def __init__(self, c_in, c_out, kernel, stride, padding, bias, affine):
        super().__init__()
        self.relu = nn.ReLU()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=bias)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x):
        return self.bn(self.conv(self.relu(x)))


class Zero(nn.Module):
    def __init__(self, stride=1):
        super().__init__()
        self.stride = stride

    def forward(self, x):
        return x[:, :, :: self.stride, :: self.stride].mul(0.0)


def nb201_op(name, c):
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    if name == "nor_conv_3x3":
        return Nb201ReLUConvBN(c, c, 3, 1, 1, True, False)
    if name == "nor_conv_1x1":
        return Nb201ReLUConvBN(c, c, 1, 1, 0, True, False)
    raise ValueError("unknown NAS-Bench-201 op " + name)


class Nb201Cell(nn.Module):
    def __init__(self, ops, c):
        super().__init__()
        self.ops = nn.ModuleDict({"%d_%d" % e: nb201_op(op, c) for e, op in zip(NB201_EDGES, ops)})

    def forward(self, x):
        nodes = [x]
        for to in (1, 2, 3):
            nodes.append(sum(self.ops["%d_%d" % (to, j)](nodes[j]) for j in range(to)))
        return nodes[3]


class Nb201Reduction(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv_a = Nb201ReLUConvBN(c_in, c_out, 3, 2, 1, False, True)
        self.conv_b = Nb201ReLUConvBN(c_out, c_out, 3, 1, 1, False, True)
        self.shortcut = nn.Conv2d(c_in, c_out, 1, 1, 0, bias=False)

    def forward(self, x):
        return self.shortcut(F.avg_pool2d(x, 2, 2, 0)) + self.conv_b(self.conv_a(x))


class Nb201Network(nn.Module):
    """Stem conv + BN; three stages of N cells at C, 2C, 4C with residual reductions; BN, ReLU, pooling, linear."""

    def __init__(self, ops, c, n, num_classes, in_channels):
        super().__init__()
        self.stem_conv = nn.Conv2d(in_channels, c, 3, 1, 1, bias=False)
        self.stem_bn = nn.BatchNorm2d(c)
        layers = []
        width = c
        for stage in range(3):
            if stage > 0:
                layers.append(Nb201Reduction(width, 2 * width))
                width *= 2
            for _ in range(n):
                layers.append(Nb201Cell(ops, width))
        self.layers = nn.ModuleList(layers)
        self.top_bn = nn.BatchNorm2d(width)
        self.top_relu = nn.ReLU()
        self.classifier = nn.Linear(width, num_classes)

    def forward(self, x):
        h = self.stem_bn(self.stem_conv(x))
        for layer in self.layers:
            h = layer(h)
        h = self.top_relu(self.top_bn(h))
        return self.classifier(h.mean((2, 3)))


# ---- DARTS (NetworkCIFAR without the auxiliary head) ------------------------------------------------


class ReLUConvBN(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(), nn.Conv2d(c_in, c_out, 1, 1, 0, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        return self.op(x)


class FactorizedReduce(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.relu = nn.ReLU()
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, 2, 0, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, 2, 0, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x):
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


class SepConv(nn.Module):
    def __init__(self, c, k, stride, padding):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(c, c, k, stride, padding, groups=c, bias=False),
            nn.Conv2d(c, c, 1, bias=False),
            nn.BatchNorm2d(c),
            nn.ReLU(),
            nn.Conv2d(c, c, k, 1, padding, groups=c, bias=False),
            nn.Conv2d(c, c, 1, bias=False),
            nn.BatchNorm2d(c),
        )

    def forward(self, x):
        return self.op(x)


class DilConv(nn.Module):
    def __init__(self, c, k, stride, padding, dilation):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(c, c, k, stride, padding, dilation=dilation, groups=c, bias=False),
            nn.Conv2d(c, c, 1, bias=False),
            nn.BatchNorm2d(c),
        )

    def forward(self, x):
        return self.op(x)


def darts_op(name, c, stride):
    if name == "none":
        return Zero(stride)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)
    if name == "max_pool_3x3":
        return nn.MaxPool2d(3, stride=stride, padding=1)
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(c, c)
    if name == "sep_conv_3x3":
        return SepConv(c, 3, stride, 1)
    if name == "sep_conv_5x5":
        return SepConv(c, 5, stride, 2)
    if name == "dil_conv_3x3":
        return DilConv(c, 3, stride, 2, 2)
    if name == "dil_conv_5x5":
        return DilConv(c, 5, stride, 4, 2)
    raise ValueError("unknown DARTS op " + name)


class DartsCell(nn.Module):
    def __init__(self, edges, concat, c_pp, c_p, c, reduction, reduction_prev):
        super().__init__()
        self.preprocess0 = FactorizedReduce(c_pp, c) if reduction_prev else ReLUConvBN(c_pp, c)
        self.preprocess1 = ReLUConvBN(c_p, c)
        self._ops = nn.ModuleList([darts_op(op, c, 2 if reduction and j < 2 else 1) for op, j in edges])
        self._indices = [j for _, j in edges]
        self._concat = list(concat)

    def forward(self, s0, s1):
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for i in range(len(self._ops) // 2):
            a, b = 2 * i, 2 * i + 1
            states.append(self._ops[a](states[self._indices[a]]) + self._ops[b](states[self._indices[b]]))
        return torch.cat([states[j] for j in self._concat], dim=1)


class DartsNetwork(nn.Module):
    """Stem conv (3C) + BN; cells, reductions at layers // 3 and 2 * layers // 3; global pooling, linear."""

    def __init__(self, genotype, c, layers, num_classes, in_channels):
        super().__init__()
        stem = 3 * c
        self.stem = nn.Sequential(nn.Conv2d(in_channels, stem, 3, padding=1, bias=False), nn.BatchNorm2d(stem))
        c_pp, c_p, c_curr = stem, stem, c
        reduction_prev = False
        cells = []
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3)
            if reduction:
                c_curr *= 2
            cell = "reduce" if reduction else "normal"
            edges, concat = genotype[cell], genotype[cell + "_concat"]
            cells.append(DartsCell(edges, concat, c_pp, c_p, c_curr, reduction, reduction_prev))
            reduction_prev = reduction
            c_pp, c_p = c_p, len(concat) * c_curr
        self.cells = nn.ModuleList(cells)
        self.classifier = nn.Linear(c_p, num_classes)

    def forward(self, x):
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(s1.mean((2, 3)))


# ---- weights and checks -----------------------------------------------------------------------------


def read_safetensors(path):
    """name -> float32 tensor, from a safetensors file (8-byte header length, JSON header, raw data)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError("%s: tensor %s is %s, expected F32" % (path, name, info["dtype"]))
        begin, end = info["data_offsets"]
        raw = bytearray(data[8 + n + begin : 8 + n + end])
        out[name] = torch.frombuffer(raw, dtype=torch.float32).reshape(info["shape"]).clone()
    return out


def build_model():
    if SPACE == "nb201":
        return Nb201Network(CELL, CHANNELS, CELLS, NUM_CLASSES, INPUT_SHAPE[0])
    return DartsNetwork(CELL, CHANNELS, CELLS, NUM_CLASSES, INPUT_SHAPE[0])


def load_model(weights=os.path.join(HERE, "__WEIGHTS__")):
    net = build_model()
    missing, unexpected = net.load_state_dict(read_safetensors(weights), strict=False)
    # BatchNorm's num_batches_tracked counter is not exported; it plays no part in inference.
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise RuntimeError("weights do not fit the network: missing %s, unexpected %s" % (missing, unexpected))
    return net.eval()


def check(tolerance=1e-4):
    with open(os.path.join(HERE, "sample-logits.json")) as f:
        ref = json.load(f)
    n, k = ref["shape"]
    with open(os.path.join(HERE, "sample-input.bin"), "rb") as f:
        x = torch.frombuffer(bytearray(f.read()), dtype=torch.float32).reshape(n, *INPUT_SHAPE)
    with torch.no_grad():
        logits = load_model()(x)
    diff = (logits - torch.tensor(ref["logits"], dtype=torch.float32)).abs().max().item()
    print("max |logit difference| vs robot-nas on %d sample images: %.3g (tolerance %g)" % (n, diff, tolerance))
    return diff <= tolerance


if __name__ == "__main__":
    sys.exit(0 if check() else 1)
`;

const py = (v: unknown): string => (v === null ? 'None' : JSON.stringify(v));

export interface PytorchExport {
  modelPy: string;
  weights: Uint8Array;
}

export function exportPytorch(card: ModelCard, net: Network, params: ParamValues, running: BnRunning, producerVersion: string): PytorchExport {
  const [c, h, w] = card.input.shape;
  let cell: unknown;
  if (card.space === 'nb201') {
    cell = nb201EdgeOps(card.arch);
  } else {
    const g = parseGenotype(card.arch);
    cell = { normal: g.normal, normal_concat: g.normalConcat, reduce: g.reduce, reduce_concat: g.reduceConcat };
  }
  const p = card.preprocessing;
  const values: Record<string, string> = {
    __TITLE__: `${card.space === 'nb201' ? 'NAS-Bench-201' : 'DARTS'} network ${card.arch} (${card.network.params.toLocaleString('en-US')} parameters, ${card.classes.count} classes)`,
    __VERSION__: producerVersion,
    __PREPROCESSING__: `${p.colour === 'grey' ? 'grey (luma)' : 'RGB'}, resized to ${h}×${w}, (pixel / 255 − MEAN) / STD`,
    __SPACE__: py(card.space),
    __ARCH__: py(card.arch),
    __CELL__: py(cell),
    __CHANNELS__: String(card.network.channels),
    __CELLS__: String(card.network.cells),
    __CLASSES__: String(card.classes.count),
    __C__: String(c),
    __H__: String(h),
    __W__: String(w),
    __MEAN__: py(p.mean),
    __STD__: py(p.std),
    __NAMES__: py(card.classes.names),
    __WEIGHTS__: PYTORCH_WEIGHTS_FILE,
  };
  const modelPy = MODEL_PY.replace(/__[A-Z]+__/g, (k) => {
    const v = values[k];
    if (v === undefined) throw new Error(`pytorch export: no value for ${k}`);
    return v;
  });
  const weights = encodeSafetensors(weightTensors(net, params, running), { format: 'pt', producer: `robot-nas ${producerVersion}` });
  return { modelPy, weights };
}
