/**
 * The files of an export: the model in the chosen format plus its test vector — `sample-input.bin` (the model
 * folder's sample images, float32 NCHW, little-endian, preprocessed) and `sample-logits.json` (the engine's
 * logits for them) — so that any runtime can be checked against the engine. The engine's backend must be
 * initialised; no file access here.
 */
import { createHash } from 'node:crypto';
import type { LoadedModel } from '../model/store.js';
import { predict } from '../train/step.js';
import { exportOnnx, ONNX_OPSET } from './onnx.js';
import { exportPytorch, PYTORCH_WEIGHTS_FILE } from './pytorch.js';
import { exportTfjs, TFJS_WEIGHTS_FILE } from './tfjs.js';

export const EXPORT_FORMATS = ['onnx', 'tfjs', 'pytorch'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export const SAMPLE_INPUT_FILE = 'sample-input.bin';
export const SAMPLE_LOGITS_FILE = 'sample-logits.json';

export interface SampleLogits {
  input: { file: string; dtype: 'float32'; layout: 'NCHW'; shape: number[] };
  shape: [number, number];
  logits: number[][];
  labels: number[] | null;
  classNames: string[] | null;
  producer: string;
  /** SHA-256 of every other file of the export: what makes the folder provably ours (export/folder.ts). */
  files: Record<string, string>;
}

export interface ExportBundle {
  /** File name → contents, in the order they are listed to the user. */
  files: Map<string, Uint8Array | string>;
  /** One line per file: what it is. */
  describe: Map<string, string>;
  samples: SampleLogits;
}

/** Model metadata carried inside ONNX and TF.js files (they travel without the model card). */
function cardMetadata(m: LoadedModel): Record<string, string> {
  const { card } = m;
  return {
    space: card.space,
    arch: card.arch,
    classes: JSON.stringify(card.classes.names ?? card.classes.count),
    input: `float32 NCHW [batch, ${card.input.shape.join(', ')}]`,
    preprocessing: JSON.stringify(card.preprocessing),
    // how raw pixels become the input: what a caller feeding 0–255 values must do to get predict's answer
    normalisation: JSON.stringify({
      input: `${card.preprocessing.colour === 'grey' ? 'grey' : 'RGB'} pixels 0..255, ${card.input.shape[1]}×${card.input.shape[2]}, NCHW`,
      formula: 'x = (pixel * scale - mean[c]) / std[c]',
      scale: 1 / 255,
      mean: card.preprocessing.mean,
      std: card.preprocessing.std,
    }),
    accuracies: JSON.stringify(card.accuracies),
  };
}

export function exportModel(m: LoadedModel, format: ExportFormat, producerVersion: string): ExportBundle {
  const { card, net, params, running, samples } = m;
  const k = card.classes.count;
  const logits = predict(net, params, running, samples.images, samples.count);
  const sampleLogits: SampleLogits = {
    input: { file: SAMPLE_INPUT_FILE, dtype: 'float32', layout: 'NCHW', shape: [samples.count, ...card.input.shape] },
    shape: [samples.count, k],
    logits: Array.from({ length: samples.count }, (_, i) => Array.from(logits.subarray(i * k, (i + 1) * k))),
    labels: samples.labels ? Array.from(samples.labels) : null,
    classNames: card.classes.names,
    producer: `robot-nas ${producerVersion} engine`,
    files: {},
  };
  const files = new Map<string, Uint8Array | string>();
  const describe = new Map<string, string>();
  const [c, h, w] = card.input.shape;
  const io = `input 'input' float32 [batch, ${c}, ${h}, ${w}] (normalised), output 'logits' [batch, ${k}]`;
  if (format === 'onnx') {
    files.set('model.onnx', exportOnnx(net, params, running, { producerVersion, metadata: cardMetadata(m), docString: `${card.space} ${card.arch}` }));
    describe.set('model.onnx', `ONNX opset ${ONNX_OPSET}; ${io}`);
  } else if (format === 'tfjs') {
    const t = exportTfjs(net, params, running, { producerVersion, metadata: cardMetadata(m) });
    files.set('model.json', JSON.stringify(t.modelJson));
    files.set(TFJS_WEIGHTS_FILE, t.weightData);
    describe.set('model.json', `TF.js LayersModel (tf.loadLayersModel); ${io}`);
    describe.set(TFJS_WEIGHTS_FILE, 'its weights (one shard)');
  } else {
    const p = exportPytorch(card, net, params, running, producerVersion);
    files.set('model.py', p.modelPy);
    files.set(PYTORCH_WEIGHTS_FILE, p.weights);
    describe.set('model.py', `plain torch.nn; load_model() → eval-mode module; ${io.replace(/'input' |'logits' /g, '')}; python model.py checks the samples`);
    describe.set(PYTORCH_WEIGHTS_FILE, 'state_dict (BatchNorm running statistics included) as safetensors');
  }
  files.set(SAMPLE_INPUT_FILE, new Uint8Array(samples.images.buffer.slice(samples.images.byteOffset, samples.images.byteOffset + samples.images.byteLength)));
  for (const [name, data] of files) sampleLogits.files[name] = createHash('sha256').update(data).digest('hex');
  files.set(SAMPLE_LOGITS_FILE, JSON.stringify(sampleLogits) + '\n');
  describe.set(SAMPLE_INPUT_FILE, `${samples.count} real preprocessed images (float32 NCHW) from the model folder`);
  describe.set(SAMPLE_LOGITS_FILE, "the robot-nas engine's logits for them");
  return { files, describe, samples: sampleLogits };
}
