/**
 * `train --from DIR` (or `--from DIR/result.json`): the answer of a search and the settings it was found with,
 * read from the search's output folder, so the architecture is never copy-pasted. Flags given on the command line
 * win over the search's settings (e.g. `--channels 32 --cells 3` to train the answer larger than the search proxy,
 * as DARTS does); the split (dataset, data, seed, valid fraction) is the search's unless overridden.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../util/errors.js';

/** What --from supplies: every train flag the search determined. */
export interface FromSearch {
  readonly space: 'nb201' | 'darts';
  readonly arch: string;
  readonly dataset: string;
  readonly data?: string;
  readonly imageSize?: number;
  readonly imageChannels?: 1 | 3;
  readonly channels: number;
  readonly cells: number;
  readonly validFraction: number;
  readonly seed: number;
}

function readJson(file: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`--from: cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new InputError(`--from: ${file} is not a valid ${what}: ${(e as Error).message}`);
  }
}

/** Reads a search output folder (or its result.json); every missing or malformed field is named. */
export function readSearchAnswer(from: string): FromSearch {
  const dir = existsSync(from) && statSync(from).isDirectory() ? from : basename(from) === 'result.json' ? dirname(from) : undefined;
  if (dir === undefined) throw new InputError(`--from: expected a search output folder or its result.json, got ${from}`);
  const resultFile = join(dir, 'result.json');
  const settingsFile = join(dir, 'settings.json');
  if (!existsSync(resultFile)) throw new InputError(`--from: ${dir} holds no result.json (is it the output folder of a finished robot-nas search?)`);
  const result = readJson(resultFile, 'search result');
  const settings = readJson(settingsFile, 'search settings file');
  const best = result.best as { arch?: unknown } | undefined;
  if (typeof best?.arch !== 'string') throw new InputError(`--from: ${resultFile}: field "best.arch" is missing (expected the answer's architecture string)`);
  const str = (k: string): string => {
    const v = settings[k];
    if (typeof v !== 'string') throw new InputError(`--from: ${settingsFile}: field "${k}" is missing or not a string`);
    return v;
  };
  const num = (k: string): number => {
    const v = settings[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new InputError(`--from: ${settingsFile}: field "${k}" is missing or not a number`);
    return v;
  };
  const space = str('space');
  if (space !== 'nb201' && space !== 'darts') throw new InputError(`--from: ${settingsFile}: field "space" is ${space}; expected nb201 or darts`);
  const data = settings.dir;
  const imageChannels = settings.imageChannels;
  return {
    space,
    arch: best.arch,
    dataset: str('dataset'),
    ...(typeof data === 'string' ? { data } : {}),
    ...(typeof settings.imageSize === 'number' ? { imageSize: settings.imageSize } : {}),
    ...(imageChannels === 1 || imageChannels === 3 ? { imageChannels } : {}),
    channels: num('channels'),
    cells: num('cells'),
    validFraction: num('validFraction'),
    seed: num('seed'),
  };
}
