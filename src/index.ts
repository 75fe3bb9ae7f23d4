/**
 * efficientnet-wasm: EfficientNet B0-B8 and L2, EfficientNet-Lite0-4 and EfficientNetV2 inference on a SIMD WebAssembly core.
 *
 * Start with `EfficientNet.create({ model, weights })`, then `classify`, `embed`, `features` or
 * `forward`. Everything else here is for inspecting the architecture, reading and writing
 * weights, and handling errors.
 */
export {
  EfficientNet, classLabel,
  type Backend, type CreateOptions, type ForwardOptions, type ForwardResult, type ImageInput, type ImageOptions,
  type ClassifyOptions, type Prediction, type FeatureMap, type ThreadingReport, type SimdMode, type SimdReport,
} from './efficientnet.js';
export type { EmbedManyInput, EmbedManyOptions, EmbedManyResult } from './embed-many.js';
export {
  EfficientNetError, WeightsFormatError, WeightsMismatchError, InputShapeError, ImageDecodeError,
  ResourceLimitError, ConfigError, OutputMismatchError,
} from './errors.js';

// The architecture as data.
export { VARIANTS, VARIANT_NAMES, variantTitle, type VariantName, type ScalingCoefficients } from './arch/variants.js';
export { B0_STAGES, STEM, HEAD_CHANNELS, SE_RATIO, type StageSpec, type BlockKind } from './arch/stages.js';
export {
  roundChannels, roundRepeats, squeezeChannels, customScaling, compoundScaling, compoundCoefficients, compoundCostFactor, PAPER_COMPOUND,
  type CompoundCoefficients,
} from './arch/scaling.js';
export {
  summarizeCompoundScaling, scaleOneAxis, SCALING_AXES, type CompoundScalingOptions, type CompoundScalingSummary, type ScalingAxis,
  type SingleAxisScaling,
} from './scaling-summary.js';
export { buildNetwork, decodeTopology, type NetworkSpec, type BlockSpec } from './arch/network.js';
export {
  EFFICIENTNET, EFFICIENTNET_LITE, EFFICIENTNET_V2_BASE, EFFICIENTNET_V2_S, EFFICIENTNET_V2_M, EFFICIENTNET_V2_L, EFFICIENTNET_V2_XL,
  EFFICIENTNET_V2_RW_S,
} from './arch/stages.js';
export type { Topology, ActivationName, ResidualRule, EndConvSpec } from './arch/topology.js';
export { networkLayers, expectedTensors, type LayerSpec, type TensorSpec } from './arch/layers.js';
export { summarizeNetwork, type NetworkSummary } from './arch/summary.js';
export { PRESETS, PRESET_NAMES, findPreset, type CheckpointPreset } from './arch/presets.js';
export { DEFAULT_BN_EPS, PADDING_MODES, type PaddingMode } from './arch/padding.js';

// Weights.
export { parseSafetensors, readTensorAsFloat32, type SafetensorsFile, type TensorEntry } from './weights/safetensors.js';
export { writeSafetensors, writeSafetensorsFrom } from './weights/safetensors-writer.js';
export { createSyntheticWeights, type SyntheticWeightsOptions } from './weights/synthetic.js';
export { openWeights, detectFormat, ACCEPTED_FORMATS } from './weights/open.js';
export { loadWeights } from './weights/load.js';
export { toTimmNaming, type NamingScheme, type NamedWeights } from './weights/naming/index.js';
export { inferShape, type InferredShape } from './weights/infer-variant.js';
export { memoryByteSource } from './weights/byte-source.js';
export { readFloat32 } from './weights/read.js';
export type { WeightSource, SourceTensor, ByteSource, WeightFormat, WeightDtype, SourceNormalization } from './weights/source.js';

// Images.
export { decodeImage, type RgbImage, type PixelData, type DecodeOptions, type ImageCodecs, type CodecWasm } from './image/decode.js';
export { preprocessRecipe, type PreprocessRecipe, type RecipeOptions } from './image/recipe.js';
export { createPreprocessor, type Preprocessor } from './image/preprocess.js';
export { IMAGENET_CLASS_NAMES } from './image/imagenet-classes.js';

export type { WasmSource } from './runtime/wasm.js';
