/** The peers fold BN exactly as the ONNX exporter does: one float64 fold, shared from src/onnx. */
export { foldLayer, type FoldedLayer } from '../../src/onnx/fold.js';
