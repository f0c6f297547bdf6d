import type { BayesOptStream } from '../gp/bayesopt.js';
import type { NormaliseKind } from './normalise.js';
import { randomSearch } from './random.js';
import { createRea } from './rea.js';
import { reinforce } from './reinforce.js';
import { createRobot } from './robot.js';
import { createRobotPlus } from './robot-plus.js';
import { SettingError } from '../util/errors.js';
import { createGreedyMetric } from './training-free.js';
import type { SearchMethod } from './types.js';

/**
 * CLI method ids (a stable contract). `robot` is the paper's algorithm, `robot-plus` the robust variant (the default
 * of `bench` and `search`); tf-avg/tf-best are aggregates over single metrics.
 */
export const METHOD_IDS = ['robot-plus', 'robot', 'rs', 'rea', 'reinforce', 'tf-avg', 'tf-best'] as const;
export type MethodId = (typeof METHOD_IDS)[number];

export function isMethodId(x: string): x is MethodId {
  return (METHOD_IDS as readonly string[]).includes(x);
}

/** The method `bench` and `search` run when none is named. */
export const DEFAULT_METHOD: MethodId = 'robot-plus';

/** The metric normalisation a method uses unless told otherwise: RoBoT+ takes decades-spanning metrics in log. */
export function defaultNormalise(id: string): NormaliseKind {
  return id === 'robot-plus' ? 'log-minmax' : 'minmax';
}

export interface MethodSettings {
  readonly metrics: readonly string[];
  readonly normalise: NormaliseKind;
  readonly acquisition: 'ucb' | 'ei';
  /** RoBoT's BO random stream: 'reference' replays bayes_opt's draws, 'fast' is cheaper (default DEFAULT_BO_STREAM). */
  readonly stream?: BayesOptStream;
  /** RoBoT+ with one of its changes taken away (the robustness study's ablations). */
  readonly plus?: RobotPlusVariant;
}

/** What a RoBoT+ ablation may switch off (serialisable: it travels in study jobs). */
export interface RobotPlusVariant {
  readonly design?: boolean;
  readonly exploit?: 'refit' | 'best';
  readonly restarts?: boolean;
}

/** A fresh search method instance for one run. */
export function createMethod(id: Exclude<MethodId, 'tf-avg' | 'tf-best'>, s: MethodSettings): SearchMethod {
  switch (id) {
    case 'robot':
      return createRobot({ metrics: [...s.metrics], normalise: s.normalise, acquisition: s.acquisition, stream: s.stream });
    case 'robot-plus':
      return createRobotPlus({ metrics: [...s.metrics], normalise: s.normalise, acquisition: s.acquisition, ...s.plus });
    case 'rs':
      return randomSearch;
    case 'rea':
      return createRea();
    case 'reinforce':
      return reinforce;
  }
}

/**
 * The method a real-data search runs for an id: `robot-plus`, `robot`, `rs`, `rea`, `reinforce`, or `metric:<name>` (the
 * top-T architectures of one scored metric). The aggregates tf-avg/tf-best need a benchmark and are refused.
 */
export function searchMethod(id: string, metrics: readonly string[]): SearchMethod {
  if (id.startsWith('metric:')) {
    const m = id.slice('metric:'.length);
    if (!metrics.includes(m)) throw new SettingError('method', `${id}: '${m}' is not one of the scored metrics (${metrics.join(', ')})`);
    return createGreedyMetric(m);
  }
  if (!isMethodId(id) || id === 'tf-avg' || id === 'tf-best') {
    throw new SettingError('method', `expected robot-plus, robot, rs, rea, reinforce or metric:<name>, got ${id}`);
  }
  return createMethod(id, { metrics, normalise: defaultNormalise(id), acquisition: 'ucb' });
}
