// Linear memory is managed by the host (the TypeScript planner), never by an allocator in here.
// The host places buffers above the module's static data, which ends at __heap_base.

/** First byte the host may use for its own buffers, rounded up to 16 so SIMD buffers start aligned. */
export function heap_base(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}
