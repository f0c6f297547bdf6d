import { InputError } from '../util/errors.js';
import type { SearchSpace } from './types.js';
import { nb201Space } from './nb201.js';
import { tnb101MicroSpace } from './tnb101-micro.js';
import { tnb101MacroSpace } from './tnb101-macro.js';
import { dartsSpace } from './darts.js';

export { SpaceError, type SearchSpace } from './types.js';
export { nb201Space, nb201FromOps, nb201ToOps, nb201FromTuple, nb201ToTuple, NB201_OPS } from './nb201.js';
export { tnb101MicroSpace, tnb101MicroToApi, TNB101_MICRO_OPS } from './tnb101-micro.js';
export { tnb101MacroSpace, tnb101MacroToApi, isTnb101MacroCode } from './tnb101-macro.js';
export {
  dartsSpace,
  sampleGenotype,
  parseGenotype,
  formatGenotype,
  genotypeToJson,
  DARTS_PRIMITIVES,
  DARTS_V2,
  type DartsGenotype,
  type DartsOp,
} from './darts.js';

/** Every space, by id. */
export const SPACES: readonly SearchSpace[] = [nb201Space, tnb101MicroSpace, tnb101MacroSpace];

/** Sampled spaces: reachable by id, but kept out of SPACES, whose users enumerate every space. */
const SAMPLED_SPACES: readonly SearchSpace[] = [dartsSpace];

/** The space with this id; an unknown id is a user error naming the valid ones. */
export function getSpace(id: string): SearchSpace {
  const all = [...SPACES, ...SAMPLED_SPACES];
  const space = all.find((s) => s.id === id);
  if (!space) throw new InputError(`unknown search space "${id}" (expected one of: ${all.map((s) => s.id).join(', ')})`);
  return space;
}
