/**
 * PyTorch's zip checkpoints (`torch.save` since 1.6): a stored zip whose entries are
 * `<archive>/data.pkl` (the pickled state_dict, storages as persistent ids), `<archive>/data/<key>`
 * (each storage's raw little-endian bytes) and small records such as `<archive>/version` and
 * `<archive>/byteorder`.
 */
import { quoted } from './quote.js';
import { WeightsFormatError } from '../../errors.js';
import type { ByteSource, WeightSource } from '../source.js';
import { storageFromPersistentId, unpickle } from './pickle.js';
import { torchWeightSource } from './state-dict.js';
import { openZip } from './zip.js';

/** The pickle is a small index of the tensors (B7's is under 1 MB); a bigger one is refused unread. */
export const MAX_PICKLE_BYTES = 256 * 1024 * 1024;

export function openTorchZip(bytes: ByteSource): WeightSource {
  const archive = openZip(bytes);
  const pickleEntry = [...archive.entries.values()].find((entry) => /^[^/]+\/data\.pkl$/.test(entry.name));
  if (pickleEntry === undefined) {
    throw new WeightsFormatError(
      'this zip archive is not a PyTorch checkpoint: it has no "<archive>/data.pkl" entry (torch.save writes one)',
    );
  }
  const root = pickleEntry.name.slice(0, -'data.pkl'.length);
  const byteOrder = archive.entries.get(`${root}byteorder`);
  if (byteOrder !== undefined) {
    const range = archive.dataRange(byteOrder);
    const order = new TextDecoder().decode(bytes.read(range.begin, Math.min(range.end - range.begin, 16)));
    if (order !== 'little') throw new WeightsFormatError(`this PyTorch checkpoint stores ${JSON.stringify(order)}-endian tensors; only little-endian files are read`);
  }
  if (pickleEntry.size > MAX_PICKLE_BYTES) {
    throw new WeightsFormatError(`${quoted(pickleEntry.name)} is ${pickleEntry.size} bytes, above the ${MAX_PICKLE_BYTES}-byte limit for a state_dict index`);
  }
  const range = archive.dataRange(pickleEntry);
  const where = quoted(pickleEntry.name);
  const { value } = unpickle(bytes.read(range.begin, range.end - range.begin), {
    where,
    persistentLoad: (id) => storageFromPersistentId(id, where),
  });
  return torchWeightSource('pytorch-zip', value, (storage) => {
    const entry = archive.entries.get(`${root}data/${storage.key}`);
    if (entry === undefined) throw new WeightsFormatError(`the checkpoint refers to storage ${quoted(storage.key)} but has no entry ${quoted(`${root}data/${storage.key}`)}`);
    return archive.dataRange(entry);
  }, bytes, where);
}
