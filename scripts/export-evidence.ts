/**
 * Exactness of the exports on trained networks: trains one NB201 and one DARTS network on MNIST (a short
 * training, the CLI's recipe), saves each as a model folder, exports it as ONNX, TF.js and PyTorch, and runs
 * 500 real test images through onnxruntime-node, tfjs-layers and PyTorch (/usr/bin/python3 with torch, when
 * importable). Prints the largest |logit difference| to the engine and how many predicted classes differ.
 * Run: npm run evidence:export   (≈ 1 minute on 2 cores)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu'; // the backend tfjs-layers runs on here (any would do)
import * as tfl from '@tensorflow/tfjs-layers';
import { exportModel, type ExportFormat } from '../src/export/bundle.js';
import { loadModel, saveModel } from '../src/model/store.js';
import { buildSpecNetwork } from '../src/model/network.js';
import { loadDataset } from '../src/data/index.js';
import { augmentFor } from '../src/train/augment.js';
import { prepareData } from '../src/train/data.js';
import { allImages } from '../src/data/imageset.js';
import { predict } from '../src/train/step.js';
import { DARTS_TRAINING, trainNetwork } from '../src/train/trainer.js';

// PROD: no console hint from tfjs about installing tfjs-node.
tf.env().set('PROD', true);

const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'robot-nas-export-evidence-'));

const NETWORKS = [
  { space: 'nb201', arch: '|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|nor_conv_3x3~0|avg_pool_3x3~1|nor_conv_1x1~2|', channels: 8, cells: 1 },
  {
    space: 'darts',
    arch: "Genotype(normal=[('sep_conv_3x3', 0), ('dil_conv_5x5', 1), ('avg_pool_3x3', 0), ('max_pool_3x3', 2), ('skip_connect', 1), ('sep_conv_5x5', 3), ('sep_conv_5x5', 2), ('dil_conv_3x3', 4)], normal_concat=range(2, 6), reduce=[('dil_conv_3x3', 0), ('avg_pool_3x3', 1), ('max_pool_3x3', 0), ('sep_conv_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 1), ('sep_conv_3x3', 1), ('dil_conv_5x5', 0)], reduce_concat=range(2, 6))",
    channels: 4,
    cells: 5,
  },
] as const;

function compare(got: ArrayLike<number>, ref: Float32Array, k: number): { diff: number; flips: number } {
  let diff = 0;
  let flips = 0;
  for (let i = 0; i < ref.length / k; i++) {
    let a = 0;
    let b = 0;
    for (let j = 0; j < k; j++) {
      diff = Math.max(diff, Math.abs(got[i * k + j] - ref[i * k + j]));
      if (got[i * k + j] > got[i * k + a]) a = j;
      if (ref[i * k + j] > ref[i * k + b]) b = j;
    }
    if (a !== b) flips++;
  }
  return { diff, flips };
}

const data = await prepareData({ dataset: 'mnist', trainLimit: 1000, validLimit: 200, seed: 0 });
const test = loadDataset('mnist', { split: 'test', limit: 500 });
const rows: string[] = [];
for (const spec of NETWORKS) {
  const net = buildSpecNetwork({ ...spec, classes: 10, inputShape: data.info.shape });
  const settings = { ...DARTS_TRAINING, lr: 0.1, epochs: 3, batchSize: 32, augment: augmentFor('mnist', data.info.mean, data.info.std, 28) };
  const t0 = performance.now();
  const r = await trainNetwork(net, data, settings, 1);
  const model = join(dir, `${spec.space}-model`);
  saveModel(model, {
    ...spec,
    classes: 10,
    classNames: data.train.classNames ?? null,
    inputShape: data.info.shape,
    mean: data.info.mean,
    std: data.info.std,
    params: r.params,
    running: r.running,
    samples: { images: allImages(data.valid), labels: data.valid.labels },
    training: null,
    accuracies: { train: r.trainAccuracy, validation: r.validAccuracy, test: null },
  });
  const m = loadModel(model);
  const ref = predict(m.net, m.params, m.running, test.images, test.count);
  const shape = [test.count, ...data.info.shape];
  console.log(`${spec.space}: ${m.card.network.params.toLocaleString('en-US')} parameters, validation ${r.validAccuracy.toFixed(2)} % after 3 epochs on 1,000 digits (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  for (const format of ['onnx', 'tfjs', 'pytorch'] as ExportFormat[]) {
    const b = exportModel(m, format, 'evidence');
    let got: ArrayLike<number> | null = null;
    if (format === 'onnx') {
      const s = await ort.InferenceSession.create(b.files.get('model.onnx') as Uint8Array);
      got = (await s.run({ input: new ort.Tensor('float32', test.images, shape) })).logits.data as Float32Array;
    } else if (format === 'tfjs') {
      const j = JSON.parse(b.files.get('model.json') as string);
      const w = b.files.get('weights.bin') as Uint8Array;
      const lm = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: j.modelTopology, weightSpecs: j.weightsManifest[0].weights, weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) as ArrayBuffer }));
      got = tf.tidy(() => (lm.predict(tf.tensor4d(test.images, shape as [number, number, number, number])) as tf.Tensor).dataSync());
    } else if (hasTorch) {
      const out = join(dir, `${spec.space}-pytorch`);
      rmSync(out, { recursive: true, force: true });
      spawnSync('mkdir', ['-p', out]);
      for (const [name, bytes] of b.files) writeFileSync(join(out, name), bytes);
      writeFileSync(join(out, 'x.bin'), test.images);
      const py = spawnSync(
        PYTHON,
        ['-c', 'import sys, json, torch; sys.path.insert(0, sys.argv[1]); import model; x = torch.frombuffer(bytearray(open(sys.argv[1] + "/x.bin", "rb").read()), dtype=torch.float32).reshape(-1, *model.INPUT_SHAPE)\nwith torch.no_grad(): print(json.dumps(model.load_model()(x).flatten().tolist()))', out],
        { encoding: 'utf8', maxBuffer: 64 << 20 },
      );
      if (py.status !== 0) throw new Error(py.stderr);
      got = JSON.parse(py.stdout) as number[];
    }
    const runtime = { onnx: `onnxruntime-node ${ort.env.versions.node}`, tfjs: `tfjs-layers ${tfl.version_layers} (${tf.getBackend()})`, pytorch: 'PyTorch (python3-torch)' }[format];
    if (got === null) {
      rows.push(`${spec.space.padEnd(6)} ${format.padEnd(8)} ${runtime.padEnd(28)} skipped: torch is not importable by ${PYTHON}`);
      continue;
    }
    const c = compare(got, ref, 10);
    rows.push(`${spec.space.padEnd(6)} ${format.padEnd(8)} ${runtime.padEnd(28)} max |Δlogit| ${c.diff.toExponential(2)}   predicted classes differing: ${c.flips} of ${test.count}`);
  }
}
console.log(`\n${test.count} MNIST test images through each export vs the robot-nas engine:`);
for (const r of rows) console.log(r);
rmSync(dir, { recursive: true, force: true });
