/**
 * Image files → the network's input, as the model card says: PNG or JPEG decoded to RGB (alpha dropped),
 * converted to grey (ITU-R BT.601 luma) for 1-channel models, squashed to the card's size with the same
 * resampler the folder datasets use (area averaging when shrinking, bilinear when enlarging), divided by 255
 * and normalised with the card's per-channel mean/std. An RGB image for a 3-channel model therefore becomes
 * exactly what `--dataset folder` training fed the network.
 */
import { PixelSink, chw, hwc } from '../data/common.js';
import { decodeImage } from '../data/folder.js';
import type { Preprocessing } from './card.js';

/** RGBA pixels (as decoded) → one normalised C×H×W image written into `sink` at index i. */
export function putRgba(sink: PixelSink, i: number, rgba: Uint8Array, width: number, height: number): void {
  if (sink.channels === 3) {
    sink.put(i, rgba, hwc(0, height, width, 4), 1 / 255);
    return;
  }
  const grey = new Float32Array(width * height);
  for (let p = 0; p < grey.length; p++) grey[p] = 0.299 * rgba[4 * p] + 0.587 * rgba[4 * p + 1] + 0.114 * rgba[4 * p + 2];
  sink.put(i, grey, chw(0, height, width), 1 / 255);
}

/** Decodes and preprocesses image files into one NCHW float32 batch (errors name the file). */
export function preprocessFiles(files: readonly string[], channels: number, prep: Preprocessing): Float32Array {
  const [h, w] = prep.resize;
  const sink = new PixelSink(files.length, channels, h, w, { mean: prep.mean, std: prep.std });
  files.forEach((f, i) => {
    const img = decodeImage(f);
    putRgba(sink, i, img.data, img.width, img.height);
  });
  return sink.images;
}
