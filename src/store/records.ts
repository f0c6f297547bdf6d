import { isPlainObject } from '../util/key.js';
import type { StoredResult } from './types.js';

/** Whether `r` has the shape of a StoredResult. */
export function isStoredResult(r: unknown): r is StoredResult {
  if (!isPlainObject(r)) return false;
  return (
    typeof r.key === 'string' &&
    r.key !== '' &&
    typeof r.arch === 'string' &&
    typeof r.value === 'number' &&
    Number.isFinite(r.value) &&
    typeof r.cost === 'number' &&
    Number.isFinite(r.cost) &&
    r.cost >= 0 &&
    typeof r.finished === 'string' &&
    (r.details === undefined || isPlainObject(r.details))
  );
}

/** The record with a fixed field order (so lines look alike) and no stray fields. */
export function cleanRecord(r: StoredResult): StoredResult {
  const out: StoredResult = { key: r.key, arch: r.arch, value: r.value, cost: r.cost, finished: r.finished };
  if (r.details !== undefined) out.details = r.details;
  return out;
}
