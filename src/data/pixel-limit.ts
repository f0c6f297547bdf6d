/** The largest image robot-nas decodes (a module of its own: the CLI's options read it without loading the decoders). */
import { InputError, inputError } from '../util/errors.js';

/** Images above this many pixels are refused before decoding (`--max-pixels`, or ROBOT_NAS_MAX_PIXELS). */
export const DEFAULT_MAX_PIXELS = 50_000_000;

/**
 * The pixel limit in force: ROBOT_NAS_MAX_PIXELS (which `--max-pixels` sets, so that worker threads see it too), or
 * DEFAULT_MAX_PIXELS. Decoding a 20000×20000 PNG takes half a minute and gigabytes: an image that large in a dataset
 * is almost certainly a mistake, and is refused from its header.
 */
export function maxImagePixels(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.ROBOT_NAS_MAX_PIXELS;
  if (v === undefined || v === '') return DEFAULT_MAX_PIXELS;
  const n = Number(v);
  if (!(Number.isSafeInteger(n) && n >= 1)) throw new InputError(`ROBOT_NAS_MAX_PIXELS=${v}: expected a positive whole number of pixels`);
  return n;
}

/** The refusal of an image above the limit, naming the file and the remedy (one wording for every decoder). */
export function tooManyPixels(file: string, width: number, height: number, format: string, maxPixels: number): InputError {
  return inputError(
    file,
    undefined,
    `${width}×${height} ${format} image: ${((width * height) / 1e6).toFixed(1)} megapixels, above the limit of ${(maxPixels / 1e6).toFixed(1)} megapixels; ` +
      'shrink it, or raise the limit with --max-pixels N (ROBOT_NAS_MAX_PIXELS)',
  );
}
