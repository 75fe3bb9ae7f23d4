/**
 * Every failure a user can cause is one of these classes. Each message says what was wrong,
 * where, and what was expected, so the CLI can print it as one line and a caller can branch on
 * the class (or on `code`, which survives structured cloning to and from workers).
 */
export class EfficientNetError extends Error {
  readonly code: string = 'EFFICIENTNET_ERROR';
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A weights file that is not a well-formed safetensors file. */
export class WeightsFormatError extends EfficientNetError {
  override readonly code: string = 'WEIGHTS_FORMAT';
}

/** A well-formed weights file whose tensors do not match the requested network. */
export class WeightsMismatchError extends EfficientNetError {
  override readonly code: string = 'WEIGHTS_MISMATCH';
}

/** An input tensor, `.npy` file or option whose shape or value cannot be used. */
export class InputShapeError extends EfficientNetError {
  override readonly code: string = 'INPUT_SHAPE';
}

/** Image bytes that cannot be decoded. */
export class ImageDecodeError extends EfficientNetError {
  override readonly code: string = 'IMAGE_DECODE';
}

/** A request whose memory or size would pass a hard limit (wasm32 memory, pixel count, header size). */
export class ResourceLimitError extends EfficientNetError {
  override readonly code: string = 'RESOURCE_LIMIT';
}

/** An unknown variant, preset or option value. */
export class ConfigError extends EfficientNetError {
  override readonly code: string = 'CONFIG';
}

/**
 * An output directory that cannot be used for this run: made by another model, weights, list,
 * layer or shard, or holding files this tool did not write.
 */
export class OutputMismatchError extends EfficientNetError {
  override readonly code: string = 'OUTPUT_MISMATCH';
}
