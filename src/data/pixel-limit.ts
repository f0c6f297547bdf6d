/** The largest image robot-nas decodes (a module of its own: the CLI's options read it without loading the decoders). */
import { InputError } from '../util/errors.js';

/** Images above this many pixels are refused before decoding (`--max-pixels`, or ROBOT_NAS_MAX_PIXELS). */
export const DEFAULT_MAX_PIXELS = 40_000_000;

/**
 * The pixel limit in force: ROBOT_NAS_MAX_PIXELS (which `--max-pixels` sets, so that worker threads see it too), or
 * DEFAULT_MAX_PIXELS. A decoded image takes 4 bytes a pixel, and decoding a 20000×20000 PNG takes half a minute and
 * 3 GB before it is shrunk to 32×32: an image that large in a dataset is almost certainly a mistake.
 */
export function maxImagePixels(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.ROBOT_NAS_MAX_PIXELS;
  if (v === undefined || v === '') return DEFAULT_MAX_PIXELS;
  const n = Number(v);
  if (!(Number.isSafeInteger(n) && n >= 1)) throw new InputError(`ROBOT_NAS_MAX_PIXELS=${v}: expected a positive whole number of pixels`);
  return n;
}
