/**
 * Lifetimes of a program's buffers, and the arena plan that follows from them.
 */
import { planArena, type ArenaPlan, type BufferRequest } from './arena.js';
import { elementCount, type Program } from './program.js';

const FLOAT_BYTES = 4;

export function bufferLifetimes(program: Program): BufferRequest[] {
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  program.steps.forEach((step, index) => {
    for (const id of [...step.writes, ...step.reads]) {
      if (!first.has(id)) first.set(id, index);
      last.set(id, index);
    }
  });
  // The host writes the input before step 0 and reads the outputs after the last step.
  first.set(program.input, 0);
  const end = program.steps.length;
  for (const id of [program.features, program.logits, program.probabilities, ...program.featureMaps.map((m) => m.buffer)]) {
    if (id !== null) last.set(id, end);
  }
  return [...program.buffers.values()].map((buffer) => ({
    id: buffer.id,
    bytes: elementCount(buffer.shape) * FLOAT_BYTES,
    firstStep: first.get(buffer.id) ?? 0,
    lastStep: last.get(buffer.id) ?? end,
  }));
}

export function planProgramMemory(program: Program): ArenaPlan {
  return planArena(bufferLifetimes(program));
}
