import type { NormaliseKind } from '../search/normalise.js';
import { randomSearch } from '../search/random.js';
import { createRea } from '../search/rea.js';
import { reinforce } from '../search/reinforce.js';
import { createRobot } from '../search/robot.js';
import type { SearchMethod } from '../search/types.js';

/** CLI method ids (a stable contract). tf-avg/tf-best are aggregates over single metrics. */
export const METHOD_IDS = ['robot', 'rs', 'rea', 'reinforce', 'tf-avg', 'tf-best'] as const;
export type MethodId = (typeof METHOD_IDS)[number];

export function isMethodId(x: string): x is MethodId {
  return (METHOD_IDS as readonly string[]).includes(x);
}

export interface MethodSettings {
  readonly metrics: readonly string[];
  readonly normalise: NormaliseKind;
  readonly acquisition: 'ucb' | 'ei';
  /** RoBoT's BO random stream: 'reference' replays bayes_opt's draws (default), 'fast' is cheaper. */
  readonly stream?: 'reference' | 'fast';
}

/** A fresh search method instance for one run. */
export function createMethod(id: Exclude<MethodId, 'tf-avg' | 'tf-best'>, s: MethodSettings): SearchMethod {
  switch (id) {
    case 'robot':
      return createRobot({ metrics: [...s.metrics], normalise: s.normalise, acquisition: s.acquisition, stream: s.stream });
    case 'rs':
      return randomSearch;
    case 'rea':
      return createRea();
    case 'reinforce':
      return reinforce;
  }
}
