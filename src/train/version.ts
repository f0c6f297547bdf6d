/**
 * Version of the numerics a training result depends on (the engine's kernels, the autodiff, the optimiser,
 * augmentation, data order). It is part of every training's cache key, so a query cache never hands back a
 * result computed by older numerics. Bump it in the same commit as any change that moves a training's
 * numbers; `test/train/version.test.ts` fails when a fixture training's result changes without a bump.
 */
export const TRAINING_CODE_VERSION = 2;
