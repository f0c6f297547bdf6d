/**
 * One image's pixels → a row of the image cache: `channels` planes of height×width bytes (CHW). Grey to RGB
 * repeats the grey value; RGB to grey is ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B); resizing is area
 * averaging when shrinking and bilinear (half-pixel centres, like PyTorch's align_corners=False) when enlarging,
 * rounded to the nearest byte. Same size and channels is a plain copy.
 */
import { cachedTaps } from './common.js';

/** Luma of one RGB pixel, rounded to a byte. */
export const luma = (r: number, g: number, b: number): number => Math.round(0.299 * r + 0.587 * g + 0.114 * b);

/**
 * Writes an interleaved image (`srcChannels` values per pixel, 1 or 3) of srcH×srcW into `out` at `offset` as
 * `channels` planes of h×w.
 */
export function putRow(
  src: Uint8Array,
  srcH: number,
  srcW: number,
  srcChannels: number,
  out: Uint8Array,
  offset: number,
  channels: number,
  h: number,
  w: number,
): void {
  const n = srcH * srcW;
  const same = srcH === h && srcW === w;
  for (let c = 0; c < channels; c++) {
    // the source plane of output channel c, before resizing
    let plane: Uint8Array;
    if (srcChannels === 1) plane = src.subarray(0, n);
    else if (channels === 3) {
      plane = new Uint8Array(n);
      for (let p = 0; p < n; p++) plane[p] = src[p * srcChannels + c]!;
    } else {
      plane = new Uint8Array(n);
      for (let p = 0; p < n; p++) plane[p] = luma(src[p * srcChannels]!, src[p * srcChannels + 1]!, src[p * srcChannels + 2]!);
    }
    const o = offset + c * h * w;
    if (same) out.set(plane, o);
    else resizeBytes(plane, srcH, srcW, out, o, h, w);
  }
}

let tmp = new Float32Array(0);

/** Separable resize of one byte plane (rows, then columns), rounded to bytes. */
export function resizeBytes(src: Uint8Array, h: number, w: number, out: Uint8Array, offset: number, oh: number, ow: number): void {
  const tx = cachedTaps(w, ow);
  const ty = cachedTaps(h, oh);
  if (tmp.length < h * ow) tmp = new Float32Array(h * ow);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let k = tx.start[x]!, e = k + tx.len[x]!; k < e; k++) s += src[y * w + tx.idx[k]!]! * tx.w[k]!;
      tmp[y * ow + x] = s;
    }
  }
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let k = ty.start[y]!, e = k + ty.len[y]!; k < e; k++) s += tmp[ty.idx[k]! * ow + x]! * ty.w[k]!;
      out[offset + y * ow + x] = s <= 0 ? 0 : s >= 255 ? 255 : Math.round(s);
    }
  }
}

/** Per-channel histograms of byte values (channels × 256 counts): exact statistics, whatever order rows come in. */
export class Histogram {
  readonly counts: Float64Array;
  constructor(readonly channels: number) {
    this.counts = new Float64Array(channels * 256);
  }

  addRow(row: Uint8Array, offset: number, plane: number): void {
    const c = this.counts;
    for (let ch = 0; ch < this.channels; ch++) {
      const base = ch * 256;
      const o = offset + ch * plane;
      for (let p = 0; p < plane; p++) c[base + row[o + p]!]++;
    }
  }

  add(counts: ArrayLike<number>): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += counts[i]!;
  }

  /** Mean and population std per channel of level(value) (default value/255); a constant channel gets std 1. */
  stats(levels?: ArrayLike<number>): { mean: number[]; std: number[] } {
    const mean: number[] = [];
    const std: number[] = [];
    for (let ch = 0; ch < this.channels; ch++) {
      let n = 0;
      let s = 0;
      for (let v = 0; v < 256; v++) {
        const k = this.counts[ch * 256 + v]!;
        n += k;
        s += k * (levels ? levels[v]! : v / 255);
      }
      const m = n > 0 ? s / n : 0;
      let q = 0;
      for (let v = 0; v < 256; v++) {
        const d = (levels ? levels[v]! : v / 255) - m;
        q += this.counts[ch * 256 + v]! * d * d;
      }
      const sd = n > 0 ? Math.sqrt(q / n) : 0;
      mean.push(m);
      std.push(sd > 1e-12 ? sd : 1);
    }
    return { mean, std };
  }
}
