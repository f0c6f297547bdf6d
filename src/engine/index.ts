/** The engine: tensors in one shared memory, operations on the kernels (native or wasm), autodiff. */
export { initEngine, getEngine, kernelFallbackReason, type EngineInfo, type EngineOptions, type KernelBackend } from './kernels.js';
export { Tensor, inArena, disposeArena } from './tensor.js';
export { AdExec, type ADNode, type AdExecOptions, type BackwardMode, type BackwardResult, type Grad, type GradIn, type BnBatchStats, type BnRunningStats } from './autodiff.js';
