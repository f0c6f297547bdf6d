import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { InputError } from '../../src/util/errors.js';

/** A fresh temporary folder, removed when the test file ends. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `robot-nas-${prefix}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Asserts that `f` throws an InputError whose message matches every pattern. */
export function throwsInput(f: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

/** Asserts |a − b| ≤ tol. */
export function near(a: number, b: number, tol = 1e-5, msg = ''): void {
  assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b}`);
}

/** Escapes a path for use in a RegExp. */
export const re = (s: string): RegExp => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
