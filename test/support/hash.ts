/**
 * SHA-256 of a typed array's bytes: how tests compare outputs for bit identity without a
 * tolerance (and with a short message when they differ).
 */
import { createHash } from 'node:crypto';

export function sha256(data: Uint8Array | Float32Array): string {
  return createHash('sha256').update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).digest('hex');
}
