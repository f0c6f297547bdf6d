import { Command, Option } from 'commander';
import { startEngine } from './engine.js';
import { countParams } from '../networks/params.js';
import { trainingSeed } from '../util/seeds.js';
import { buildNetwork } from '../networks/build.js';
import { getSpace } from '../spaces/index.js';
import { augmentFor } from '../train/augment.js';
import { prepareData } from '../train/data.js';
import { shellCommand } from '../util/shell.js';
import { atChance, checkTrainSettings, DARTS_TRAINING, trainNetwork } from '../train/trainer.js';
import { writeAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';
import { checkOutputFile } from '../util/output-paths.js';
import { checkReplaceableFile, jsonWithKeys } from '../util/owned-folder.js';
import { resolve } from 'node:path';
import { checkModelDestination, saveModel } from '../model/store.js';
import { checkFits } from '../model/fits.js';
import { TRAINING_CODE_VERSION } from '../train/version.js';
import { addMaxPixels, applyMaxPixels, choice, DATA_HELP, parseImageChannels, parseLimit, parseNumber, parsePositiveInt, parseSeed, TRAIN_DATASETS } from './options.js';
import { balancedPick } from '../data/common.js';
import { confusionCsv, renderConfusionSvg } from '../plot/confusion.js';
import { imbalanced, perClassAccuracy, type ClassCounts } from '../train/trainer.js';
import { checkOutputDir } from '../util/output-paths.js';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { progressBar, type Progress } from './progress.js';
import { readSearchAnswer } from './train-from.js';

/**
 * `robot-nas train`: the step after a search — train one architecture for longer and report train, validation
 * and test accuracy. Same data split and training recipe as the search's queries (with its seed, the same split).
 */

export interface TrainFlags {
  space: 'nb201' | 'darts';
  arch: string;
  dataset: string;
  data?: string;
  imageSize?: number;
  imageChannels?: 1 | 3;
  /** Folder of the image caches (default robot-nas-results). */
  cacheDir?: string;
  /** Write the confusion matrix (CSV and SVG) into this folder. */
  confusion?: string;
  epochs: number;
  channels: number;
  cells: number;
  batchSize: number;
  lr: number;
  validFraction: number;
  trainLimit?: number | 'all';
  validLimit?: number | 'all';
  testLimit?: number | 'all';
  seed: number;
  out?: string;
  save?: string;
  json?: boolean;
  maxPixels?: number;
}

/** `train`'s defaults (search's `next` line leaves out what equals them). */
export const TRAIN_DEFAULTS = { epochs: 10, channels: 8, cells: 1, batchSize: 32, lr: 0.1, validFraction: 0.2, seed: 0 } as const;

const fmt = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(2));
const limit = (v: number | 'all' | undefined): number | undefined => (v === undefined || v === 'all' ? undefined : v);

export function register(program: Command): void {
  const cmd = program
    .command('train')
    .description('train one architecture and report its train / validation / test accuracy (the step after a search)')
    .addOption(new Option('--space <space>', 'search space').choices(['nb201', 'darts']).default('nb201'))
    .option('--arch <arch>', "architecture: an NB201 cell string ('|nor_conv_3x3~0|+|…|') or a DARTS genotype as printed by search")
    .option('--from <dir>', "a search's output folder (or its result.json): its answer, space, dataset, data, width, depth and split; flags given here win (e.g. --channels 32 to train the answer wider)")
    .addOption(new Option('--dataset <name>', `dataset: ${TRAIN_DATASETS.join(', ')}`).argParser(choice(TRAIN_DATASETS)).default('mnist'))
    .option('--data <dir|file>', DATA_HELP)
    .option('--image-size <N>', 'resize the images to N×N (default: their own size)', parsePositiveInt)
    .option('--image-channels <1|3>', "grey (1) or RGB (3) input (default: the images' own)", parseImageChannels)
    .option('--confusion <dir>', 'write the confusion matrix of the test images (validation images when the dataset has no test part) as confusion.csv and confusion.svg into this folder')
    .option('--epochs <E>', 'training epochs', parsePositiveInt, TRAIN_DEFAULTS.epochs)
    .option('--channels <C>', 'network width (nb201 C; darts initial channels)', parsePositiveInt, TRAIN_DEFAULTS.channels)
    .option('--cells <N>', 'nb201: cells per stage; darts: number of cells', parsePositiveInt, TRAIN_DEFAULTS.cells)
    .option('--batch-size <n>', 'training batch size', parsePositiveInt, TRAIN_DEFAULTS.batchSize)
    .option('--lr <x>', 'initial learning rate (cosine to 0.001; SGD momentum 0.9, weight decay 3e-4, clip 5)', parseNumber, TRAIN_DEFAULTS.lr)
    .option('--valid-fraction <x>', 'share of the training images held out for validation', parseNumber, TRAIN_DEFAULTS.validFraction)
    .option('--train-limit <n|all>', 'train on at most n images', parseLimit)
    .option('--valid-limit <n|all>', 'validate on at most n images', parseLimit)
    .option('--test-limit <n|all>', 'test on at most n images', parseLimit)
    .option('--seed <s>', 'seed of split, initial weights, batch order and augmentation', parseSeed, TRAIN_DEFAULTS.seed)
    .option('--out <file>', 'also write the report as JSON to this file')
    .option('--save <dir>', 'save the trained model (weights, architecture, preprocessing, accuracies) as a model folder')
    .option('--json', 'print the report as JSON');
  addMaxPixels(cmd).action(async (f0: TrainFlags & { from?: string }, c: Command) => {
      const f = withSearchAnswer(f0, (k) => c.getOptionValueSource(k) === 'cli');
      applyMaxPixels(f);
      const run = await trainArchitecture(f);
      process.stdout.write((f.json ? JSON.stringify(run.report, null, 2) : run.summary) + '\n');
      if (run.notSaved) throw run.notSaved;
    });
}

/** The flags with --from's search answer filled in where the command line did not set them (`given`). */
export function withSearchAnswer(f: TrainFlags & { from?: string }, given: (flag: string) => boolean): TrainFlags {
  if (f.from === undefined) {
    if (f.arch === undefined) throw new InputError('train: --arch or --from is required (the architecture, or the output folder of a search)');
    return f;
  }
  if (f.arch !== undefined) throw new InputError('train: give --arch or --from, not both (--from already names the architecture)');
  const a = readSearchAnswer(f.from);
  const out: TrainFlags = { ...f, arch: a.arch };
  const fill = <K extends keyof TrainFlags>(k: K, v: TrainFlags[K] | undefined): void => {
    if (v !== undefined && !given(k)) out[k] = v;
  };
  fill('space', a.space);
  fill('dataset', a.dataset);
  fill('data', a.data);
  fill('imageSize', a.imageSize);
  fill('imageChannels', a.imageChannels);
  fill('channels', a.channels);
  fill('cells', a.cells);
  fill('validFraction', a.validFraction);
  fill('seed', a.seed);
  return out;
}

/**
 * Everything about a training request that can fail without data — the architecture, `--out`, `--save`, the
 * recipe — checked before the data is read and long before the training ends. Returns the canonical architecture.
 */
export function checkTrainRequest(f: TrainFlags): string {
  const space = getSpace(f.space);
  let arch: string;
  try {
    arch = space.parse(f.arch);
  } catch (e) {
    throw new InputError(`--arch: not a ${f.space} architecture: ${(e as Error).message}`);
  }
  // Everything that can fail without data fails before the data is read and long before the training ends.
  if (f.out !== undefined) {
    checkOutputFile(f.out, 'out');
    checkReplaceableFile(f.out, 'out', 'a training report', (t) => jsonWithKeys(t, ['space', 'arch', 'dataset', 'params', 'validAccuracy', 'settings']));
  }
  if (f.save !== undefined) checkModelDestination(f.save, 'save');
  if (f.confusion !== undefined) checkOutputDir(f.confusion, 'confusion');
  checkTrainSettings({ ...DARTS_TRAINING, lr: f.lr, epochs: f.epochs, batchSize: f.batchSize, augment: null });
  return arch;
}

export interface TrainRun {
  report: Record<string, unknown> & { arch: string; params: number; validAccuracy: number; model: string | null };
  /** The human-readable report (what `train` prints without --json). */
  summary: string;
  /** Set when --save was asked for but the weights were not kept (a non-finite loss). */
  notSaved?: InputError;
}

/** Up to 16 class-balanced validation images and their labels: the model folder's test vector. */
function samplesOf(valid: import('../data/imageset.js').ImageSet, classes: number): { images: Float32Array; labels: Int32Array } {
  const pick = balancedPick(valid.labels, classes, 16);
  return { images: valid.batch(pick), labels: Int32Array.from(pick, (i) => valid.labels[i]!) };
}

/** Balanced and per-class accuracy, printed when the classes are imbalanced. */
function classLines(which: string, c: ClassCounts, names: readonly string[]): string[] {
  if (!imbalanced(c.total)) return [];
  const { perClass, balanced } = perClassAccuracy(c);
  return [
    `${`${which} balanced`.padEnd(20)} ${fmt(balanced)} % (mean of the per-class accuracies; classes have ${Math.min(...c.total.filter((n) => n > 0))}–${Math.max(...c.total)} images)`,
    `${`${which} per class`.padEnd(20)} ${perClass.map((v, k) => `${names[k] ?? k} ${v === null ? 'n/a' : v.toFixed(1)}`).join(', ')}`,
  ];
}

/** Trains one architecture (progress on stderr), saves it when asked, writes `--out`; returns the report. */
export async function trainArchitecture(f: TrainFlags): Promise<TrainRun> {
  const arch = checkTrainRequest(f);
  let bar: Progress | undefined;
  const data = await prepareData({
    dataset: f.dataset,
    ...(f.data !== undefined ? { dir: f.data } : {}),
    validFraction: f.validFraction,
    trainLimit: limit(f.trainLimit),
    validLimit: limit(f.validLimit),
    testLimit: limit(f.testLimit),
    withTest: true,
    seed: f.seed,
    ...(f.imageSize !== undefined ? { imageSize: f.imageSize } : {}),
    ...(f.imageChannels !== undefined ? { imageChannels: f.imageChannels } : {}),
    cacheDir: f.cacheDir ?? 'robot-nas-results',
    onProgress: (phase, done, total) => {
      if (done === 0 || bar === undefined) {
        bar?.stop();
        bar = progressBar(total, phase.padEnd(8));
      }
      bar.update(done);
      if (done >= total) {
        bar.stop();
        bar = undefined;
      }
    },
  });
  const { info } = data;
  startEngine();
  // a size the engine cannot hold is refused before the training (model/fits.ts)
  checkFits(
    { space: f.space, arch, channels: f.channels, cells: f.cells, classes: info.classes, inputShape: info.shape },
    [{ setting: 'batchSize', batch: Math.min(f.batchSize, info.trainCount), doing: 'train on' }],
    'the network',
  );
  const net = buildNetwork(f.space, arch, { channels: f.channels, cells: f.cells, classes: info.classes }, info.shape);
  const settings = { ...DARTS_TRAINING, lr: f.lr, epochs: f.epochs, batchSize: f.batchSize, augment: augmentFor(f.dataset, info.mean, info.std, info.shape[1]) };
  for (const n of info.notes ?? []) process.stderr.write(`data: ${n}\n`);
  process.stderr.write(
    `training ${arch} (${countParams(net).toLocaleString('en-US')} parameters) on ${info.dataset}: ${info.trainCount} train / ${info.validCount} validation` +
      `${data.test ? ` / ${data.test.count} test` : ''} images, ${f.epochs} epochs\n`,
  );
  const r = await trainNetwork(net, data, settings, trainingSeed(f.seed, arch), {
    onStep: (step, steps, loss) => {
      bar ??= progressBar(steps, 'training');
      bar.update(step, `loss ${loss.toFixed(3)}`);
    },
    onEpoch: (e) => {
      bar?.stop();
      bar = undefined;
      process.stderr.write(`epoch ${e.epoch + 1}/${f.epochs}  lr ${e.lr.toFixed(4)}  loss ${e.trainLoss.toFixed(4)}  train ${e.trainAccuracy.toFixed(2)}%  ${e.seconds.toFixed(1)} s\n`);
    },
  });
  bar?.stop();
  // The trainer flags a first epoch at chance (what a one-epoch query can tell); a longer training that left chance
  // afterwards did train. A training that blew up (non-finite or exploding loss) saves nothing: exit 2 after the
  // report. One still at chance is kept, marked in its card and said: small datasets often cannot show more.
  const last = r.epochs.at(-1);
  const divergence = r.divergence === 'chance accuracy' && last !== undefined && !atChance(last.trainAccuracy, info.classes, info.trainCount) ? undefined : r.divergence;
  const saved = f.save !== undefined && divergence !== 'non-finite loss' && divergence !== 'loss above bound';
  const report = {
    space: f.space,
    perClass: {
      validation: { ...perClassAccuracy(r.validByClass), ...r.validByClass },
      ...(r.testByClass ? { test: { ...perClassAccuracy(r.testByClass), ...r.testByClass } } : {}),
    },
    ...(r.testConfusion ? { testConfusion: r.testConfusion } : {}),
    arch,
    dataset: info.dataset,
    params: countParams(net),
    trainAccuracy: Number.isFinite(r.trainAccuracy) ? r.trainAccuracy : null,
    validAccuracy: r.validAccuracy,
    testAccuracy: r.testAccuracy ?? null,
    diverged: divergence !== undefined,
    divergence: divergence ?? null,
    seconds: r.seconds,
    epochs: r.epochs,
    data: info,
    settings: { ...settings, channels: f.channels, cells: f.cells, seed: f.seed },
    model: saved ? f.save! : null,
  };
  if (saved) {
    saveModel(f.save!, {
      space: f.space,
      arch,
      channels: f.channels,
      cells: f.cells,
      classes: info.classes,
      classNames: data.train.classNames ? [...data.train.classNames] : null,
      inputShape: info.shape,
      mean: info.mean,
      std: info.std,
      params: r.params,
      running: r.running,
      samples: samplesOf(data.valid, info.classes),
      training: {
        dataset: info.dataset,
        // Absolute, so that predict finds the data from any working directory.
        data: f.data !== undefined ? resolve(f.data) : null,
        trainCount: info.trainCount,
        validCount: info.validCount,
        testCount: info.testCount,
        validFraction: info.validFraction,
        splitSeed: info.splitSeed,
        trainLimit: limit(f.trainLimit) ?? null,
        validLimit: limit(f.validLimit) ?? null,
        testLimit: limit(f.testLimit) ?? null,
        ...(f.imageSize !== undefined ? { imageSize: f.imageSize } : {}),
        ...(f.imageChannels !== undefined ? { imageChannels: f.imageChannels } : {}),
        fingerprint: info.fingerprint,
        epochs: f.epochs,
        batchSize: f.batchSize,
        lr: settings.lr,
        lrMin: settings.lrMin,
        momentum: settings.momentum,
        weightDecay: settings.weightDecay,
        gradClip: settings.gradClip,
        augment: settings.augment && { pad: settings.augment.pad, flip: settings.augment.flip },
        seed: f.seed,
        trainingSeed: trainingSeed(f.seed, arch),
        trainingCodeVersion: TRAINING_CODE_VERSION,
        seconds: r.seconds,
        divergence: divergence ?? null,
      },
      accuracies: {
        train: Number.isFinite(r.trainAccuracy) ? r.trainAccuracy : null,
        validation: r.validAccuracy,
        test: r.testAccuracy ?? null,
      },
    });
  }
  if (f.out !== undefined) writeAtomic(f.out, JSON.stringify(report, null, 2) + '\n');
  const names = info.classNames ?? Array.from({ length: info.classes }, (_, k) => String(k));
  const confusionOf = r.testConfusion ?? r.validConfusion;
  if (f.confusion !== undefined) {
    mkdirSync(f.confusion, { recursive: true });
    const which = r.testConfusion ? 'test' : 'validation';
    writeAtomic(join(f.confusion, 'confusion.csv'), confusionCsv(names, confusionOf));
    writeAtomic(join(f.confusion, 'confusion.svg'), await renderConfusionSvg(`${arch.length > 60 ? `${f.space} answer` : arch} — ${which} images`, names, confusionOf));
  }
  const summary = [
      `architecture         ${arch}`,
      `parameters           ${report.params.toLocaleString('en-US')}`,
      `train accuracy       ${fmt(r.trainAccuracy)} % (last epoch, training mode)`,
      `validation accuracy  ${fmt(r.validAccuracy)} % (${info.validCount} images)`,
      `test accuracy        ${data.test ? `${fmt(r.testAccuracy)} % (${data.test.count} images)` : `n/a (${info.dataset} has no separate test images)`}`,
      ...classLines('validation', r.validByClass, names),
      ...(r.testByClass ? classLines('test', r.testByClass, names) : []),
      ...(f.confusion !== undefined ? [`confusion matrix     ${join(f.confusion, 'confusion.csv')}, ${join(f.confusion, 'confusion.svg')} (${r.testConfusion ? 'test' : 'validation'} images)`] : []),
      `time                 ${r.seconds.toFixed(1)} s`,
      ...(divergence !== undefined ? [`diverged             yes — ${divergence}${divergence === 'non-finite loss' ? '; training stopped there' : divergence === 'chance accuracy' ? ` after the last epoch${saved ? ' (the model is saved and marked so in its card)' : ''}` : ''}`] : []),
      ...(saved ? [`saved model          ${f.save} (predict: ${shellCommand(['npx', 'robot-nas', 'predict', '--model', f.save!])} IMAGE.png; export: ${shellCommand(['npx', 'robot-nas', 'export', '--model', f.save!, '--format', 'onnx', '--out'])} DIR)`] : []),
  ].join('\n');
  const notSaved =
    f.save !== undefined && !saved
      ? new InputError(`training diverged (${divergence}); no model saved to ${f.save} (try a lower --lr)`)
      : undefined;
  return { report, summary, ...(notSaved ? { notSaved } : {}) };
}
