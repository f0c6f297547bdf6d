import { InvalidArgumentError } from 'commander';

/** `10-19`, `1,2,5`, `7`, or a mix (`1-3,9`) → seed list. */
export function parseSeeds(text: string): number[] {
  const seeds: number[] = [];
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(-?\d+)(?:-(-?\d+))?$/.exec(part);
    if (!m) throw new InvalidArgumentError(`expected seeds like 10-19 or 1,2,3; got '${text}'`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new InvalidArgumentError(`seed range '${part}' is empty (end before start)`);
    if (b - a > 100000) throw new InvalidArgumentError(`seed range '${part}' is too large`);
    for (let s = a; s <= b; s++) seeds.push(s);
  }
  if (seeds.length === 0) throw new InvalidArgumentError('expected at least one seed');
  return seeds;
}

export function parsePositiveInt(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`expected a positive integer, got '${text}'`);
  }
  return n;
}

/** Comma-separated list (empty items dropped). */
export function parseList(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

/** A choice among fixed values, with the list in the error. */
export function choice<T extends string>(values: readonly T[]) {
  return (text: string): T => {
    if (!(values as readonly string[]).includes(text)) {
      throw new InvalidArgumentError(`expected one of ${values.join(', ')}; got '${text}'`);
    }
    return text as T;
  };
}
