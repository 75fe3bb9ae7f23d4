/**
 * RGB or RGBA image -> normalised NCHW float32 tensor, exactly as timm's eval transform with Pillow:
 * the same 8-bit pixels after resize and crop, then the same float32 normalisation.
 *
 * All pixel arithmetic runs in the core (`assembly/resize.ts`); this file plans geometry and
 * moves bytes. Cropping after a resize keeps a window of output pixels, and each output pixel
 * depends only on its own input window, so only the kept window is computed: coefficient tables
 * for the kept columns and rows, and the copy into the core and the horizontal pass over just
 * the source rows the kept rows read. The bytes are those of a full resize followed by the crop.
 */
import { InputShapeError, ResourceLimitError } from '../errors.js';
import type { Interpolation } from '../arch/presets.js';
import { instantiateCore, type WasmSource } from '../runtime/wasm.js';
import type { PixelData, RgbImage } from './decode.js';
import { planResize, type PreprocessRecipe, type ResizePlan } from './recipe.js';
import type { WasmGlobal, WasmMemory } from '../runtime/wasm-types.js';

type Ptr = number;

/** The resize kernels of the core, typed. */
export interface ResizeKernels {
  readonly memory: WasmMemory;
  readonly RESAMPLE_FILTER_BILINEAR: WasmGlobal;
  readonly RESAMPLE_FILTER_BICUBIC: WasmGlobal;
  readonly RESAMPLE_PRECISION_BITS: WasmGlobal;
  heap_base(): Ptr;
  resample_taps(inSize: number, outSize: number, filter: number): number;
  resample_coefficients(inSize: number, outSize: number, first: number, count: number, filter: number, bounds: Ptr, weights: Ptr): void;
  resample_horizontal_rgb8(input: Ptr, pixelBytes: number, rows: number, inWidth: number, outWidth: number, taps: number, bounds: Ptr, weights: Ptr, output: Ptr): void;
  resample_vertical_rgb8(input: Ptr, firstRow: number, width: number, outRows: number, taps: number, bounds: Ptr, weights: Ptr, output: Ptr): void;
  rgb8_normalize_to_nchw(input: Ptr, height: number, width: number, mean: Ptr, std: Ptr, output: Ptr): void;
}

/** The core's code for a filter, read from the module's exported constants. */
export function resampleFilterCode(kernels: ResizeKernels, interpolation: Interpolation): number {
  return Number(interpolation === 'bicubic' ? kernels.RESAMPLE_FILTER_BICUBIC.value : kernels.RESAMPLE_FILTER_BILINEAR.value);
}

export interface PreprocessorOptions {
  /** Where the core comes from (default: the package's build/efficientnet.wasm). */
  readonly wasm?: WasmSource;
}

/**
 * Images are RGB (`decodeImage`'s output) or RGBA pixels, `[height, width, 3 or 4]`; alpha is
 * ignored, as PIL's convert('RGB') drops it, so a decoder's RGBA needs no conversion first.
 */
export interface Preprocessor {
  /** The recipe's 8-bit square crop after the resize: what Pillow gives before ToTensor. */
  resizeAndCrop(image: PixelData, recipe: PreprocessRecipe): RgbImage;
  /** One image -> [3, size, size] float32 (NCHW without the batch axis). */
  preprocess(image: PixelData, recipe: PreprocessRecipe): Float32Array;
  /** Several images -> [n, 3, size, size] float32, ready for EfficientNet.forward. */
  preprocessBatch(images: readonly PixelData[], recipe: PreprocessRecipe): Float32Array;
  /** One image into `output`, `[3, size, size]` float32 (e.g. a buffer used again for every image). */
  preprocessInto(image: PixelData, recipe: PreprocessRecipe, output: Float32Array): void;
}

/** A bump allocator over the preprocessor's own instance: reset before each image. */
class Arena {
  private top: number;
  constructor(private readonly memory: WasmMemory, private readonly base: number) {
    this.top = base;
  }
  reset(): void {
    this.top = this.base;
  }
  /** `bytes` bytes, 16-byte aligned (the vertical pass uses 16-byte vector loads). */
  alloc(bytes: number): Ptr {
    const offset = Math.ceil(this.top / 16) * 16; // not `& ~15`: offsets may pass 2^31
    const end = offset + bytes;
    const available = this.memory.buffer.byteLength;
    if (end > available) {
      try {
        this.memory.grow(Math.ceil((end - available) / 65536));
      } catch {
        throw new ResourceLimitError(`preprocessing needs ${end} bytes of WebAssembly memory, more than the engine can provide`);
      }
    }
    this.top = end;
    return offset;
  }
  bytes(offset: Ptr, length: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, offset, length);
  }
}

/** Pixels stored (or addressed by a 32-bit index) in wasm32 memory stay below 4 GiB. */
const MAX_IMAGE_BYTES = 2 ** 31;

class WasmPreprocessor implements Preprocessor {
  private readonly arena: Arena;
  constructor(private readonly kernels: ResizeKernels) {
    this.arena = new Arena(kernels.memory, Number(kernels.heap_base()));
  }

  resizeAndCrop(image: PixelData, recipe: PreprocessRecipe): RgbImage {
    this.arena.reset();
    const plan = planResize(image.width, image.height, recipe);
    const crop = this.cropInMemory(image, recipe, plan);
    return { data: this.arena.bytes(crop, plan.size * plan.size * 3).slice(), width: plan.size, height: plan.size };
  }

  preprocess(image: PixelData, recipe: PreprocessRecipe): Float32Array {
    const output = new Float32Array(3 * recipe.size * recipe.size); // [3, size, size]
    this.preprocessInto(image, recipe, output);
    return output;
  }

  preprocessBatch(images: readonly PixelData[], recipe: PreprocessRecipe): Float32Array {
    const perImage = 3 * recipe.size * recipe.size;
    const output = new Float32Array(images.length * perImage); // [n, 3, size, size]
    images.forEach((image, i) => this.preprocessInto(image, recipe, output.subarray(i * perImage, (i + 1) * perImage)));
    return output;
  }

  /** output: [3, size, size]. */
  preprocessInto(image: PixelData, recipe: PreprocessRecipe, output: Float32Array): void {
    if (output.length !== 3 * recipe.size * recipe.size) {
      throw new InputShapeError(`the output holds ${output.length} values, not 3x${recipe.size}x${recipe.size}`);
    }
    this.arena.reset();
    const plan = planResize(image.width, image.height, recipe);
    const crop = this.cropInMemory(image, recipe, plan);
    const mean = this.arena.alloc(12); // [3] f32
    const std = this.arena.alloc(12); // [3] f32
    const tensor = this.arena.alloc(output.byteLength); // [3, size, size] f32
    const memory = this.kernels.memory.buffer;
    new Float32Array(memory, mean, 3).set(recipe.mean);
    new Float32Array(memory, std, 3).set(recipe.std);
    this.kernels.rgb8_normalize_to_nchw(crop, plan.size, plan.size, mean, std, tensor);
    output.set(new Float32Array(this.kernels.memory.buffer, tensor, output.length));
  }

  /** Copies the source rows the crop reads in, resizes the kept window; returns the crop's offset, [size, size, 3] u8. */
  private cropInMemory(image: PixelData, recipe: PreprocessRecipe, plan: ResizePlan): Ptr {
    const { width, height, data } = image;
    const pixelBytes = data.length === width * height * 4 ? 4 : 3;
    if (data.length !== width * height * pixelBytes) {
      throw new InputShapeError(`image data holds ${data.length} bytes, not ${width}x${height}x3 (RGB) or ${width}x${height}x4 (RGBA)`);
    }
    if (data.length > MAX_IMAGE_BYTES) {
      throw new ResourceLimitError(`a ${width}x${height} image is ${data.length} bytes, above the ${MAX_IMAGE_BYTES} bytes preprocessing supports`);
    }
    const k = this.kernels;
    const { size } = plan;
    const filter = resampleFilterCode(k, recipe.interpolation);

    const columns = this.axisCoefficients(width, plan.resizeWidth, plan.cropLeft, size, filter);
    const rows = this.axisCoefficients(height, plan.resizeHeight, plan.cropTop, size, filter);
    // Windows move monotonically, so the kept rows read source rows [first window's start, last window's end).
    const rowBounds = new Int32Array(k.memory.buffer, rows.bounds, size * 2); // [size, 2]
    const firstRow = rowBounds[0];
    const endRow = rowBounds[(size - 1) * 2] + rowBounds[(size - 1) * 2 + 1];

    // Both passes always run: Pillow skips a pass whose size is unchanged, but at scale 1 every
    // window is a single weight of exactly 1.0, so the pass copies (resize-kernels.test.ts checks).
    const rowBytes = width * pixelBytes;
    const sourceBytes = (endRow - firstRow) * rowBytes;
    // With 3-byte pixels the horizontal pass reads up to 4 bytes past the last pixel; they are never used.
    const source = this.arena.alloc(sourceBytes + 4); // [endRow - firstRow, width, pixelBytes] u8, then 4 spare bytes
    this.arena.bytes(source, sourceBytes).set(data.subarray(firstRow * rowBytes, endRow * rowBytes));
    const horizontal = this.arena.alloc((endRow - firstRow) * size * 3); // [endRow - firstRow, size, 3] u8
    k.resample_horizontal_rgb8(source, pixelBytes, endRow - firstRow, width, size, columns.taps, columns.bounds, columns.weights, horizontal);
    const crop = this.arena.alloc(size * size * 3); // [size, size, 3] u8
    k.resample_vertical_rgb8(horizontal, firstRow, size, size, rows.taps, rows.bounds, rows.weights, crop);
    return crop;
  }

  /** Tables for output indices [first, first + count) of a resize inSize -> outSize. */
  private axisCoefficients(inSize: number, outSize: number, first: number, count: number, filter: number): { taps: number; bounds: Ptr; weights: Ptr } {
    const taps = this.kernels.resample_taps(inSize, outSize, filter);
    const bounds = this.arena.alloc(count * 8); // [count, 2] i32
    const weights = this.arena.alloc(count * taps * 4); // [count, taps] i32
    this.kernels.resample_coefficients(inSize, outSize, first, count, filter, bounds, weights);
    return { taps, bounds, weights };
  }
}

/** A preprocessor on a core instance of its own (a few MB for typical photos; it grows as needed). */
export async function createPreprocessor(options: PreprocessorOptions = {}): Promise<Preprocessor> {
  return new WasmPreprocessor((await instantiateCore(options.wasm)) as unknown as ResizeKernels);
}
