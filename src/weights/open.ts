/**
 * Opens a weights file of any supported format, chosen by its first bytes (never by its name):
 *
 *   PK 03 04                      PyTorch zip (`torch.save` since 1.6): `archive/data.pkl` + `archive/data/N`
 *   80 02 8a 0a 6c fc 9c 46 f9 20 6a a8 50 19
 *                                 PyTorch legacy stream: a protocol-2 pickle of torch's magic number
 *   89 48 44 46 0d 0a 1a 0a       HDF5 (`\x89HDF\r\n\x1a\n`): a Keras `.h5` weights file
 *   anything else                 safetensors, the one format without a magic (it starts with its
 *                                 header length), so its own checks decide
 *
 * The result still has the file's own names; `naming/` maps them onto timm's.
 */
import { WeightsFormatError } from '../errors.js';
import { isByteSource, memoryByteSource } from './byte-source.js';
import { openSafetensors } from './safetensors.js';
import type { ByteSource, WeightFormat, WeightSource } from './source.js';
import { openTorchLegacy, TORCH_LEGACY_MAGIC } from './torch/legacy.js';
import { openTorchZip } from './torch/zip-checkpoint.js';

/** What the error for an unrecognised file lists. */
export const ACCEPTED_FORMATS =
  'safetensors, PyTorch (torch.save zip or legacy pickle: .pth, .pt, .bin) or Keras HDF5 (.h5)';

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
/** The longest magic compared. */
const SNIFF_BYTES = 16;

const startsWith = (head: Uint8Array, magic: readonly number[]): boolean =>
  head.length >= magic.length && magic.every((byte, i) => head[i] === byte);

/** The format a file's first bytes announce; `safetensors` when they announce none of the others. */
export function detectFormat(head: Uint8Array): WeightFormat {
  if (startsWith(head, ZIP_MAGIC)) return 'pytorch-zip';
  if (startsWith(head, TORCH_LEGACY_MAGIC)) return 'pytorch-legacy';
  if (startsWith(head, HDF5_MAGIC)) return 'hdf5';
  return 'safetensors';
}

/** The Keras reader is loaded on demand: it pulls in the optional HDF5 library. */
async function openKeras(bytes: ByteSource): Promise<WeightSource> {
  const { openKerasH5 } = await import('./hdf5/keras-h5.js');
  return openKerasH5(bytes);
}

/** A safetensors reading that failed on a file that does not look like safetensors either. */
function unknownFormat(head: Uint8Array, cause: WeightsFormatError): WeightsFormatError {
  const shown = Array.from(head.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return new WeightsFormatError(
    `not a weights file this reads (first bytes: ${shown || 'none, the file is empty'}); expected ${ACCEPTED_FORMATS}. ` +
      `Read as safetensors: ${cause.message}`,
  );
}

/** Opens weights from bytes in memory or from a ByteSource read by range (such as a file on disk). */
export async function openWeights(input: Uint8Array | ArrayBuffer | ByteSource): Promise<WeightSource> {
  const bytes = input instanceof Uint8Array ? memoryByteSource(input)
    : input instanceof ArrayBuffer ? memoryByteSource(new Uint8Array(input))
      : isByteSource(input) ? input : null;
  if (bytes === null) {
    throw new WeightsFormatError('weights must be bytes (Uint8Array or ArrayBuffer) or a ByteSource');
  }
  const head = bytes.read(0, Math.min(SNIFF_BYTES, bytes.length));
  switch (detectFormat(head)) {
    case 'pytorch-zip': return openTorchZip(bytes);
    case 'pytorch-legacy': return openTorchLegacy(bytes);
    case 'hdf5': return openKeras(bytes);
    case 'safetensors': {
      try {
        return openSafetensors(bytes);
      } catch (error) {
        // A safetensors file starts with its header length and then `{`; anything else is more
        // likely another format altogether, which the message should say.
        const looksLikeSafetensors = head.length > 8 && head[8] === 0x7b;
        if (error instanceof WeightsFormatError && !looksLikeSafetensors) throw unknownFormat(head, error);
        throw error;
      }
    }
  }
}
