/**
 * Activation memory planning. Every intermediate tensor of a forward pass gets a fixed byte
 * offset in one arena, chosen so that tensors alive at the same time never overlap. Computed once
 * per (network, input shape); inference then allocates nothing.
 */

export interface BufferRequest {
  readonly id: string;
  readonly bytes: number;
  /** Index of the first step that writes the buffer. */
  readonly firstStep: number;
  /** Index of the last step that reads it. */
  readonly lastStep: number;
}

export interface ArenaPlan {
  /** Byte offset of each buffer from the arena start (16-byte aligned for SIMD loads). */
  readonly offsets: ReadonlyMap<string, number>;
  /** Arena size: the peak of simultaneously live bytes after packing. */
  readonly bytes: number;
}

export const ARENA_ALIGNMENT = 16;

const align = (bytes: number): number => Math.ceil(bytes / ARENA_ALIGNMENT) * ARENA_ALIGNMENT;

/**
 * Greedy by size: the largest buffers are placed first, each at the lowest offset that does not
 * collide with an already-placed buffer whose lifetime overlaps. On chains like EfficientNet's
 * this reaches the peak of live bytes or close to it, and is deterministic.
 */
export function planArena(requests: readonly BufferRequest[]): ArenaPlan {
  const order = [...requests].sort((a, b) => b.bytes - a.bytes || a.firstStep - b.firstStep || (a.id < b.id ? -1 : 1));
  const placed: { start: number; end: number; first: number; last: number }[] = [];
  const offsets = new Map<string, number>();
  let total = 0;
  for (const request of order) {
    const size = align(request.bytes);
    const conflicts = placed
      .filter((p) => p.first <= request.lastStep && request.firstStep <= p.last)
      .sort((a, b) => a.start - b.start);
    let offset = 0;
    for (const p of conflicts) {
      if (offset + size <= p.start) break;
      offset = Math.max(offset, p.end);
    }
    placed.push({ start: offset, end: offset + size, first: request.firstStep, last: request.lastStep });
    offsets.set(request.id, offset);
    total = Math.max(total, offset + size);
  }
  return { offsets, bytes: total };
}

/** The lower bound any plan must reach: the largest sum of bytes live at one step. */
export function peakLiveBytes(requests: readonly BufferRequest[]): number {
  const lastStep = Math.max(0, ...requests.map((r) => r.lastStep));
  let peak = 0;
  for (let step = 0; step <= lastStep; step++) {
    let live = 0;
    for (const r of requests) if (r.firstStep <= step && step <= r.lastStep) live += align(r.bytes);
    peak = Math.max(peak, live);
  }
  return peak;
}
