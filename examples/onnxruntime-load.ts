// Loading an exported ONNX model in onnxruntime-node — no robot-nas needed, only the export folder.
// Run: npx robot-nas export --model MODEL --format onnx --out my-onnx && npx tsx examples/onnxruntime-load.ts my-onnx
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

const dir = process.argv[2] ?? 'my-onnx';
const ref = JSON.parse(readFileSync(join(dir, 'sample-logits.json'), 'utf8')) as { input: { shape: number[] }; logits: number[][]; labels: number[] | null; classNames: string[] | null };
const bytes = readFileSync(join(dir, 'sample-input.bin')); // float32 NCHW, already normalised
const x = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));

const session = await ort.InferenceSession.create(join(dir, 'model.onnx'), { executionProviders: ['cpu'] });
const { logits } = await session.run({ input: new ort.Tensor('float32', x, ref.input.shape) });
const [n, k] = logits.dims as number[];
const y = logits.data as Float32Array;

let maxDiff = 0;
const predicted: string[] = [];
for (let i = 0; i < n; i++) {
  const row = Array.from(y.subarray(i * k, (i + 1) * k));
  row.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - ref.logits[i][j]))));
  const best = row.indexOf(Math.max(...row));
  predicted.push(ref.classNames?.[best] ?? String(best));
}
console.log(`onnxruntime-node ${ort.env.versions.node}: ${session.inputNames[0]} [${ref.input.shape.join(', ')}] → ${session.outputNames[0]} [${logits.dims.join(', ')}]`);
console.log(`predicted ${predicted.join(' ')}`);
if (ref.labels) console.log(`labels    ${ref.labels.map((l) => ref.classNames?.[l] ?? String(l)).join(' ')}`);
console.log(`max |logit − robot-nas engine| = ${maxDiff.toExponential(2)}`);
