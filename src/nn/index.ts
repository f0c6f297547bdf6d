/** Neural-network substrate of the training-free metrics: engine setup, network definitions, parameters. */
export { initBackend, backendInfo, BACKEND_NAMES, type BackendName, type BackendInfo } from './backend.js';
export { buildNb201, nb201EdgeOps, type Nb201Config } from './nb201.js';
export { buildDarts, type DartsConfig } from './darts.js';
export { NetworkBuilder } from './builder.js';
export type { Network, Exec, ParamSpec, WeightLayer, Conv2dLayer, LinearLayer, BatchNormLayer, ReluSite, InitSpec } from './layers.js';
export { initParams, paramsFromBuffer, countParams, toTensors, type ParamValues } from './params.js';
export { TrainExec, SynflowExec } from './exec.js';
export { AdExec } from './autodiff.js';
export { symmetricEigenvalues, slogdet, choleskyLogDet, corrcoef } from './linalg.js';
export { PROJECT_WASM_KERNELS } from './tfjs-kernels.js';
export { initEngine, type EngineInfo, type EngineKind } from './engine/kernels.js';
export { PROJECT_GRADIENTS } from './grads.js';
