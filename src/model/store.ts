/**
 * Saved model folders: `manifest.json` (the model card, card.ts), `weights.safetensors` (every parameter by its
 * PyTorch name, plus `<bn>.running_mean` / `<bn>.running_var` of every BatchNorm) and `samples.safetensors`
 * (a few real preprocessed images, `images` float32 NCHW and `labels`, the test vector of every export).
 *
 * Writing is atomic: the folder is built under a temporary name next to the destination and renamed into
 * place, so a reader never sees half a model. Loading checks every file (present, size, SHA-256, format) and
 * every field, and that the weights fit the network the card describes; problems are InputErrors naming the
 * file. `checkModelDestination` lets a command refuse a bad output folder before it spends minutes training.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { balancedPick } from '../data/common.js';
import type { Network } from '../networks/layers.js';
import { countParams, type ParamValues } from '../networks/params.js';
import { countMacs } from '../proxies/cost.js';
import type { BnRunning } from '../train/step.js';
import { writeFolderAtomic } from '../util/atomic.js';
import { InputError, inputError } from '../util/errors.js';
import { checkReplaceable, claimByManifest, type FolderOwner } from '../util/owned-folder.js';
import {
  MANIFEST_FILE,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  SAMPLES_FILE,
  WEIGHTS_FILE,
  parseCard,
  type Accuracies,
  type FileEntry,
  type ModelCard,
  type ModelSpace,
  type TrainingRecord,
} from './card.js';
import { buildSpecNetwork, canonicalArch } from './network.js';
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from './safetensors.js';

/** At most this many sample images are kept (the exports' test vector). */
export const MAX_SAMPLES = 16;

export interface ModelToSave {
  space: ModelSpace;
  arch: string;
  channels: number;
  cells: number;
  classes: number;
  classNames: readonly string[] | null;
  inputShape: [number, number, number];
  /** Per-channel normalisation of 0..1 pixels the network was trained with. */
  mean: readonly number[];
  std: readonly number[];
  params: ParamValues;
  running: BnRunning;
  /** Real preprocessed images (NCHW float32, normalised), at least one; MAX_SAMPLES of them are kept (class-balanced when labelled). */
  samples: { images: Float32Array; labels: Int32Array | null };
  training: TrainingRecord | null;
  accuracies: Accuracies;
}

export interface LoadedModel {
  dir: string;
  card: ModelCard;
  net: Network;
  params: ParamValues;
  running: BnRunning;
  samples: { images: Float32Array; count: number; labels: Int32Array | null };
}

const require = createRequire(import.meta.url);
const VERSION = (require('../../package.json') as { version: string }).version;

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const runningMean = (bn: string): string => `${bn}.running_mean`;
const runningVar = (bn: string): string => `${bn}.running_var`;

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? String(e);
}

/** A saved model folder is ours when its manifest.json is a valid model card and the folder holds only the files it names, unchanged. */
export const MODEL_FOLDER: FolderOwner = {
  what: 'a model folder',
  claim: (dir) =>
    claimByManifest(dir, MANIFEST_FILE, 'a robot-nas model card', (json, file) => {
      const card = parseCard(json, file);
      return new Map([
        [card.files.weights.path, card.files.weights.sha256],
        [card.files.samples.path, card.files.samples.sha256],
      ]);
    }),
};

/**
 * Fails (SettingError on `setting`) unless `dir` can become a model folder: writable (util/output-paths), and absent,
 * empty, or a previous model folder holding nothing but what robot-nas wrote (util/owned-folder) — only such a folder
 * is replaced, never a folder of something else.
 */
export function checkModelDestination(dir: string, setting = 'save'): void {
  checkReplaceable(dir, setting, MODEL_FOLDER);
}

function checkWeights(net: Network, params: ParamValues, running: BnRunning): void {
  for (const p of net.params) {
    const v = params.get(p.name);
    const n = p.shape.reduce((a, b) => a * b, 1);
    if (v === undefined || v.length !== n) throw new InputError(`saveModel: parameter ${p.name} missing or not ${n} values`);
    if (!v.every(Number.isFinite)) throw new InputError(`saveModel: parameter ${p.name} has non-finite values (did training diverge?)`);
  }
  for (const bn of net.batchNorms) {
    const r = running.get(bn.name);
    if (r === undefined || r.mean.length !== bn.channels || r.variance.length !== bn.channels) {
      throw new InputError(`saveModel: running statistics of BatchNorm ${bn.name} missing or not ${bn.channels} values`);
    }
    if (!r.mean.every(Number.isFinite) || !r.variance.every((v) => Number.isFinite(v) && v >= 0)) {
      throw new InputError(`saveModel: running statistics of BatchNorm ${bn.name} are not finite (variance must be ≥ 0)`);
    }
  }
}

/** The safetensors map of a network's weights: parameters in state order, then BatchNorm running statistics. */
export function weightTensors(net: Network, params: ParamValues, running: BnRunning): Map<string, SafeTensor> {
  const t = new Map<string, SafeTensor>();
  for (const p of net.params) t.set(p.name, { dtype: 'F32', shape: [...p.shape], data: params.get(p.name)! });
  for (const bn of net.batchNorms) {
    const r = running.get(bn.name)!;
    t.set(runningMean(bn.name), { dtype: 'F32', shape: [bn.channels], data: r.mean });
    t.set(runningVar(bn.name), { dtype: 'F32', shape: [bn.channels], data: r.variance });
  }
  return t;
}

/** Saves a trained network as a model folder (see the module comment) and returns its card. */
export function saveModel(dir: string, m: ModelToSave): ModelCard {
  const arch = canonicalArch(m.space, m.arch);
  const net = buildSpecNetwork({ space: m.space, arch, channels: m.channels, cells: m.cells, classes: m.classes, inputShape: m.inputShape });
  checkWeights(net, m.params, m.running);
  const [c, h, w] = m.inputShape;
  const per = c * h * w;
  const total = m.samples.images.length / per;
  if (!(Number.isInteger(total) && total >= 1)) throw new InputError(`saveModel: samples must hold at least one ${c}×${h}×${w} image, got ${m.samples.images.length} values`);
  if (m.samples.labels && m.samples.labels.length !== total) throw new InputError(`saveModel: ${m.samples.labels.length} sample labels for ${total} sample images`);
  // Class-balanced when labels are known (validation splits are often sorted by class).
  const pick = m.samples.labels ? balancedPick(m.samples.labels, m.classes, MAX_SAMPLES) : Array.from({ length: Math.min(MAX_SAMPLES, total) }, (_, i) => i);
  const count = pick.length;
  const images = new Float32Array(count * per);
  pick.forEach((src, k) => images.set(m.samples.images.subarray(src * per, (src + 1) * per), k * per));
  const labels = m.samples.labels ? Int32Array.from(pick, (i) => m.samples.labels![i]) : null;
  if (m.classNames && m.classNames.length !== m.classes) throw new InputError(`saveModel: ${m.classNames.length} class names for ${m.classes} classes`);
  if (m.mean.length !== c || m.std.length !== c) throw new InputError(`saveModel: mean and std need ${c} values each`);

  const weightBytes = encodeSafetensors(weightTensors(net, m.params, m.running), { format: 'pt', producer: `robot-nas ${VERSION}` });
  const sampleTensors = new Map<string, SafeTensor>([['images', { dtype: 'F32', shape: [count, c, h, w], data: images }]]);
  if (labels) sampleTensors.set('labels', { dtype: 'I64', shape: [count], data: BigInt64Array.from(labels, (v) => BigInt(v)) });
  const sampleBytes = encodeSafetensors(sampleTensors, { layout: 'NCHW', normalised: 'true' });
  const entry = (path: string, b: Uint8Array): FileEntry => ({ path, bytes: b.length, sha256: sha256(b) });

  const card: ModelCard = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    createdBy: `robot-nas ${VERSION}`,
    createdAt: new Date().toISOString(),
    space: m.space,
    arch,
    network: { channels: m.channels, cells: m.cells, params: countParams(net), flops: countMacs(net) },
    input: { shape: [c, h, w], layout: 'NCHW', dtype: 'float32' },
    classes: { count: m.classes, names: m.classNames ? [...m.classNames] : null },
    preprocessing: { colour: c === 1 ? 'grey' : 'rgb', resize: [h, w], mean: [...m.mean], std: [...m.std] },
    files: {
      weights: entry(WEIGHTS_FILE, weightBytes),
      samples: { ...entry(SAMPLES_FILE, sampleBytes), count, labels: labels ? Array.from(labels) : null },
    },
    training: m.training,
    accuracies: m.accuracies,
  };
  // What is written must load: the same checks as a reader's (cheap next to training).
  parseCard(JSON.parse(JSON.stringify(card)), MANIFEST_FILE);
  writeFolderAtomic(
    dir,
    new Map<string, Uint8Array | string>([
      [WEIGHTS_FILE, weightBytes],
      [SAMPLES_FILE, sampleBytes],
      [MANIFEST_FILE, JSON.stringify(card, null, 2) + '\n'],
    ]),
    MODEL_FOLDER,
  );
  return card;
}

function readChecked(dir: string, entry: FileEntry): Uint8Array {
  const file = join(dir, entry.path);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw inputError(file, undefined, errCode(e) === 'ENOENT' ? `missing (listed in ${MANIFEST_FILE})` : `cannot read (${errCode(e)})`);
  }
  if (bytes.length !== entry.bytes) throw inputError(file, undefined, `${bytes.length} bytes, ${MANIFEST_FILE} says ${entry.bytes} (truncated or replaced)`);
  if (sha256(bytes) !== entry.sha256) throw inputError(file, undefined, `content does not match the SHA-256 in ${MANIFEST_FILE} (corrupt or modified)`);
  return bytes;
}

function tensorOf(tensors: Map<string, SafeTensor>, name: string, shape: readonly number[], file: string): SafeTensor {
  const t = tensors.get(name);
  if (t === undefined) throw inputError(file, undefined, `tensor "${name}" is missing`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw inputError(file, undefined, `tensor "${name}" has shape [${t.shape.join(', ')}], the network needs [${shape.join(', ')}]`);
  }
  return t;
}

function floats(t: SafeTensor, name: string, file: string, check: (v: number) => boolean = Number.isFinite): Float32Array {
  if (t.dtype !== 'F32') throw inputError(file, undefined, `tensor "${name}" is ${t.dtype}, expected F32`);
  const v = t.data as Float32Array;
  if (!v.every(check)) throw inputError(file, undefined, `tensor "${name}" holds non-finite${check === Number.isFinite ? '' : ' or negative'} values`);
  return v;
}

/** Loads and validates a model folder (see the module comment). */
export function loadModel(dir: string): LoadedModel {
  const manifestFile = join(dir, MANIFEST_FILE);
  if (!existsSync(dir)) throw inputError(dir, undefined, 'model folder not found');
  if (!statSync(dir).isDirectory()) throw inputError(dir, undefined, `not a folder (a model is a folder holding ${MANIFEST_FILE})`);
  let text: string;
  try {
    text = readFileSync(manifestFile, 'utf8');
  } catch (e) {
    throw inputError(manifestFile, undefined, errCode(e) === 'ENOENT' ? 'missing: not a robot-nas model folder (save one with `robot-nas train … --save DIR`)' : `cannot read (${errCode(e)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw inputError(manifestFile, undefined, `not valid JSON (${(e as Error).message})`);
  }
  const card = parseCard(json, manifestFile);
  let net: Network;
  try {
    net = buildSpecNetwork({ space: card.space, arch: card.arch, channels: card.network.channels, cells: card.network.cells, classes: card.classes.count, inputShape: card.input.shape });
  } catch (e) {
    throw inputError(manifestFile, undefined, `the network it describes cannot be built: ${(e as Error).message}`);
  }
  if (countParams(net) !== card.network.params) {
    throw inputError(manifestFile, undefined, `field 'network.params' is ${card.network.params}, but the network it describes has ${countParams(net)} parameters`);
  }

  const weightsFile = join(dir, WEIGHTS_FILE);
  const weights = decodeSafetensors(readChecked(dir, card.files.weights), weightsFile);
  const params: ParamValues = new Map();
  const expected = new Set<string>();
  for (const p of net.params) {
    expected.add(p.name);
    params.set(p.name, floats(tensorOf(weights.tensors, p.name, p.shape, weightsFile), p.name, weightsFile));
  }
  const running: BnRunning = new Map();
  for (const bn of net.batchNorms) {
    const mean = runningMean(bn.name);
    const variance = runningVar(bn.name);
    expected.add(mean).add(variance);
    running.set(bn.name, {
      mean: floats(tensorOf(weights.tensors, mean, [bn.channels], weightsFile), mean, weightsFile),
      variance: floats(tensorOf(weights.tensors, variance, [bn.channels], weightsFile), variance, weightsFile, (v) => Number.isFinite(v) && v >= 0),
    });
  }
  const extra = [...weights.tensors.keys()].filter((k) => !expected.has(k));
  if (extra.length > 0) throw inputError(weightsFile, undefined, `tensor "${extra[0]}" does not belong to the network in ${MANIFEST_FILE}${extra.length > 1 ? ` (and ${extra.length - 1} more)` : ''}`);

  const samplesFile = join(dir, SAMPLES_FILE);
  const s = decodeSafetensors(readChecked(dir, card.files.samples), samplesFile).tensors;
  const count = card.files.samples.count;
  const images = floats(tensorOf(s, 'images', [count, ...card.input.shape], samplesFile), 'images', samplesFile);
  let labels: Int32Array | null = null;
  if (card.files.samples.labels) {
    const t = tensorOf(s, 'labels', [count], samplesFile);
    if (t.dtype !== 'I64') throw inputError(samplesFile, undefined, `tensor "labels" is ${t.dtype}, expected I64`);
    labels = Int32Array.from(t.data as BigInt64Array, (v) => Number(v));
    if (labels.some((v, i) => v !== card.files.samples.labels![i])) throw inputError(samplesFile, undefined, `tensor "labels" differs from files.samples.labels in ${MANIFEST_FILE}`);
  }
  return { dir, card, net, params, running, samples: { images, count, labels } };
}
