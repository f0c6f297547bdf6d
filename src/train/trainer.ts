/**
 * Trains one network on an image dataset as RoBoT's DARTS search trains its candidates: SGD with momentum 0.9,
 * weight decay 3e-4 on every parameter, a cosine learning-rate schedule over the whole run, gradient-norm
 * clipping at 5, per-dataset augmentation; then the accuracy on the
 * validation (and optionally test) images with running BatchNorm statistics. Pure computation: no files, no
 * console — progress goes through the hooks, and every random choice comes from the given seed.
 */
import { asImageSet, type ImageSet } from '../data/imageset.js';
import type { ImageDataset } from '../data/types.js';
import type { Network } from '../networks/layers.js';
import { initParams, type ParamValues } from '../networks/params.js';
import { InputError, SettingError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { trainingStreams } from '../util/seeds.js';
import { augmentBatch, type AugmentOptions } from './augment.js';
import { clipGradNorm, cosineLr, Sgd } from './optim.js';
import { countCorrect, freshRunning, predict, trainStep, updateRunning, type BnRunning } from './step.js';

export interface TrainSettings {
  epochs: number;
  batchSize: number;
  /** Initial learning rate (DARTS: 0.025). */
  lr: number;
  /** Final learning rate of the cosine schedule (DARTS: 0.001). */
  lrMin: number;
  momentum: number;
  weightDecay: number;
  /** Max global gradient norm (DARTS: 5). */
  gradClip: number;
  /** Augmentation of training batches; null = none. */
  augment: AugmentOptions | null;
  /** Images per inference batch. */
  evalBatch: number;
}

/** RoBoT's DARTS training settings, with the epochs and batch size left to the caller. */
export const DARTS_TRAINING: Omit<TrainSettings, 'epochs' | 'batchSize' | 'augment'> = {
  lr: 0.025,
  lrMin: 0.001,
  momentum: 0.9,
  weightDecay: 3e-4,
  gradClip: 5,
  evalBatch: 256,
};

/** The images of a training: read as batches are needed (ImageSet), or in memory (ImageDataset). */
export interface TrainData {
  train: ImageSet | ImageDataset;
  valid: ImageSet | ImageDataset;
  test?: ImageSet | ImageDataset;
}

export interface EpochLog {
  epoch: number;
  /** Learning rate at the start of the epoch. */
  lr: number;
  trainLoss: number;
  trainAccuracy: number;
  seconds: number;
}

export interface TrainResult {
  /** Accuracy (%) over the last epoch's training batches, in training mode (as DARTS logs it). */
  trainAccuracy: number;
  trainLoss: number;
  /** Accuracy (%) on the validation images. */
  validAccuracy: number;
  testAccuracy?: number;
  /** Counts by true class of the validation (and test) images: seen and correctly classified. */
  validByClass: ClassCounts;
  testByClass?: ClassCounts;
  /** Confusion matrices (rows: true class, columns: predicted) of the validation and test images. */
  validConfusion: number[][];
  testConfusion?: number[][];
  /** Wall seconds of training and evaluation. */
  seconds: number;
  epochs: EpochLog[];
  /** The training failed to train: see `divergence` for why. */
  diverged: boolean;
  /** Why it counts as diverged: the loss or gradient became non-finite (training stopped there), the loss ended
   *  above `divergedLossBound`, or the first epoch's accuracy stayed at chance. */
  divergence?: 'non-finite loss' | 'loss above bound' | 'chance accuracy';
  params: ParamValues;
  running: BnRunning;
}

export interface TrainHooks {
  /** After every optimisation step (global step count, total steps, batch loss). */
  onStep?(step: number, steps: number, loss: number): void;
  onEpoch?(log: EpochLog): void;
  /** Stops the training between two steps (an AbortError). */
  signal?: AbortSignal;
}

/** Settings a training can run with; a bad one is a SettingError on its key (`lr`, `batchSize`…). */
export function checkTrainSettings(s: TrainSettings): void {
  const positiveInt = (v: number, key: string): void => {
    if (!(Number.isInteger(v) && v >= 1)) throw new SettingError(key, `expected a positive integer, got ${v}`);
  };
  positiveInt(s.epochs, 'epochs');
  positiveInt(s.batchSize, 'batchSize');
  positiveInt(s.evalBatch, 'evalBatch');
  for (const key of ['lr', 'lrMin', 'momentum', 'weightDecay', 'gradClip'] as const) {
    const v = s[key];
    if (!(Number.isFinite(v) && v >= 0)) throw new SettingError(key, `expected a finite number ≥ 0, got ${v}`);
  }
  if (s.lr < s.lrMin) throw new SettingError('lr', `the cosine schedule anneals the learning rate down to ${s.lrMin}; the initial rate must be at least that, got ${s.lr}`);
}

/** Per true class: images seen and correctly classified. */
export interface ClassCounts {
  total: number[];
  correct: number[];
}

/** Accuracy (%) per class (null for a class with no images) and their mean over the classes present. */
export function perClassAccuracy(c: ClassCounts): { perClass: (number | null)[]; balanced: number } {
  const perClass = c.total.map((t, k) => (t > 0 ? (100 * c.correct[k]!) / t : null));
  const present = perClass.filter((v): v is number => v !== null);
  return { perClass, balanced: present.length > 0 ? present.reduce((a, b) => a + b, 0) / present.length : NaN };
}

/** Whether class sizes differ enough that plain accuracy hides how classes fare: the largest ≥ 1.5× the smallest. */
export function imbalanced(counts: readonly number[]): boolean {
  const present = counts.filter((n) => n > 0);
  return present.length > 1 && Math.max(...present) >= 1.5 * Math.min(...present);
}

function checkData(net: Network, ds: ImageSet, role: string): void {
  const [c, h, w] = net.inputShape;
  if (ds.channels !== c || ds.height !== h || ds.width !== w) {
    throw new InputError(`${role} images are ${ds.channels}×${ds.height}×${ds.width}, the network expects ${c}×${h}×${w}`);
  }
  if (ds.classes > net.numClasses) throw new InputError(`${role} data has ${ds.classes} classes, the network outputs ${net.numClasses}`);
  if (ds.count === 0) throw new InputError(`${role} split is empty`);
}

/** A cross-entropy this far above a uniform guess's (ln K) means the weights blew up, not slow learning. */
export function divergedLossBound(classes: number): number {
  return 10 * Math.log(Math.max(2, classes));
}

/**
 * Whether an epoch's training accuracy is indistinguishable from guessing: within three standard errors of
 * 1/K over the epoch's `seen` images (a network whose output ignores its input lands here).
 */
export function atChance(accuracy: number, classes: number, seen: number): boolean {
  const p = 1 / Math.max(2, classes);
  return accuracy / 100 <= p + 3 * Math.sqrt((p * (1 - p)) / Math.max(1, seen));
}

/** Accuracy (%) of the network on a dataset, inference mode, in batches. */
export function evaluateAccuracy(net: Network, params: ParamValues, running: BnRunning, ds: ImageSet | ImageDataset, batchSize: number): number {
  return evaluate(net, params, running, asImageSet(ds), batchSize).accuracy;
}

/** Accuracy (%), counts by class and the confusion matrix of the network on a set, inference mode, in batches. */
export function evaluate(net: Network, params: ParamValues, running: BnRunning, ds: ImageSet, batchSize: number): { accuracy: number; byClass: ClassCounts; confusion: number[][] } {
  const k = net.numClasses;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  for (let s = 0; s < ds.count; s += batchSize) {
    const n = Math.min(batchSize, ds.count - s);
    const idx = Array.from({ length: n }, (_, j) => s + j);
    const logits = predict(net, params, running, ds.batch(idx), n);
    const labels = ds.labels.subarray(s, s + n);
    correct += countCorrect(logits, labels, k);
    for (let i = 0; i < n; i++) {
      // first maximum wins, as countCorrect counts it
      let best = 0;
      for (let j = 1; j < k; j++) if (logits[i * k + j]! > logits[i * k + best]!) best = j;
      confusion[labels[i]!]![best]!++;
    }
  }
  const total = confusion.map((row) => row.reduce((a, b) => a + b, 0));
  return { accuracy: (100 * correct) / ds.count, byClass: { total, correct: confusion.map((row, c) => row[c]!) }, confusion };
}

/**
 * Trains `net` from a PyTorch-default initialisation drawn from `seed` (weights, batch order and augmentation
 * each get their own stream). Yields to the event loop between steps so progress bars redraw and Ctrl-C works.
 */
export async function trainNetwork(net: Network, data: TrainData, settings: TrainSettings, seed: number, hooks: TrainHooks = {}): Promise<TrainResult> {
  checkTrainSettings(settings);
  const train = asImageSet(data.train);
  const validSet = asImageSet(data.valid);
  const testSet = data.test ? asImageSet(data.test) : undefined;
  checkData(net, train, 'training');
  checkData(net, validSet, 'validation');
  if (testSet) checkData(net, testSet, 'test');
  const t0 = performance.now();
  const streams = trainingStreams(seed);
  const params = initParams(net, new Rng(streams.init));
  const orderRng = new Rng(streams.order);
  const augmentRng = new Rng(streams.augment);
  const running = freshRunning(net);
  const sgd = new Sgd(params, { momentum: settings.momentum, weightDecay: settings.weightDecay });
  const [c, h, w] = net.inputShape;
  const bs = settings.batchSize;
  // A trailing batch of one image is dropped: BatchNorm's batch variance is undefined for it (PyTorch errors).
  const batchesPerEpoch = Math.floor(train.count / bs) + (train.count % bs >= 2 ? 1 : 0);
  if (batchesPerEpoch === 0) throw new InputError(`the training split has ${train.count} image(s); at least 2 are needed`);
  const steps = batchesPerEpoch * settings.epochs;
  const epochs: EpochLog[] = [];
  let step = 0;
  let diverged = false;
  let chance = false;
  let lastLoss = NaN;
  let lastAcc = NaN;
  for (let epoch = 0; epoch < settings.epochs && !diverged; epoch++) {
    const te = performance.now();
    // Annealed per step rather than per epoch: queries train for one or two epochs, where a per-epoch
    // schedule would keep the rate constant and end on weights (and BatchNorm statistics) still moving fast.
    const lrAt = (b: number): number => cosineLr(epoch + b / batchesPerEpoch, settings.epochs, settings.lr, settings.lrMin);
    const lr = lrAt(0);
    const order = orderRng.shuffle(Array.from({ length: train.count }, (_, i) => i));
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    for (let b = 0; b < batchesPerEpoch; b++) {
      hooks.signal?.throwIfAborted();
      const idx = order.slice(b * bs, Math.min((b + 1) * bs, train.count));
      const n = idx.length;
      const x = train.batch(idx);
      const images = settings.augment ? augmentBatch(x, n, c, h, w, settings.augment, augmentRng) : x;
      const labels = Int32Array.from(idx, (i) => train.labels[i]!);
      const r = trainStep(net, params, images, labels);
      if (!Number.isFinite(r.loss)) {
        diverged = true;
        break;
      }
      try {
        clipGradNorm([...r.grads.values()], settings.gradClip);
      } catch {
        diverged = true;
        break;
      }
      sgd.step(r.grads, lrAt(b));
      updateRunning(net, running, r.bnStats);
      lossSum += r.loss * n;
      correct += r.correct;
      seen += n;
      step++;
      hooks.onStep?.(step, steps, r.loss);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (seen > 0) {
      lastLoss = lossSum / seen;
      lastAcc = (100 * correct) / seen;
      if (epoch === 0 && atChance(lastAcc, net.numClasses, seen)) chance = true;
      const log: EpochLog = { epoch, lr, trainLoss: lastLoss, trainAccuracy: lastAcc, seconds: (performance.now() - te) / 1000 };
      epochs.push(log);
      hooks.onEpoch?.(log);
    }
  }
  const v = evaluate(net, params, running, validSet, settings.evalBatch);
  const t = testSet ? evaluate(net, params, running, testSet, settings.evalBatch) : undefined;
  const validAccuracy = v.accuracy;
  const testAccuracy = t?.accuracy;
  const divergence = diverged || !Number.isFinite(lastLoss) ? 'non-finite loss' : lastLoss > divergedLossBound(net.numClasses) ? 'loss above bound' : chance ? 'chance accuracy' : undefined;
  return {
    trainAccuracy: lastAcc,
    trainLoss: lastLoss,
    validAccuracy,
    ...(testAccuracy !== undefined ? { testAccuracy } : {}),
    validByClass: v.byClass,
    validConfusion: v.confusion,
    ...(t ? { testByClass: t.byClass, testConfusion: t.confusion } : {}),
    seconds: (performance.now() - t0) / 1000,
    epochs,
    diverged: divergence !== undefined,
    ...(divergence !== undefined ? { divergence } : {}),
    params,
    running,
  };
}
