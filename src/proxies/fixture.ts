import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Network } from '../networks/layers.js';
import { buildNb201 } from '../networks/nb201.js';
import { diffParamSpecs, paramSize, paramsFromBuffer, type ParamValues } from '../networks/params.js';
import { InputError } from '../util/errors.js';
import { REFERENCE_METRICS, type Batch } from './types.js';

/** manifest.json of a metrics fixture (shared/fixtures/metrics/README.md). */
export interface FixtureManifest {
  arch: string;
  channels: number;
  cells_per_stage: number;
  num_classes: number;
  batch: number;
  input_shape: [number, number, number, number];
  params: { name: string; shape: number[] }[];
  metrics: Record<string, number>;
}

export interface Fixture {
  dir: string;
  manifest: FixtureManifest;
  network: Network;
  params: ParamValues;
  batch: Batch;
}

function readBinary(file: string, expectedBytes: number, what: string): Buffer {
  if (!existsSync(file)) throw new InputError(`${file}: missing (expected ${what})`);
  const buf = readFileSync(file);
  if (buf.length !== expectedBytes) {
    throw new InputError(`${file}: expected ${expectedBytes} bytes (${what}), got ${buf.length}`);
  }
  return buf;
}

/** Little-endian float32 / int32 views that do not depend on the Buffer's alignment. */
function float32s(buf: Buffer): Float32Array {
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

function int32s(buf: Buffer): Int32Array {
  const out = new Int32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readInt32LE(i * 4);
  return out;
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

function checkManifest(file: string, m: unknown): FixtureManifest {
  const bad = (what: string): never => {
    throw new InputError(`${file}: ${what}`);
  };
  if (typeof m !== 'object' || m === null) return bad('expected a JSON object');
  const o = m as Record<string, unknown>;
  if (typeof o.arch !== 'string') bad('"arch" must be an NB201 cell string');
  for (const k of ['channels', 'cells_per_stage', 'num_classes', 'batch'] as const) {
    if (!isPositiveInt(o[k])) bad(`"${k}" must be a positive integer, got ${JSON.stringify(o[k])}`);
  }
  const shape = o.input_shape;
  if (!Array.isArray(shape) || shape.length !== 4 || !shape.every(isPositiveInt)) {
    bad(`"input_shape" must be [batch, channels, height, width] of positive integers, got ${JSON.stringify(shape)}`);
  }
  const s = shape as number[];
  if (s[0] !== o.batch) bad(`"input_shape"[0] (${s[0]}) must equal "batch" (${String(o.batch)})`);
  if (!Array.isArray(o.params)) bad('"params" must be a list of {name, shape}');
  for (const [i, p] of (o.params as unknown[]).entries()) {
    const q = p as { name?: unknown; shape?: unknown };
    if (typeof q?.name !== 'string' || !Array.isArray(q.shape) || !q.shape.every(isPositiveInt)) {
      bad(`"params"[${i}] must be {"name": string, "shape": [positive integers]}`);
    }
  }
  if (o.metrics !== undefined && (typeof o.metrics !== 'object' || o.metrics === null)) bad('"metrics" must be an object');
  return { ...(o as unknown as FixtureManifest), metrics: (o.metrics ?? {}) as Record<string, number> };
}

/**
 * Loads a metrics fixture folder (manifest.json, params.bin, input.bin, targets.bin) and builds its network;
 * every inconsistency is an InputError naming the file and what was expected.
 */
export function loadFixture(dir: string): Fixture {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`${dir}: not a fixture folder (expected a directory with manifest.json)`);
  const manifestFile = join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) throw new InputError(`${manifestFile}: missing (expected the fixture manifest)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestFile, 'utf8'));
  } catch (err) {
    throw new InputError(`${manifestFile}: not valid JSON (${(err as Error).message})`);
  }
  const manifest = checkManifest(manifestFile, raw);
  const [n, c, h, w] = manifest.input_shape;

  let network: Network;
  try {
    network = buildNb201({
      arch: manifest.arch,
      channels: manifest.channels,
      cellsPerStage: manifest.cells_per_stage,
      numClasses: manifest.num_classes,
      inputShape: [c, h, w],
    });
  } catch (err) {
    throw new InputError(`${manifestFile}: ${(err as Error).message}`);
  }
  const mismatch = diffParamSpecs(network.params, manifest.params);
  if (mismatch !== null) throw new InputError(`${manifestFile}: "params" do not match the network of "arch": ${mismatch}`);

  const nParams = manifest.params.reduce((s, p) => s + paramSize(p.shape), 0);
  const params = paramsFromBuffer(network, float32s(readBinary(join(dir, 'params.bin'), nParams * 4, `${nParams} float32 parameters in manifest order`)));
  const x = float32s(readBinary(join(dir, 'input.bin'), n * c * h * w * 4, `float32 NCHW input of shape [${manifest.input_shape.join(', ')}]`));
  const targetsFile = join(dir, 'targets.bin');
  const targets = int32s(readBinary(targetsFile, n * 4, `${n} int32 labels`));
  for (const [i, t] of targets.entries()) {
    if (t < 0 || t >= manifest.num_classes) throw new InputError(`${targetsFile}: label ${i} is ${t}, expected 0..${manifest.num_classes - 1}`);
  }
  for (const k of REFERENCE_METRICS) {
    const v = manifest.metrics[k];
    if (v !== undefined && typeof v !== 'number') throw new InputError(`${manifestFile}: metrics.${k} must be a number`);
  }
  return { dir, manifest, network, params, batch: { shape: [n, c, h, w], x, targets } };
}
