import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getSpace, nb201Space, tnb101MicroSpace, tnb101MacroSpace, SPACES } from '../../src/spaces/index.js';
import { InputError } from '../../src/util/errors.js';

test('getSpace returns each space by id', () => {
  assert.equal(getSpace('nb201'), nb201Space);
  assert.equal(getSpace('tnb101-micro'), tnb101MicroSpace);
  assert.equal(getSpace('tnb101-macro'), tnb101MacroSpace);
  assert.equal(SPACES.length, 3);
});

test('getSpace rejects an unknown id with an InputError listing the valid ones', () => {
  assert.throws(
    () => getSpace('nb101'),
    (e: unknown) => e instanceof InputError && /nb101/.test(e.message) && /nb201, tnb101-micro, tnb101-macro/.test(e.message),
  );
});
