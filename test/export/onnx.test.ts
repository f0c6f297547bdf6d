import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { exportOnnx, ONNX_OPSET } from '../../src/export/onnx.js';
import { onnxRoot } from '../../src/export/onnx-schema.js';
import { predict } from '../../src/train/step.js';
import { ALL_OPS_CELL, EXPORT_CASES, maxAbsDiff, randomModel, realImages } from './helpers.js';

// ONNX Runtime (CPU build from the npm package) against the engine, on real images, both spaces.

for (const c of EXPORT_CASES) {
  test(`onnx export: onnxruntime-node logits equal the engine's within 1e-4 (${c.name})`, async () => {
    const m = randomModel({ ...c.spec, inputShape: [...c.spec.inputShape] }, 11);
    const n = 8;
    const { images } = realImages(c.data, n);
    const ref = predict(m.net, m.params, m.running, images, n);
    const bytes = exportOnnx(m.net, m.params, m.running, { producerVersion: 'test', metadata: { arch: c.spec.arch } });
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
    assert.deepEqual(session.inputNames, ['input']);
    assert.deepEqual(session.outputNames, ['logits']);
    // The batch dimension is symbolic: run 8 images, then 1.
    const out = await session.run({ input: new ort.Tensor('float32', images, [n, ...c.spec.inputShape]) });
    assert.deepEqual(out.logits.dims, [n, 10]);
    const d = maxAbsDiff(out.logits.data as Float32Array, ref);
    assert.ok(d < 1e-4, `max |Δlogit| ${d}`);
    const per = images.length / n;
    const one = await session.run({ input: new ort.Tensor('float32', images.slice(0, per), [1, ...c.spec.inputShape]) });
    assert.ok(maxAbsDiff(one.logits.data as Float32Array, ref.subarray(0, 10)) < 1e-4);
    // Changing one weight changes the logits: the runtime really uses the exported weights.
    const w = m.params.get(m.net.params[0].name)!;
    w[0] += 1;
    const shifted = await (await ort.InferenceSession.create(exportOnnx(m.net, m.params, m.running, { producerVersion: 'test' }))).run({ input: new ort.Tensor('float32', images, [n, ...c.spec.inputShape]) });
    assert.ok(maxAbsDiff(shifted.logits.data as Float32Array, ref) > 1e-4);
  });
}

test('onnx export: the file decodes with the schema as opset 13, IR 7, one input and one output, metadata kept', async () => {
  // Every edge reaches the output here (in ALL_OPS_CELL node 2 feeds only a `none` edge, so its conv is dropped).
  const arch = '|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|';
  const m = randomModel({ space: 'nb201', arch, channels: 2, cells: 1, classes: 3, inputShape: [1, 8, 8] }, 1);
  const bytes = exportOnnx(m.net, m.params, m.running, { producerVersion: '9.9.9', metadata: { arch } });
  const model = onnxRoot().lookupType('onnx.ModelProto').toObject(onnxRoot().lookupType('onnx.ModelProto').decode(bytes), { longs: Number }) as {
    ir_version: number;
    opset_import: { version: number }[];
    producer_version: string;
    graph: { input: { name: string }[]; output: { name: string }[]; node: { op_type: string }[]; initializer: { name: string }[] };
    metadata_props: { key: string; value: string }[];
  };
  assert.equal(model.ir_version, 7);
  assert.equal(model.opset_import[0].version, ONNX_OPSET);
  assert.equal(model.producer_version, '9.9.9');
  assert.deepEqual(model.graph.input.map((i) => i.name), ['input']);
  assert.deepEqual(model.graph.output.map((o) => o.name), ['logits']);
  assert.deepEqual(model.metadata_props, [{ key: 'arch', value: arch }]);
  // Every parameter is an initializer under its PyTorch name.
  const inits = new Set(model.graph.initializer.map((i) => i.name));
  for (const p of m.net.params) assert.ok(inits.has(p.name), p.name);
  assert.ok(model.graph.node.some((n) => n.op_type === 'AveragePool'));
  assert.ok(model.graph.node.some((n) => n.op_type === 'ConstantOfShape'), 'the node fed only by none is zeros');
});
