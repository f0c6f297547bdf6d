import { Command, Option } from 'commander';
import { DATASET_NAMES } from '../data/index.js';
import { CacheFile, type CacheMeta } from '../data/cache.js';
import { datasetParts, openPart } from '../data/images.js';
import { allImages, StoredSet, type ImageSet } from '../data/imageset.js';
import { balancedPick } from '../data/common.js';
import { className } from '../model/card.js';
import { preprocessFiles } from '../model/preprocess.js';
import { loadModel, type LoadedModel } from '../model/store.js';
import { startEngine } from './engine.js';
import { prepareData } from '../train/data.js';
import { predict } from '../train/step.js';
import { InputError } from '../util/errors.js';
import { IMAGE_FILE } from '../data/decode.js';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { shellQuote } from '../util/shell.js';
import { addMaxPixels, applyMaxPixels, choice, parsePositiveInt } from './options.js';

/**
 * `robot-nas predict`: a saved model's predicted class and probability for image files (preprocessed as the
 * model card says) or for a dataset split; with labels (datasets), the accuracy. `--split valid` rebuilds the
 * model's own validation split from the card, so it reproduces the validation accuracy `train` printed.
 */

interface Flags {
  model: string;
  dataset?: string;
  data?: string;
  split: 'test' | 'valid' | 'train';
  limit?: number;
  batchSize: number;
  json?: boolean;
  maxPixels?: number;
}

interface Inputs {
  names: string[];
  images: Float32Array;
  count: number;
  labels: Int32Array | null;
  what: string;
}

async function fromDataset(m: LoadedModel, f: Flags): Promise<Inputs> {
  const { card } = m;
  const name = f.dataset!;
  if (!(DATASET_NAMES as readonly string[]).includes(name)) throw new InputError(`--dataset: unknown dataset '${name}'; expected one of ${DATASET_NAMES.join(', ')}`);
  const t = card.training;
  // The folder the model was trained from is the default for the same dataset.
  const dir = f.data ?? (t && t.dataset === name ? (t.data ?? undefined) : undefined);
  const [c, h, w] = card.input.shape;
  const cacheDir = 'robot-nas-results';
  let ds: ImageSet;
  let fileNames: string[] | undefined;
  if (f.split === 'valid') {
    if (!t || t.dataset !== name) {
      throw new InputError(`--split valid rebuilds the validation split the model was trained with; it was trained on ${t ? `'${t.dataset}'` : 'unrecorded data'}, not '${name}' (use --split test or train)`);
    }
    const data = await prepareData({
      dataset: name,
      ...(dir !== undefined ? { dir } : {}),
      validFraction: t.validFraction,
      ...(t.trainLimit !== null ? { trainLimit: t.trainLimit } : {}),
      ...(t.validLimit !== null ? { validLimit: t.validLimit } : {}),
      seed: t.splitSeed,
      ...(t.imageSize !== undefined && t.imageSize !== null ? { imageSize: t.imageSize } : {}),
      ...(t.imageChannels !== undefined && t.imageChannels !== null ? { imageChannels: t.imageChannels as 1 | 3 } : {}),
      cacheDir,
    });
    // the seeded split is the model's validation split only on the images it was trained from: on other images it
    // could hold training images, and a folder's labels follow its class names (matched by name in the other splits)
    const where = dir !== undefined ? `${name} (${dir})` : name;
    const names = card.classes.names;
    if (names && data.info.classNames && data.info.classNames.join('\0') !== names.join('\0')) {
      throw new InputError(
        `--split valid: ${where} has classes ${data.info.classNames.map((n) => `'${n}'`).join(', ')}, the model ${names.map((n) => `'${n}'`).join(', ')}; ` +
          'its validation split cannot be rebuilt (use --split test or --split train, which match classes by name)',
      );
    }
    if (data.info.fingerprint !== t.fingerprint) {
      throw new InputError(
        `--split valid: ${where} holds other images than the model was trained on (the data changed: fingerprint ${t.fingerprint} → ${data.info.fingerprint}); ` +
          'its validation split cannot be rebuilt (use --split test or --split train)',
      );
    }
    ds = data.valid.withNorm(card.preprocessing.mean, card.preprocessing.std);
    if (f.limit !== undefined && f.limit < ds.count) ds = ds.select(balancedPick(ds.labels, ds.classes, f.limit));
  } else {
    const io = { dataset: name, ...(dir !== undefined ? { data: dir } : {}), cacheDir };
    const parts = await datasetParts(io);
    if (f.split === 'test' && !parts.test) {
      throw new InputError(`${name}${dir ? ` (${dir})` : ''} has no separate test images; use --split valid (the model's validation images) or --split train`);
    }
    const part = f.split === 'test' ? 'test' : parts.train;
    // the model's input shape and classes: the part is converted to them and its classes matched by name
    const like = { shape: [c, h, w] as [number, number, number], classNames: card.classes.names ?? Array.from({ length: card.classes.count }, (_, k) => String(k)) };
    const p = await openPart(io, part, like as unknown as CacheMeta);
    // a class of the model with no images here is fine, and said
    for (const n of p.meta.notes) process.stderr.write(`note: ${n}\n`);
    if (p.meta.classes > card.classes.count) throw new InputError(`${name} has ${p.meta.classes} classes; the model outputs ${card.classes.count}`);
    const foreign = card.classes.names && p.meta.classNames ? p.meta.classNames.filter((n) => !card.classes.names!.includes(n)) : [];
    if (foreign.length > 0) {
      throw new InputError(`${name}${dir ? ` (${dir})` : ''}: class${foreign.length > 1 ? 'es' : ''} ${foreign.map((n) => `'${n}'`).join(', ')} not among the model's classes (${card.classes.names!.join(', ')})`);
    }
    const rows = balancedPick(p.store.labels, card.classes.count, f.limit);
    ds = new StoredSet(name, p.store, Int32Array.from(rows), card.classes.count, card.preprocessing.mean, card.preprocessing.std, p.meta.sources, p.meta.classNames);
  }
  // images that came from files are named by their path
  const files = ds instanceof StoredSet ? (ds.store.meta.files ?? (ds.store instanceof CacheFile ? ds.store.files() : undefined)) : undefined;
  if (files && ds instanceof StoredSet) fileNames = Array.from(ds.rows, (r) => files[r]!);
  if (ds.channels !== c || ds.height !== h || ds.width !== w) {
    throw new InputError(`${name} images are ${ds.channels}×${ds.height}×${ds.width}; the model expects ${c}×${h}×${w}`);
  }
  if (ds.classes > card.classes.count) throw new InputError(`${name} has ${ds.classes} classes; the model outputs ${card.classes.count}`);
  return {
    names: fileNames ?? Array.from({ length: ds.count }, (_, i) => `${name}:${f.split}:${i}`),
    images: allImages(ds),
    count: ds.count,
    labels: ds.labels,
    what: `${ds.count} ${name} ${f.split} images`,
  };
}

/** The files to predict: each argument a PNG/JPEG file, or a folder whose image files (sorted, not recursive) are all predicted. */
function imageFiles(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    let dir = false;
    try {
      dir = statSync(a).isDirectory();
    } catch {
      // not there: decodeImage names the file
    }
    if (!dir) {
      out.push(a);
      continue;
    }
    const found = readdirSync(a)
      .filter((n) => !n.startsWith('.') && IMAGE_FILE.test(n))
      .sort()
      .map((n) => join(a, n))
      .filter((p) => {
        try {
          return statSync(p).isFile();
        } catch {
          return true; // a broken link: decodeImage names it
        }
      });
    if (found.length === 0) throw new InputError(`${a}: a folder with no .png, .jpg or .jpeg files to predict`);
    out.push(...found);
  }
  return out;
}

/** Softmax of one row, in float64. */
function softmax(row: Float32Array): number[] {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  const e = Array.from(row, (v) => Math.exp(v - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

export function register(program: Command): void {
  const cmd = program
    .command('predict')
    .description('predict the class of images with a saved model (robot-nas train … --save DIR)')
    .argument('[images...]', 'PNG or JPEG files, or folders of them')
    .requiredOption('--model <dir>', 'model folder written by train --save')
    .option('--dataset <name>', `predict a dataset split instead of files: ${DATASET_NAMES.join(', ')}`)
    .option('--data <dir>', 'dataset folder (default: the one the model was trained from, for the same dataset)')
    .addOption(new Option('--split <split>', 'test (the dataset\'s test images), valid (the model\'s own validation split), train').argParser(choice(['test', 'valid', 'train'] as const)).default('test'))
    .option('--limit <n>', 'at most n images of the split (class-balanced)', parsePositiveInt)
    // 256 is what train evaluates with, so a split's logits come out of the same batches.
    .option('--batch-size <n>', 'images per inference batch', parsePositiveInt, 256)
    .option('--json', 'also print one JSON object (logits, labels, accuracy) as the last line');
  addMaxPixels(cmd).action(async (files: string[], f: Flags) => {
      applyMaxPixels(f);
      if (files.length > 0 && f.dataset !== undefined) throw new InputError('give image files or --dataset, not both');
      if (files.length === 0 && f.dataset === undefined) throw new InputError('nothing to predict: give image files (PNG/JPEG) or --dataset NAME [--split test|valid|train]');
      if (f.dataset === undefined && (f.limit !== undefined || f.data !== undefined)) throw new InputError('--limit and --data go with --dataset');
      const m = loadModel(f.model);
      const { card, net } = m;
      const images = f.dataset === undefined ? imageFiles(files) : [];
      const inputs: Inputs =
        f.dataset !== undefined
          ? await fromDataset(m, f)
          : {
              names: images,
              images: preprocessFiles(images, card.input.shape[0], card.preprocessing),
              count: images.length,
              labels: null,
              what: `${images.length} image file(s)`,
            };
      startEngine();
      const k = card.classes.count;
      const per = card.input.shape.reduce((a, b) => a * b, 1);
      const logits = new Float32Array(inputs.count * k);
      for (let s = 0; s < inputs.count; s += f.batchSize) {
        const n = Math.min(f.batchSize, inputs.count - s);
        logits.set(predict(net, m.params, m.running, inputs.images.subarray(s * per, (s + n) * per), n), s * k);
      }
      const rows: number[][] = [];
      const predictions: { class: number; name: string; probability: number }[] = [];
      let correct = 0;
      // names and classes are quoted as a shell would (a space must not split a column)
      const shown = inputs.names.map(shellQuote);
      const width = Math.min(48, Math.max(...shown.map((s) => s.length)));
      const lines: string[] = [];
      for (let i = 0; i < inputs.count; i++) {
        const row = logits.subarray(i * k, (i + 1) * k);
        // First maximum wins ties, as the accuracy in training counts it.
        let best = 0;
        for (let j = 1; j < k; j++) if (row[j] > row[best]) best = j;
        const p = softmax(row)[best];
        rows.push(Array.from(row));
        predictions.push({ class: best, name: className(card, best), probability: p });
        const label = inputs.labels?.[i];
        if (label !== undefined && label === best) correct++;
        lines.push(
          `${shown[i]!.padEnd(width)}  ${shellQuote(className(card, best)).padEnd(10)} p ${p.toFixed(4)}` +
            (label !== undefined ? `  label ${shellQuote(className(card, label))}${label === best ? '' : '  ✗'}` : ''),
        );
      }
      const accuracy = inputs.labels ? (100 * correct) / inputs.count : undefined;
      lines.push(
        `model ${f.model}: ${card.space} ${card.arch} — ${inputs.what}` + (accuracy !== undefined ? `, accuracy ${accuracy.toFixed(2)} % (${correct}/${inputs.count})` : ''),
      );
      process.stdout.write(lines.join('\n') + '\n');
      if (f.json) {
        const out = {
          model: f.model,
          space: card.space,
          arch: card.arch,
          inputs: inputs.names,
          predictions,
          logits: rows,
          ...(inputs.labels ? { labels: Array.from(inputs.labels), accuracy } : {}),
        };
        process.stdout.write(JSON.stringify(out) + '\n');
      }
    });
}
