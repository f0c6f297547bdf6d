/** Saved models: the folder format (card + safetensors weights + sample images), preprocessing, size and latency. */
export { MODEL_FORMAT, MODEL_FORMAT_VERSION, MANIFEST_FILE, WEIGHTS_FILE, SAMPLES_FILE, parseCard, className, type ModelCard, type TrainingRecord, type Accuracies, type Preprocessing } from './card.js';
export { saveModel, loadModel, checkModelDestination, MODEL_FOLDER, weightTensors, MAX_SAMPLES, type ModelToSave, type LoadedModel } from './store.js';
export { encodeSafetensors, decodeSafetensors, type SafeTensor, type SafeDtype } from './safetensors.js';
export { buildSpecNetwork, canonicalArch, type NetworkSpec } from './network.js';
export { preprocessFiles } from './preprocess.js';
export { architectureCost, type ArchitectureCost } from './cost.js';
export { measureLatency, type Latency, type LatencyOptions } from './latency.js';
