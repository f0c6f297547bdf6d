/**
 * Pickled benchmark files as released by RoBoT and by the zero-cost-proxies project:
 *
 * - RoBoT `nb2_cf10_hp12_info.p`: a list (index = NAS-Bench-201 API index) of dicts
 *   `{arch, valacc, cost}` — CIFAR-10 12-epoch validation accuracy and its training seconds;
 * - RoBoT `nb2_{cf10,cf100,im120}_test_accuracy.p`: a list of test accuracies, same indexing;
 * - zero-cost-proxies `nb2_{cf10,cf100,im120}_seed42_dlrandom_dlinfo1_initwnone_initbnone.p`:
 *   a STREAM of pickled dicts `{i, arch, logmeasures: {metric: value}, valacc, testacc, trainacc}`
 *   appended one `pickle.dump` at a time (read until EOF).
 *
 * Values may be Python floats or numpy scalars. Readers validate the structure and report the
 * entry (0-based list position / 1-based stream record) of anything unexpected.
 */
import { inputError } from '../util/errors.js';
import { NumpyArray, isDict, pyNumber, pyTypeName, readPickleFile, readPickleStreamFile } from '../formats/pickle.js';

export interface Hp12Info {
  readonly file: string;
  /** Architecture strings as written (NAS-Bench-201 canonical form), by API index. */
  readonly archs: readonly string[];
  readonly valacc: Float64Array;
  readonly cost: Float64Array;
}

export interface ZeroCostRecord {
  /** NAS-Bench-201 index (`i`), or the 0-based record number when absent. */
  readonly i: number;
  readonly arch: string;
  readonly metrics: ReadonlyMap<string, number>;
  readonly valacc: number;
  readonly testacc: number;
  readonly trainacc: number;
}

export interface ZeroCostStream {
  readonly file: string;
  readonly records: readonly ZeroCostRecord[];
}

function asList(v: unknown): unknown[] | undefined {
  if (Array.isArray(v)) return v;
  if (v instanceof NumpyArray && v.shape.length === 1) return v.data;
  return undefined;
}

/**
 * A number of an entry. Accuracies, costs and indices must be finite (a NaN or inf there would silently change what a
 * search finds); metric values (`finite` false) may be non-finite where the metric is undefined for a network.
 */
function num(file: string, where: string, v: unknown, optional: boolean, finite = true): number {
  if (v === undefined || v === null) {
    if (optional) return NaN;
    throw inputError(file, undefined, `${where}: missing, expected a number`);
  }
  const x = pyNumber(v);
  if (x === undefined) throw inputError(file, undefined, `${where}: expected a number, got ${pyTypeName(v)}`);
  if (finite && !Number.isFinite(x)) throw inputError(file, undefined, `${where}: expected a finite number, got ${x} (use None for an unknown value)`);
  return x;
}

/** Reads RoBoT's `nb2_cf10_hp12_info.p`. */
export function readHp12Info(file: string): Hp12Info {
  return hp12FromValue(readPickleFile(file), file);
}

/** Validates an unpickled hp12-info value (a list of {arch, valacc, cost} dicts). */
export function hp12FromValue(root: unknown, file: string): Hp12Info {
  const list = asList(root);
  if (list === undefined) {
    throw inputError(file, undefined, `expected a list of {arch, valacc, cost} dicts (RoBoT's hp12 info), got ${pyTypeName(root)}`);
  }
  const archs: string[] = new Array<string>(list.length);
  const valacc = new Float64Array(list.length);
  const cost = new Float64Array(list.length);
  for (let k = 0; k < list.length; k++) {
    const d = list[k];
    if (!isDict(d)) throw inputError(file, undefined, `entry ${k}: expected a dict with arch, valacc and cost, got ${pyTypeName(d)}`);
    const arch = d.get('arch');
    if (typeof arch !== 'string') {
      throw inputError(file, undefined, `entry ${k}, key 'arch': expected an architecture string, got ${pyTypeName(arch)}`);
    }
    archs[k] = arch;
    valacc[k] = num(file, `entry ${k}, key 'valacc'`, d.get('valacc'), false);
    cost[k] = num(file, `entry ${k}, key 'cost'`, d.get('cost'), true);
  }
  return { file, archs, valacc, cost };
}

/** Reads RoBoT's `nb2_<task>_test_accuracy.p` (a list of numbers by NAS-Bench-201 index). */
export function readTestAccuracy(file: string): Float64Array {
  return testAccuracyFromValue(readPickleFile(file), file);
}

/** Validates an unpickled test-accuracy list. */
export function testAccuracyFromValue(root: unknown, file: string): Float64Array {
  const list = asList(root);
  if (list === undefined) throw inputError(file, undefined, `expected a list of test accuracies, got ${pyTypeName(root)}`);
  const out = new Float64Array(list.length);
  for (let k = 0; k < list.length; k++) out[k] = num(file, `entry ${k}`, list[k], true);
  return out;
}

/** Reads a zero-cost-proxies release stream (`nb2_<task>_seed42_dlrandom_dlinfo1_initwnone_initbnone.p`). */
export function readZeroCostStream(file: string): ZeroCostStream {
  return zeroCostFromValues(readPickleStreamFile(file), file);
}

/** Validates the unpickled records of a zero-cost-proxies stream. */
export function zeroCostFromValues(items: readonly unknown[], file: string): ZeroCostStream {
  const records: ZeroCostRecord[] = [];
  items.forEach((d, k) => {
    const where = `record ${k + 1}`;
    if (!isDict(d)) {
      throw inputError(file, undefined, `${where}: expected a dict {i, arch, logmeasures, valacc, testacc, trainacc}, got ${pyTypeName(d)}`);
    }
    const arch = d.get('arch');
    if (typeof arch !== 'string') throw inputError(file, undefined, `${where}, key 'arch': expected an architecture string, got ${pyTypeName(arch)}`);
    const lm = d.get('logmeasures');
    if (!isDict(lm)) throw inputError(file, undefined, `${where}, key 'logmeasures': expected a dict of metric values, got ${pyTypeName(lm)}`);
    const metrics = new Map<string, number>();
    for (const [name, v] of lm) {
      metrics.set(String(name), num(file, `${where}, logmeasures['${String(name)}']`, v, true, false));
    }
    const iv = d.get('i');
    const i = iv === undefined ? k : num(file, `${where}, key 'i'`, iv, false);
    records.push({
      i,
      arch,
      metrics,
      valacc: num(file, `${where}, key 'valacc'`, d.get('valacc'), true),
      testacc: num(file, `${where}, key 'testacc'`, d.get('testacc'), true),
      trainacc: num(file, `${where}, key 'trainacc'`, d.get('trainacc'), true),
    });
  });
  if (records.length === 0) throw inputError(file, undefined, 'the stream holds no records');
  return { file, records };
}
