/**
 * Training one architecture for longer, the step after a search (`robot-nas train`, `search --train-best`): the
 * search's data split and training recipe (with its seed, the same split), then train / validation / test accuracy,
 * per class where the classes are imbalanced, the confusion matrix, the model folder when asked (`save`) and the
 * report as JSON (`out`). Everything that can fail without data is checked before the data is read. Progress comes
 * through hooks; nothing here prints.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { balancedPick } from '../data/common.js';
import type { ImageSet } from '../data/imageset.js';
import { checkFits } from '../model/fits.js';
import { checkModelDestination, saveModel } from '../model/store.js';
import { initEngine } from '../engine/kernels.js';
import { buildNetwork } from '../networks/build.js';
import { countParams } from '../networks/params.js';
import { confusionCsv, renderConfusionSvg } from '../plot/confusion.js';
import { getSpace } from '../spaces/index.js';
import { augmentFor } from '../train/augment.js';
import { prepareData } from '../train/data.js';
import { atChance, checkTrainSettings, DARTS_TRAINING, imbalanced, perClassAccuracy, trainNetwork, type ClassCounts, type EpochLog } from '../train/trainer.js';
import { TRAINING_CODE_VERSION } from '../train/version.js';
import { writeAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';
import { checkOutputDir, checkOutputFile } from '../util/output-paths.js';
import { checkReplaceableFile, jsonWithKeys } from '../util/owned-folder.js';
import { shellCommand } from '../util/shell.js';
import { trainingSeed } from '../util/seeds.js';

/** One training request (the `train` command's flags). */
export interface TrainRequest {
  space: 'nb201' | 'darts';
  arch: string;
  dataset: string;
  /** Dataset folder or file. */
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
  /** Also write the report as JSON to this file. */
  out?: string;
  /** Save the trained model as a model folder here. */
  save?: string;
}

export interface TrainRequestHooks {
  /** One line of human-readable progress. */
  log?(message: string): void;
  /** Decoding the dataset into the image cache (first run only). */
  onDataProgress?(phase: string, done: number, total: number): void;
  onStep?(step: number, steps: number, loss: number): void;
  onEpoch?(e: EpochLog): void;
  /** Starts this thread's engine (the CLI's says on stderr when the WebAssembly kernels stand in); default initEngine(). */
  startEngine?(): void;
}

const fmt = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(2));
const limit = (v: number | 'all' | undefined): number | undefined => (v === undefined || v === 'all' ? undefined : v);

/**
 * Everything about a training request that can fail without data — the architecture, `--out`, `--save`, the
 * recipe — checked before the data is read and long before the training ends. Returns the canonical architecture.
 */
export function checkTrainRequest(f: TrainRequest): string {
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
function samplesOf(valid: ImageSet, classes: number): { images: Float32Array; labels: Int32Array } {
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

/** Trains one architecture (progress through `hooks`), saves it when asked, writes `out`; returns the report. */
export async function trainArchitecture(f: TrainRequest, hooks: TrainRequestHooks = {}): Promise<TrainRun> {
  const arch = checkTrainRequest(f);
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
    ...(hooks.onDataProgress ? { onProgress: hooks.onDataProgress } : {}),
  });
  const { info } = data;
  // The engine starts after the data is read (as the command always did), through the caller's hook when it has one.
  if (hooks.startEngine) hooks.startEngine();
  else initEngine();
  // a size the engine cannot hold is refused before the training (model/fits.ts)
  checkFits(
    { space: f.space, arch, channels: f.channels, cells: f.cells, classes: info.classes, inputShape: info.shape },
    [{ setting: 'batchSize', batch: Math.min(f.batchSize, info.trainCount), doing: 'train on' }],
    'the network',
  );
  const net = buildNetwork(f.space, arch, { channels: f.channels, cells: f.cells, classes: info.classes }, info.shape);
  const settings = { ...DARTS_TRAINING, lr: f.lr, epochs: f.epochs, batchSize: f.batchSize, augment: augmentFor(f.dataset, info.mean, info.std, info.shape[1]) };
  for (const n of info.notes ?? []) hooks.log?.(`data: ${n}`);
  hooks.log?.(
    `training ${arch} (${countParams(net).toLocaleString('en-US')} parameters) on ${info.dataset}: ${info.trainCount} train / ${info.validCount} validation` +
      `${data.test ? ` / ${data.test.count} test` : ''} images, ${f.epochs} epochs`,
  );
  const r = await trainNetwork(net, data, settings, trainingSeed(f.seed, arch), {
    ...(hooks.onStep ? { onStep: hooks.onStep } : {}),
    ...(hooks.onEpoch ? { onEpoch: hooks.onEpoch } : {}),
  });
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
