/**
 * The one interface every weights file format implements. The model, the weight packing and the
 * ONNX exporter see only this: tensor names, shapes and dtypes, and a way to read one tensor as
 * float32 into a destination the caller owns (usually a view on WebAssembly memory, so the
 * weights are never held twice in full).
 *
 * Formats (safetensors, PyTorch zip and legacy pickles, Keras HDF5) are chosen by the file's
 * magic bytes in `open.ts`; name schemes (timm, torchvision, EfficientNet-PyTorch, Keras) are
 * mapped onto timm's names and PyTorch layouts in `naming/`, so everything past that point reads
 * timm names in `[out, in/groups, kh, kw]` / `[out, in]` layout.
 */

/** Element types a weights file may store. Only the float ones can be read as weights. */
export type WeightDtype =
  | 'F64' | 'F32' | 'F16' | 'BF16'
  | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'U16' | 'U32' | 'U64' | 'BOOL' | 'F8_E4M3' | 'F8_E5M2';

/** The container a weights file was read from, as detected from its first bytes. */
export type WeightFormat = 'safetensors' | 'pytorch-zip' | 'pytorch-legacy' | 'hdf5';

export interface SourceTensor {
  readonly name: string;
  readonly dtype: WeightDtype;
  readonly shape: readonly number[];
}

/** Mean and standard deviation per RGB channel (on 0..1 pixels) that a file itself carries. */
export interface SourceNormalization {
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

export interface WeightSource {
  readonly format: WeightFormat;
  /** Every tensor of the file, by name, in the file's (or the mapped scheme's) naming. */
  readonly tensors: ReadonlyMap<string, SourceTensor>;
  /**
   * Decodes tensor `name` to float32 into `destination`, whose length must equal the tensor's
   * element count. Throws WeightsFormatError when the stored bytes cannot be read, and
   * WeightsMismatchError when the tensor is absent or not a float dtype.
   */
  readInto(name: string, destination: Float32Array): void;
  /** Input normalisation stored in the file (a Keras model's `normalization` layer), if any. */
  readonly normalization?: SourceNormalization;
  /** Free-form string metadata (safetensors `__metadata__`; marks synthetic weights). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * Random access to the bytes of a file. In memory it is a `Uint8Array`; in Node it can be a file
 * descriptor read by range (`readSync` at an offset), so a 2 GB checkpoint is never loaded whole.
 */
export interface ByteSource {
  readonly length: number;
  /** `length` bytes from `offset`; throws WeightsFormatError if the range passes the end. */
  read(offset: number, length: number): Uint8Array;
}

/** Number of elements of a shape; `[]` is a scalar (1 element). */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}
