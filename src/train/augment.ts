/**
 * Seeded training-time data augmentation on normalised NCHW float32 batches: random crop with
 * padding and random horizontal flip, as torchvision's RandomCrop(size, padding) +
 * RandomHorizontalFlip used by the NAS benchmarks' training pipelines. Working on already
 * normalised images means the padding must be the normalised value of a black pixel
 * (−mean/std), since torchvision pads the raw image with zeros before normalising.
 */
import { InputError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';

export interface AugmentOptions {
  /** Padding on every side before the random crop; 0 disables cropping. */
  pad: number;
  /** Flip each image horizontally with probability ½. */
  flip: boolean;
  /** Per-channel padding value (normalised black: −mean/std). */
  padValue: readonly number[];
}

/**
 * A new batch where each image is independently cropped h×w at a uniform offset (dy, dx) in
 * 0..2·pad out of the image padded by `pad`, then mirrored with probability ½ when `flip`.
 * Random draws per image, in order: dy, dx (only when pad > 0), then the flip (only when
 * `flip`) — so a fixed seed replays the same augmentation.
 */
export function augmentBatch(
  images: Float32Array,
  n: number,
  c: number,
  h: number,
  w: number,
  opts: AugmentOptions,
  rng: Rng,
): Float32Array {
  if (images.length !== n * c * h * w) throw new Error(`augmentBatch: ${images.length} values for a ${n}×${c}×${h}×${w} batch`);
  const { pad, flip, padValue } = opts;
  if (!Number.isInteger(pad) || pad < 0) throw new InputError(`augmentation: padding must be an integer >= 0, got ${pad}`);
  if (padValue.length !== c) throw new InputError(`augmentation: ${padValue.length} padding values for ${c} channels`);
  if (pad === 0 && !flip) return images.slice();
  const out = new Float32Array(images.length);
  const plane = h * w;
  for (let img = 0; img < n; img++) {
    // Offsets relative to the unpadded image: source row = y + oy.
    const oy = pad > 0 ? rng.int(2 * pad + 1) - pad : 0;
    const ox = pad > 0 ? rng.int(2 * pad + 1) - pad : 0;
    const mirror = flip && rng.next() < 0.5;
    for (let ch = 0; ch < c; ch++) {
      const base = (img * c + ch) * plane;
      const fill = padValue[ch];
      for (let y = 0; y < h; y++) {
        const sy = y + oy;
        const row = base + y * w;
        if (sy < 0 || sy >= h) {
          out.fill(fill, row, row + w);
          continue;
        }
        const srow = base + sy * w;
        for (let x = 0; x < w; x++) {
          // The flip is applied after the crop: output column x shows crop column w−1−x.
          const sx = (mirror ? w - 1 - x : x) + ox;
          out[row + x] = sx < 0 || sx >= w ? fill : images[srow + sx];
        }
      }
    }
  }
  return out;
}

/**
 * The usual augmentation of a dataset: CIFAR-style sets (cifar10, cifar100, cifar10-1k, folder, csv)
 * pad 4 (pad 2 for images of height ≤ 16) and flip; ImageNet16 pads 2 and flips (as
 * NAS-Bench-201); MNIST and idx files pad 2 and never flip (digits and letters are not
 * mirror-symmetric); npz arrays as MNIST when grey, as CIFAR when in colour.
 */
export function augmentFor(dataset: string, mean: readonly number[], std: readonly number[], height: number): AugmentOptions {
  if (mean.length !== std.length || mean.length === 0) {
    throw new InputError(`augmentation: ${mean.length} channel means but ${std.length} standard deviations`);
  }
  const padValue = mean.map((m, i) => {
    if (!(std[i] > 0) || !Number.isFinite(std[i]) || !Number.isFinite(m)) {
      throw new InputError(`augmentation: channel ${i} needs a finite mean and std > 0, got mean ${m}, std ${std[i]}`);
    }
    return -m / std[i];
  });
  switch (dataset) {
    case 'cifar10':
    case 'cifar100':
    case 'cifar10-1k':
    case 'folder':
      return { pad: height <= 16 ? 2 : 4, flip: true, padValue };
    case 'imagenet16':
    case 'imagenet16-120':
      return { pad: 2, flip: true, padValue };
    case 'mnist':
      return { pad: 2, flip: false, padValue };
    // The user's own formats: image files as folders are; idx files (MNIST, KMNIST, EMNIST: characters) as MNIST;
    // npz arrays as MNIST when grey (Keras's mnist, fashion_mnist) and as folders when in colour (cifar10, cifar100).
    case 'csv':
      return { pad: height <= 16 ? 2 : 4, flip: true, padValue };
    case 'idx':
      return { pad: 2, flip: false, padValue };
    case 'npz':
      return mean.length === 1 ? { pad: 2, flip: false, padValue } : { pad: height <= 16 ? 2 : 4, flip: true, padValue };
    default:
      throw new InputError(`augmentation: unknown dataset '${dataset}'`);
  }
}
