import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportModel } from '../../src/export/bundle.js';
import { loadModel, saveModel } from '../../src/model/store.js';
import { writeFolderAtomic } from '../../src/util/atomic.js';
import { EXPORT_FOLDER } from '../../src/export/folder.js';
import { predict } from '../../src/train/step.js';
import { tempDirs } from '../helpers/tmp.js';
import { EXPORT_CASES, maxAbsDiff, randomModel, realImages } from './helpers.js';

// The exported model.py + model.safetensors in Debian's python3-torch against the engine, on real images.
const PYTHON = '/usr/bin/python3';
const torch = existsSync(PYTHON) ? spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }) : null;
const skip = torch === null || torch.status !== 0 ? `PyTorch is not importable by ${PYTHON} (apt-get install python3-torch)` : false;
const tmp = tempDirs('robot-nas-pytorch-');


// Runs every export in one interpreter (importing torch takes seconds): logits of x.bin and the export's own check.
const SCRIPT = `
import importlib.util, json, sys, torch
out = []
for d in json.loads(sys.argv[1]):
    spec = importlib.util.spec_from_file_location("exported_%d" % len(out), d + "/model.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    net = mod.load_model()
    n = json.load(open(d + "/sample-logits.json"))["shape"][0]
    x = torch.frombuffer(bytearray(open(d + "/x.bin", "rb").read()), dtype=torch.float32).reshape(-1, *mod.INPUT_SHAPE)
    with torch.no_grad():
        y = net(x)
    out.append({"logits": y.flatten().tolist(), "check": mod.check(), "state": sorted(k for k in net.state_dict() if not k.endswith("num_batches_tracked"))})
print(json.dumps(out))
`;

test('pytorch export: model.py + model.safetensors in PyTorch give the engine logits within 1e-4 (both spaces)', { skip }, async () => {
  const dirs: string[] = [];
  const refs: Float32Array[] = [];
  const names: string[][] = [];
  for (const [i, c] of EXPORT_CASES.entries()) {
    const shape = [...c.spec.inputShape] as [number, number, number];
    const m = randomModel({ ...c.spec, inputShape: shape }, 20 + i);
    const real = realImages(c.data, 24);
    const modelDir = join(tmp(), 'model');
    saveModel(modelDir, {
      ...c.spec,
      inputShape: shape,
      classNames: real.classNames,
      mean: shape[0] === 1 ? [0.1307] : [0.49, 0.48, 0.45],
      std: shape[0] === 1 ? [0.3081] : [0.25, 0.24, 0.26],
      params: m.params,
      running: m.running,
      samples: { images: real.images.slice(0, (real.images.length / 24) * 16), labels: real.labels.slice(0, 16) },
      training: null,
      accuracies: { train: null, validation: null, test: null },
    });
    const loaded = loadModel(modelDir);
    const out = join(tmp(), 'export');
    writeFolderAtomic(out, exportModel(loaded, 'pytorch', 'test').files, EXPORT_FOLDER);
    // Images the export has not seen: the last 8 of the 24.
    const x = real.images.slice((real.images.length / 24) * 16);
    writeFileSync(join(out, 'x.bin'), x);
    dirs.push(out);
    refs.push(predict(m.net, m.params, m.running, x, 8));
    names.push([...m.params.keys(), ...m.net.batchNorms.flatMap((b) => [`${b.name}.running_mean`, `${b.name}.running_var`])].sort());
  }
  const r = spawnSync(PYTHON, ['-c', SCRIPT, JSON.stringify(dirs)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  const results = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { logits: number[]; check: boolean; state: string[] }[];
  for (const [i, res] of results.entries()) {
    const d = maxAbsDiff(res.logits, refs[i]);
    assert.ok(d < 1e-4, `${EXPORT_CASES[i].spec.space} case ${i}: max |Δlogit| ${d}`);
    assert.equal(res.check, true, 'python model.py check passes on the sample files');
    assert.deepEqual(res.state, names[i], 'state_dict names are the engine parameter names');
  }
});
