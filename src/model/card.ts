/**
 * The model card: `manifest.json` of a saved model folder. It says what the network is (space, architecture,
 * size), what it expects (input shape, preprocessing), what it outputs (classes and their names), how it was
 * trained and how well it did, and which files hold its weights and sample images (with sizes and SHA-256).
 * `parseCard` checks every field and names the first bad one; no file access here.
 */
import { inputError } from '../util/errors.js';

export const MODEL_FORMAT = 'robot-nas-model';
/** Bumped when a field changes meaning or a required field is added; loaders refuse other versions. */
export const MODEL_FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';
export const WEIGHTS_FILE = 'weights.safetensors';
export const SAMPLES_FILE = 'samples.safetensors';

export type ModelSpace = 'nb201' | 'darts';

export interface FileEntry {
  path: string;
  bytes: number;
  sha256: string;
}

export interface Preprocessing {
  /** 'grey' for 1-channel models (luminance of RGB input), 'rgb' for 3. */
  colour: 'grey' | 'rgb';
  /** Images are squashed to [height, width] (area averaging when shrinking, bilinear when enlarging). */
  resize: [number, number];
  /** Pixel values are divided by 255, then (x − mean[c]) / std[c]. */
  mean: number[];
  std: number[];
}

/** How the network was trained and on what: enough to rebuild the same data split. */
export interface TrainingRecord {
  dataset: string;
  /** Dataset folder given at training time (null: the dataset's default location). */
  data: string | null;
  trainCount: number;
  validCount: number;
  testCount: number | null;
  validFraction: number;
  splitSeed: number;
  trainLimit: number | null;
  validLimit: number | null;
  testLimit: number | null;
  /** Working image size and channels asked for at training time (absent or null: the images' own). */
  imageSize?: number | null;
  imageChannels?: number | null;
  /** SHA-256 prefix of the train + validation images (as the query cache keys them). */
  fingerprint: string;
  epochs: number;
  batchSize: number;
  lr: number;
  lrMin: number;
  momentum: number;
  weightDecay: number;
  gradClip: number;
  augment: { pad: number; flip: boolean } | null;
  seed: number;
  /** Seed the weights, batch order and augmentation were drawn from. */
  trainingSeed: number;
  trainingCodeVersion: number;
  seconds: number;
  /** Why the training counts as diverged (e.g. 'chance accuracy'), null when it trained normally. */
  divergence: string | null;
}

export interface Accuracies {
  /** Last epoch, training mode (%). */
  train: number | null;
  validation: number | null;
  test: number | null;
}

export interface ModelCard {
  format: typeof MODEL_FORMAT;
  formatVersion: typeof MODEL_FORMAT_VERSION;
  createdBy: string;
  createdAt: string;
  space: ModelSpace;
  /** Canonical NB201 cell string or DARTS genotype (Python Genotype text). */
  arch: string;
  /** nb201: C and N (cells per stage); darts: initial channels and number of cells. */
  network: { channels: number; cells: number; params: number; flops: number };
  input: { shape: [number, number, number]; layout: 'NCHW'; dtype: 'float32' };
  classes: { count: number; names: string[] | null };
  preprocessing: Preprocessing;
  files: { weights: FileEntry; samples: FileEntry & { count: number; labels: number[] | null } };
  /** Null for a network not trained by robot-nas (e.g. a library caller's own weights). */
  training: TrainingRecord | null;
  accuracies: Accuracies;
}

/** Reads fields of a JSON object, throwing an InputError `file: field 'a.b' …` at the first wrong one. */
class Fields {
  constructor(
    private readonly file: string,
    private readonly obj: Record<string, unknown>,
    private readonly prefix = '',
  ) {}

  fail(key: string, expected: string): never {
    const v = this.obj[key];
    const got = v === undefined ? 'it is missing' : `got ${JSON.stringify(v)?.slice(0, 80)}`;
    throw inputError(this.file, undefined, `field '${this.prefix}${key}' must be ${expected}; ${got}`);
  }

  has(key: string): boolean {
    return key in this.obj;
  }

  isNull(key: string): boolean {
    return this.obj[key] === null;
  }

  object(key: string): Fields {
    const v = this.obj[key];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(key, 'an object');
    return new Fields(this.file, v as Record<string, unknown>, `${this.prefix}${key}.`);
  }

  nullableObject(key: string): Fields | null {
    return this.obj[key] === null ? null : this.object(key);
  }

  string(key: string): string {
    const v = this.obj[key];
    if (typeof v !== 'string' || v === '') this.fail(key, 'a non-empty string');
    return v as string;
  }

  nullableString(key: string): string | null {
    return this.obj[key] === null ? null : this.string(key);
  }

  literal<T extends string | number>(key: string, values: readonly T[]): T {
    const v = this.obj[key] as T;
    if (!values.includes(v)) this.fail(key, values.map((x) => JSON.stringify(x)).join(' or '));
    return v;
  }

  number(key: string, check: (v: number) => boolean = () => true, expected = 'a finite number'): number {
    const v = this.obj[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) this.fail(key, expected);
    return v as number;
  }

  int(key: string, min = 0): number {
    return this.number(key, (v) => Number.isSafeInteger(v) && v >= min, `an integer ≥ ${min}`);
  }

  anyInt(key: string): number {
    return this.number(key, Number.isSafeInteger, 'an integer');
  }

  nullableInt(key: string, min = 0): number | null {
    return this.obj[key] === null ? null : this.int(key, min);
  }

  percent(key: string): number | null {
    return this.obj[key] === null ? null : this.number(key, (v) => v >= 0 && v <= 100, 'a percentage in 0..100 or null');
  }

  bool(key: string): boolean {
    const v = this.obj[key];
    if (typeof v !== 'boolean') this.fail(key, 'true or false');
    return v as boolean;
  }

  numbers(key: string, length: number | undefined, check: (v: number) => boolean, expected: string): number[] {
    const v = this.obj[key];
    if (!Array.isArray(v) || (length !== undefined && v.length !== length) || !v.every((x) => typeof x === 'number' && Number.isFinite(x) && check(x))) {
      this.fail(key, `a list of ${length ?? 'any number of'} ${expected}`);
    }
    return [...(v as number[])];
  }

  strings(key: string, length: number): string[] {
    const v = this.obj[key];
    if (!Array.isArray(v) || v.length !== length || !v.every((x) => typeof x === 'string')) this.fail(key, `a list of ${length} strings`);
    return [...(v as string[])];
  }
}

function fileEntry(f: Fields, expectedPath: string): FileEntry {
  const path = f.literal('path', [expectedPath]);
  const bytes = f.int('bytes', 1);
  const sha256 = f.string('sha256');
  if (!/^[0-9a-f]{64}$/.test(sha256)) f.fail('sha256', 'a SHA-256 digest (64 lowercase hex digits)');
  return { path, bytes, sha256 };
}

/**
 * Validates a parsed manifest and returns it typed. Structural checks only: that the architecture builds and
 * the weights fit it is checked by the loader (store.ts), which knows the network.
 */
export function parseCard(json: unknown, file: string): ModelCard {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw inputError(file, undefined, 'not a JSON object');
  const f = new Fields(file, json as Record<string, unknown>);
  if ((json as Record<string, unknown>).format !== MODEL_FORMAT) f.fail('format', `"${MODEL_FORMAT}" (this is not a robot-nas model manifest)`);
  const version = f.int('formatVersion', 1);
  if (version !== MODEL_FORMAT_VERSION) {
    throw inputError(file, undefined, `model format version ${version} is not supported by this robot-nas (reads version ${MODEL_FORMAT_VERSION}); ${version > MODEL_FORMAT_VERSION ? 'upgrade robot-nas' : 'save the model again'}`);
  }
  const createdBy = f.string('createdBy');
  const createdAt = f.string('createdAt');
  const space = f.literal('space', ['nb201', 'darts'] as const);
  const arch = f.string('arch');

  const n = f.object('network');
  const network = { channels: n.int('channels', 1), cells: n.int('cells', 1), params: n.int('params', 1), flops: n.int('flops', 0) };

  const i = f.object('input');
  const shape = i.numbers('shape', 3, (v) => Number.isSafeInteger(v) && v >= 1, 'positive integers [C, H, W]') as [number, number, number];
  if (shape[0] !== 1 && shape[0] !== 3) i.fail('shape', 'a [C, H, W] with C = 1 (grey) or 3 (RGB)');
  const input = { shape, layout: i.literal('layout', ['NCHW'] as const), dtype: i.literal('dtype', ['float32'] as const) };

  const c = f.object('classes');
  const count = c.int('count', 1);
  const names = c.isNull('names') ? null : c.strings('names', count);

  const p = f.object('preprocessing');
  const colour = p.literal('colour', ['grey', 'rgb'] as const);
  if ((colour === 'grey') !== (shape[0] === 1)) p.fail('colour', `${shape[0] === 1 ? '"grey"' : '"rgb"'} for a ${shape[0]}-channel input`);
  const resize = p.numbers('resize', 2, (v) => Number.isSafeInteger(v) && v >= 1, 'positive integers [height, width]') as [number, number];
  if (resize[0] !== shape[1] || resize[1] !== shape[2]) p.fail('resize', `[${shape[1]}, ${shape[2]}] (the input's height and width)`);
  const preprocessing: Preprocessing = {
    colour,
    resize,
    mean: p.numbers('mean', shape[0], () => true, 'finite numbers (one per channel)'),
    std: p.numbers('std', shape[0], (v) => v > 0, 'positive numbers (one per channel)'),
  };

  const fl = f.object('files');
  const weights = fileEntry(fl.object('weights'), WEIGHTS_FILE);
  const sf = fl.object('samples');
  const samplesEntry = fileEntry(sf, SAMPLES_FILE);
  const sampleCount = sf.int('count', 1);
  const labels = sf.isNull('labels') ? null : sf.numbers('labels', sampleCount, (v) => Number.isInteger(v) && v >= 0 && v < count, `class indices in 0..${count - 1}`);

  const t = f.nullableObject('training');
  const training: TrainingRecord | null = t && {
    dataset: t.string('dataset'),
    data: t.nullableString('data'),
    trainCount: t.int('trainCount', 1),
    validCount: t.int('validCount', 1),
    testCount: t.nullableInt('testCount', 0),
    validFraction: t.number('validFraction', (v) => v > 0 && v < 1, 'a number between 0 and 1'),
    splitSeed: t.int('splitSeed', 0),
    trainLimit: t.nullableInt('trainLimit', 1),
    validLimit: t.nullableInt('validLimit', 1),
    testLimit: t.nullableInt('testLimit', 1),
    ...(t.has('imageSize') ? { imageSize: t.nullableInt('imageSize', 1) } : {}),
    ...(t.has('imageChannels') ? { imageChannels: t.nullableInt('imageChannels', 1) } : {}),
    fingerprint: t.string('fingerprint'),
    epochs: t.int('epochs', 1),
    batchSize: t.int('batchSize', 1),
    lr: t.number('lr', (v) => v >= 0, 'a number ≥ 0'),
    lrMin: t.number('lrMin', (v) => v >= 0, 'a number ≥ 0'),
    momentum: t.number('momentum', (v) => v >= 0, 'a number ≥ 0'),
    weightDecay: t.number('weightDecay', (v) => v >= 0, 'a number ≥ 0'),
    gradClip: t.number('gradClip', (v) => v >= 0, 'a number ≥ 0'),
    augment: (() => {
      const a = t.nullableObject('augment');
      return a && { pad: a.int('pad', 0), flip: a.bool('flip') };
    })(),
    seed: t.int('seed', 0),
    trainingSeed: t.anyInt('trainingSeed'),
    trainingCodeVersion: t.int('trainingCodeVersion', 1),
    seconds: t.number('seconds', (v) => v >= 0, 'a number ≥ 0'),
    divergence: t.nullableString('divergence'),
  };

  const a = f.object('accuracies');
  const accuracies = { train: a.percent('train'), validation: a.percent('validation'), test: a.percent('test') };

  return {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    createdBy,
    createdAt,
    space,
    arch,
    network,
    input,
    classes: { count, names },
    preprocessing,
    files: { weights, samples: { ...samplesEntry, count: sampleCount, labels } },
    training,
    accuracies,
  };
}

/** Display name of class k: its name when known, else its index. */
export function className(card: ModelCard, k: number): string {
  return card.classes.names?.[k] ?? String(k);
}
