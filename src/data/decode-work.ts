/**
 * The work of decoding a list of image files, in pieces worker threads run (`decodeExecutor`, given to the
 * worker-thread runner): `probe` reads the files' headers (size, grey or colour), `decode` decodes a range of files
 * into rows of the image cache, written by the thread itself at their positions in the pixels file, and returns the
 * rows' byte histograms. The same functions run in the calling thread for small lists.
 *
 * These pieces are parts of one decoding, not jobs (src/jobs/): they have no key and are never queued or stored.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Executor } from '../runner/types.js';
import { decodeFile, probeImage, type ImageHeader } from './decode.js';
import { Histogram, putRow } from './pixels.js';

export interface ProbeWork {
  op: 'probe';
  files: string[];
  maxPixels: number;
}

export interface DecodeWork {
  op: 'decode';
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

export function probeFiles(job: ProbeWork): ImageHeader[] {
  return job.files.map((f) => probeImage(f, job.maxPixels));
}

export function decodeFiles(job: DecodeWork): DecodeResult {
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

/** Runs a piece of decoding work in this thread. */
export function decodeWork(w: ProbeWork | DecodeWork): ImageHeader[] | DecodeResult {
  return w.op === 'probe' ? probeFiles(w) : decodeFiles(w);
}

/** The executor of decoding work on worker threads (each thread builds it from this module). */
export function decodeExecutor(): Executor<ProbeWork | DecodeWork, ImageHeader[] | DecodeResult> {
  return {
    run: async (w) => decodeWork(w),
    key: (w) => `${w.op}-${w.files[0] ?? ''}-${w.files.length}`,
    kind: (w) => w.op,
    label: (w) => `${w.op} ${w.files.length} files`,
    subject: (w) => w.files[0] ?? '',
    check: (v) => v as ProbeWork | DecodeWork,
    thread: { module: import.meta.url, name: 'decodeExecutor', options: {} },
  };
}
