/**
 * Embeddings of many images: `embed(images[])` as one batch, and `embedMany`, an async iterator
 * over any (async) iterable of images that runs them in batches and yields one result per input,
 * in input order, holding at most a few batches in memory however long the input is.
 *
 * Every row is bit-identical to embedding that image alone: each image's computation in the core
 * is the same sequence of operations whatever else is in its batch, and whatever the thread count.
 *
 * Paths are accepted only with a `readFile` function, so this file (loaded by browsers too)
 * imports nothing from Node; in Node pass `readFile: (path) => fs.promises.readFile(path)`.
 */
import { ConfigError, InputShapeError } from './errors.js';
import type { EfficientNet, ImageInput, ImageOptions } from './efficientnet.js';
import { orderedBatches } from './ordered-batches.js';

export interface EmbedManyOptions extends ImageOptions {
  /** Images per forward pass (default 8). Any size gives the same bits; larger is faster up to a point. */
  readonly batch?: number;
  /** Turns a string item into its bytes; without it, strings are refused. */
  readonly readFile?: (path: string) => Promise<Uint8Array | ArrayBuffer>;
}

/** An image, or a path when `readFile` is given. */
export type EmbedManyInput = ImageInput | string;

/** One result per input, in input order: its embedding, or why it could not be embedded. */
export type EmbedManyResult =
  | { readonly index: number; readonly input: EmbedManyInput; readonly embedding: Float32Array; readonly error?: undefined }
  | { readonly index: number; readonly input: EmbedManyInput; readonly embedding?: undefined; readonly error: Error };

/** `[n, featureChannels]` pooled vectors of one batch, split into one array per image. */
export async function embedBatch(net: EfficientNet, images: readonly ImageInput[], options: ImageOptions = {}): Promise<Float32Array[]> {
  const { input, shape } = await net.preprocessImages(images, options);
  const { features } = await net.forward(input, shape);
  const dim = net.featureChannels;
  return images.map((_, i) => features.slice(i * dim, (i + 1) * dim));
}

export async function* embedMany(
  net: EfficientNet,
  inputs: Iterable<EmbedManyInput> | AsyncIterable<EmbedManyInput>,
  options: EmbedManyOptions = {},
): AsyncGenerator<EmbedManyResult> {
  const batchSize = options.batch ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`batch must be a positive integer, got ${String(batchSize)}`);
  const size = net.recipe.size;
  const perImage = 3 * size * size;
  let counter = 0;
  const numbered = async function* (): AsyncGenerator<{ index: number; input: EmbedManyInput }> {
    for await (const input of inputs) yield { index: counter++, input };
  };
  // One image at a time to its `[1, 3, size, size]` tensor; the next batch's are prepared while a batch runs.
  const prepare = async ({ input }: { input: EmbedManyInput }): Promise<Float32Array> => {
    let image: ImageInput;
    if (typeof input === 'string') {
      if (options.readFile === undefined) throw new InputShapeError('a path was given but no readFile option to read it with (in Node: readFile: (p) => fs.promises.readFile(p))');
      image = await options.readFile(input);
    } else {
      image = input;
    }
    return (await net.preprocessImages([image], options)).input;
  };
  for await (const { entries } of orderedBatches(numbered(), prepare, batchSize, 2 * batchSize)) {
    const ready = entries.filter((e) => e.outcome.ok);
    const embeddings: Float32Array[] = [];
    if (ready.length > 0) {
      const batch = new Float32Array(ready.length * perImage); // [n, 3, size, size]
      ready.forEach((e, i) => batch.set((e.outcome as { value: Float32Array }).value, i * perImage));
      const { features } = await net.forward(batch, [ready.length, 3, size, size]);
      const dim = net.featureChannels;
      for (let i = 0; i < ready.length; i++) embeddings.push(features.slice(i * dim, (i + 1) * dim));
    }
    let next = 0;
    for (const { item, outcome } of entries) {
      if (outcome.ok) yield { index: item.index, input: item.input, embedding: embeddings[next++] };
      else yield { index: item.index, input: item.input, error: outcome.error instanceof Error ? outcome.error : new Error(String(outcome.error)) };
    }
  }
}
