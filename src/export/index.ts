/** Exports of saved models: ONNX, TF.js LayersModel, PyTorch (model.py + safetensors), each with a test vector. */
export { exportModel, EXPORT_FORMATS, SAMPLE_INPUT_FILE, SAMPLE_LOGITS_FILE, type ExportFormat, type ExportBundle, type SampleLogits } from './bundle.js';
export { exportOnnx, ONNX_OPSET, type OnnxExportOptions } from './onnx.js';
export { exportTfjs, samePoolPlan, TFJS_WEIGHTS_FILE, type TfjsModel, type TfjsExportOptions } from './tfjs.js';
export { exportPytorch, PYTORCH_WEIGHTS_FILE, type PytorchExport } from './pytorch.js';
export { traceNetwork, liveNodes, type Graph, type GraphNode, type GraphOp } from './graph.js';
