/**
 * Batches in input order from work that finishes in any order, with a bounded look-ahead: at most
 * `lookahead` items are being prepared or waiting at any time, so memory does not grow with the
 * number of items. Used by `embedMany` and by the dataset commands. No Node or browser API here.
 */

export type Outcome<V> =
  | { readonly ok: true; readonly value: V }
  | { readonly ok: false; readonly error: unknown };

/** The items consumed since the previous batch, in order, with what became of each. */
export interface OrderedBatch<T, V> {
  /** Every consumed item in input order; `ok` ones number at most the batch size. */
  readonly entries: readonly { readonly item: T; readonly outcome: Outcome<V> }[];
}

/**
 * Starts `prepare` on up to `lookahead` items ahead of the consumer, and yields a batch each time
 * `batchSize` items succeeded (failed items ride along in the entries), then the remainder. The
 * work for the next items continues while the consumer handles a batch.
 */
export async function* orderedBatches<T, V>(
  items: Iterable<T> | AsyncIterable<T>,
  prepare: (item: T) => Promise<V>,
  batchSize: number,
  lookahead: number,
): AsyncGenerator<OrderedBatch<T, V>> {
  const iterator = Symbol.asyncIterator in items
    ? (items as AsyncIterable<T>)[Symbol.asyncIterator]()
    : (items as Iterable<T>)[Symbol.iterator]();
  const inFlight: { item: T; outcome: Promise<Outcome<V>> }[] = [];
  let exhausted = false;
  const fill = async (): Promise<void> => {
    while (!exhausted && inFlight.length < lookahead) {
      const next = await iterator.next();
      if (next.done) {
        exhausted = true;
        return;
      }
      const item = next.value;
      const outcome = prepare(item).then((value): Outcome<V> => ({ ok: true, value }), (error: unknown): Outcome<V> => ({ ok: false, error }));
      inFlight.push({ item, outcome });
    }
  };
  let entries: { item: T; outcome: Outcome<V> }[] = [];
  let succeeded = 0;
  try {
    await fill();
    while (inFlight.length > 0) {
      // The head stays counted until it settles, so at most `lookahead` items are ever in flight.
      const head = inFlight[0];
      const outcome = await head.outcome;
      inFlight.shift();
      await fill();
      entries.push({ item: head.item, outcome });
      if (outcome.ok) succeeded++;
      if (succeeded === batchSize) {
        yield { entries };
        entries = [];
        succeeded = 0;
      }
    }
    if (entries.length > 0) yield { entries };
  } finally {
    // A consumer that stops early leaves prepared work behind; let it settle unobserved.
    for (const pending of inFlight) void pending.outcome;
    if (!exhausted) await iterator.return?.();
  }
}
