/**
 * The work of decoding a list of image files, as jobs a worker thread runs (the worker-thread runner's executor:
 * `executeJob`): `probe` reads the files' headers (size, grey or colour), `decode` decodes a range of files into
 * rows of the image cache, written by the thread itself at their positions in the pixels file, and returns the
 * rows' byte histograms. The same functions run in the calling thread for small lists.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { decodeFile, probeImage, type ImageHeader } from './decode.js';
import { Histogram, putRow } from './pixels.js';

export interface ProbeJob {
  kind: 'probe';
  files: string[];
  maxPixels: number;
}

export interface DecodeJob {
  kind: 'decode';
  files: string[];
  /** Row of the first file. */
  row0: number;
  shape: [number, number, number];
  /** Pixels file to write into (positional writes); absent: the rows are returned. */
  pixelsFile?: string;
  maxPixels: number;
}

export interface DecodeResult {
  histogram: number[];
  /** The rows, when no pixels file was given. */
  bytes?: Uint8Array;
}

export function probeFiles(job: ProbeJob): ImageHeader[] {
  return job.files.map((f) => probeImage(f, job.maxPixels));
}

export function decodeFiles(job: DecodeJob): DecodeResult {
  const [c, h, w] = job.shape;
  const per = c * h * w;
  const rows = new Uint8Array(job.files.length * per);
  const hist = new Histogram(c);
  job.files.forEach((f, k) => {
    const p = decodeFile(f, job.maxPixels);
    putRow(p.data, p.height, p.width, p.channels, rows, k * per, c, h, w);
    hist.addRow(rows, k * per, h * w);
  });
  if (job.pixelsFile !== undefined) {
    const fd = openSync(job.pixelsFile, 'r+');
    try {
      let done = 0;
      while (done < rows.length) done += writeSync(fd, rows, done, rows.length - done, job.row0 * per + done);
    } finally {
      closeSync(fd);
    }
    return { histogram: Array.from(hist.counts) };
  }
  return { histogram: Array.from(hist.counts), bytes: rows };
}

/** The worker-thread runner's entry (runner/worker.ts calls it for every job). */
export async function executeJob(job: ProbeJob | DecodeJob): Promise<ImageHeader[] | DecodeResult> {
  return job.kind === 'probe' ? probeFiles(job) : decodeFiles(job);
}
