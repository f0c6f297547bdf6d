import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from '../../src/model/safetensors.js';
import { InputError } from '../../src/util/errors.js';

const tensorArb = fc
  .array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 3 })
  .chain((shape) => {
    const n = shape.reduce((p, d) => p * d, 1);
    return fc.oneof(
      fc.array(fc.float({ noNaN: true }), { minLength: n, maxLength: n }).map((v): SafeTensor => ({ dtype: 'F32', shape, data: Float32Array.from(v) })),
      fc.array(fc.integer(), { minLength: n, maxLength: n }).map((v): SafeTensor => ({ dtype: 'I32', shape, data: Int32Array.from(v) })),
      fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { minLength: n, maxLength: n }).map((v): SafeTensor => ({ dtype: 'I64', shape, data: BigInt64Array.from(v) })),
    );
  });

test('safetensors: decode(encode(tensors)) is the identity, header 8-byte aligned (property)', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s !== '__metadata__'), tensorArb), { selector: (t) => t[0], maxLength: 6 }), fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })), (entries, meta) => {
      const bytes = encodeSafetensors(new Map(entries), meta);
      const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      assert.equal(n % 8, 0);
      const { tensors, metadata } = decodeSafetensors(bytes, 'x.safetensors');
      assert.deepEqual(metadata, Object.fromEntries(Object.entries(meta)));
      // (JSON objects put integer-like keys first, so only the set of names is kept, not their order)
      assert.deepEqual([...tensors.keys()].sort(), entries.map((e) => e[0]).sort());
      for (const [name, t] of entries) {
        const d = tensors.get(name)!;
        assert.equal(d.dtype, t.dtype);
        assert.deepEqual(d.shape, t.shape);
        assert.deepEqual(Array.from(d.data as ArrayLike<unknown>), Array.from(t.data as ArrayLike<unknown>));
      }
    }),
    { numRuns: 200 },
  );
});

test('safetensors: the layout is the published one (header length, JSON header, raw little-endian data)', () => {
  const bytes = encodeSafetensors(new Map([['w', { dtype: 'F32', shape: [2], data: Float32Array.of(1, -2) }]]));
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  assert.deepEqual(header, { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } });
  assert.deepEqual(Array.from(new Float32Array(bytes.slice(8 + n).buffer)), [1, -2]);
});

test('safetensors: corrupt files are InputErrors naming the file and the problem', () => {
  const good = encodeSafetensors(new Map([['a', { dtype: 'F32', shape: [3], data: Float32Array.of(1, 2, 3) }], ['b', { dtype: 'F32', shape: [1], data: Float32Array.of(4) }]]));
  const n = Number(new DataView(good.buffer).getBigUint64(0, true));
  const withHeader = (h: object, data: Uint8Array): Uint8Array => {
    const json = new TextEncoder().encode(JSON.stringify(h));
    const out = new Uint8Array(8 + json.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    out.set(data, 8 + json.length);
    return out;
  };
  const data = good.slice(8 + n);
  const cases: [Uint8Array, RegExp][] = [
    [good.slice(0, 5), /shorter than the 8-byte header length/],
    [good.slice(0, good.length - 4), /truncated/],
    [(() => { const b = good.slice(); new DataView(b.buffer).setBigUint64(0, 1n << 40n, true); return b; })(), /header length .* exceeds the file/],
    [(() => { const b = good.slice(); b[8] = 0x5b; return b; })(), /header is not JSON|not a JSON object/],
    [withHeader({ a: { dtype: 'F16', shape: [3], data_offsets: [0, 6] } }, data.slice(0, 6)), /dtype "F16"/],
    [withHeader({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data.slice(0, 8)), /8 bytes for shape \[3\] F32/],
    [withHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data.slice(0, 8)), /starts at byte 4 of the data, expected 0/],
    [withHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, data.slice(0, 8)), /4 bytes after the last tensor/],
    [withHeader({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, data.slice(0, 4)), /shape must be a list of non-negative integers/],
  ];
  for (const [bytes, re] of cases) {
    assert.throws(() => decodeSafetensors(bytes, 'dir/w.safetensors'), (e: unknown) => e instanceof InputError && /^dir\/w\.safetensors: not a valid safetensors file: /.test(e.message) && re.test(e.message));
  }
});
