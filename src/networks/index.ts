/** Network definitions: the Exec interface and layers, NB201 and DARTS, parameters, the loss. */
export { buildNb201, nb201EdgeOps, type Nb201Config } from './nb201.js';
export { buildDarts, type DartsConfig } from './darts.js';
export { buildNetwork, type NetworkSize } from './build.js';
export { NetworkBuilder } from './builder.js';
export type { Network, Exec, ParamSpec, WeightLayer, Conv2dLayer, LinearLayer, BatchNormLayer, ReluSite, InitSpec } from './layers.js';
export { initParams, paramsFromBuffer, countParams, execParams, type ParamValues } from './params.js';
export { crossEntropySeed } from './loss.js';
