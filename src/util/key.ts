/** Content keys: the hash of a value's canonical JSON, so equal values (in any key order) get equal keys. */
import { createHash } from 'node:crypto';

/** A plain `{…}` object (not an array, class instance or null). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** JSON with object keys sorted at every level, rejecting values JSON would silently change. */
function canonical(v: unknown, path: string, seen: Set<object>): string {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`queryKey: non-finite number at ${path}`);
    return JSON.stringify(v);
  }
  if (typeof v !== 'object') throw new Error(`queryKey: ${typeof v} value at ${path}`);
  if (seen.has(v)) throw new Error(`queryKey: cyclic value at ${path}`);
  seen.add(v);
  let s: string;
  if (Array.isArray(v)) {
    s = `[${v.map((x, i) => canonical(x, `${path}[${i}]`, seen)).join(',')}]`;
  } else if (isPlainObject(v)) {
    const keys = Object.keys(v).sort();
    s = `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k], `${path}.${k}`, seen)}`).join(',')}}`;
  } else {
    throw new Error(`queryKey: unsupported object at ${path}`);
  }
  seen.delete(v);
  return s;
}

/** Hex SHA-256 of a canonical JSON of `parts`: independent of object key order, not of array order. */
export function queryKey(parts: unknown): string {
  return createHash('sha256').update(canonical(parts, '$', new Set())).digest('hex');
}
