import assert from 'node:assert/strict';
import { InputError } from '../../src/util/errors.js';

/** An `assert.throws` validator: the error is an InputError whose message matches `re`. */
export function inputErr(re: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  };
}
