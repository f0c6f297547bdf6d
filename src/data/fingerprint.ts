/** Content fingerprints of image datasets: what every stored result that depends on images is keyed by. */
import { createHash } from 'node:crypto';
import type { ImageDataset } from './types.js';

/**
 * SHA-256 (first 16 hex digits) of datasets' sizes, images and labels: what every stored result keyed by data uses
 * (trainings: the train + validation parts; metric tables and scoring jobs: the images scored from).
 */
export function fingerprint(parts: readonly ImageDataset[]): string {
  const h = createHash('sha256');
  for (const ds of parts) {
    h.update(`${ds.count}:${ds.channels}:${ds.height}:${ds.width}:${ds.classes};`);
    h.update(new Uint8Array(ds.images.buffer, ds.images.byteOffset, ds.images.byteLength));
    h.update(new Uint8Array(ds.labels.buffer, ds.labels.byteOffset, ds.labels.byteLength));
  }
  return h.digest('hex').slice(0, 16);
}

const fingerprints = new WeakMap<ImageDataset, string>();

/** The fingerprint of one loaded dataset (computed once per dataset object). */
export function datasetFingerprint(ds: ImageDataset): string {
  let f = fingerprints.get(ds);
  if (f === undefined) fingerprints.set(ds, (f = fingerprint([ds])));
  return f;
}
