// Loading an exported TF.js LayersModel with @tensorflow/tfjs-layers — no robot-nas needed, only the export folder.
// Run: npx robot-nas export --model MODEL --format tfjs --out my-tfjs && npx tsx examples/tfjs-load.ts my-tfjs
// (In a browser: tf.loadLayersModel('https://…/model.json'); with @tensorflow/tfjs-node: 'file://…/model.json'.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';

const dir = process.argv[2] ?? 'my-tfjs';

/** Reads model.json and its weight shards from a folder (what a file:// URL does with tfjs-node). */
const fromFolder = (folder: string): tf.io.IOHandler => ({
  load: async () => {
    const json = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8'));
    const shards = Buffer.concat(json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths.map((p) => readFileSync(join(folder, p)))));
    return {
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g: { weights: tf.io.WeightsManifestEntry[] }) => g.weights),
      weightData: shards.buffer.slice(shards.byteOffset, shards.byteOffset + shards.byteLength),
    };
  },
});

await tf.setBackend('cpu');
const model = await tfl.loadLayersModel(fromFolder(dir));
const ref = JSON.parse(readFileSync(join(dir, 'sample-logits.json'), 'utf8')) as { input: { shape: [number, number, number, number] }; logits: number[][]; labels: number[] | null; classNames: string[] | null };
const bytes = readFileSync(join(dir, 'sample-input.bin')); // float32 NCHW, already normalised
const x = tf.tensor4d(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), ref.input.shape);

const y = model.predict(x) as tf.Tensor2D;
const rows = y.arraySync();
const maxDiff = Math.max(...rows.flatMap((row, i) => row.map((v, j) => Math.abs(v - ref.logits[i][j]))));
const predicted = (tf.argMax(y, 1).arraySync() as number[]).map((c) => ref.classNames?.[c] ?? String(c));
console.log(`tfjs-layers ${tfl.version_layers} (${tf.getBackend()} backend): ${model.layers.length} layers, input [${model.inputs[0].shape.map((d) => d ?? 'batch').join(', ')}] → ${model.outputNames[0]} [${y.shape.join(', ')}]`);
console.log(`predicted ${predicted.join(' ')}`);
if (ref.labels) console.log(`labels    ${ref.labels.map((l) => ref.classNames?.[l] ?? String(l)).join(' ')}`);
console.log(`max |logit − robot-nas engine| = ${maxDiff.toExponential(2)}`);
