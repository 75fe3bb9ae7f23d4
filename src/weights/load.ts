/**
 * One call from a weights file of any format and name scheme to tensors under timm's names.
 */
import { toTimmNaming, type NamedWeights } from './naming/index.js';
import { openWeights } from './open.js';
import type { ByteSource } from './source.js';

/** Opens the file (format by magic bytes) and maps its names onto timm's. */
export async function loadWeights(input: Uint8Array | ArrayBuffer | ByteSource): Promise<NamedWeights> {
  return toTimmNaming(await openWeights(input));
}
