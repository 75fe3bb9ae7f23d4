/**
 * The small parts of the dataset pipeline on their own: shard slices, byte order of paths, the
 * fixed-length .npy header, ordered batches from work that finishes out of order, and progress
 * lines on a terminal, in a log and when quiet.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { parseNpy } from '../../src/cli/npy.js';
import { npyHeader, NPY_HEADER_BYTES, readNpyHeader } from '../../src/dataset/npy-rows.js';
import { orderedBatches } from '../../src/ordered-batches.js';
import { DatasetProgress } from '../../src/dataset/progress.js';
import { parseShard, shardRange } from '../../src/dataset/shard.js';
import { compareBytes, isImageName } from '../../src/dataset/walk.js';

describe('shards', () => {
  it('cover the list exactly once, in order, with sizes differing by at most one', () => {
    for (const total of [0, 1, 2, 7, 100, 1001]) {
      for (const count of [1, 2, 3, 8, 13]) {
        let next = 0;
        const sizes: number[] = [];
        for (let index = 0; index < count; index++) {
          const { start, end } = shardRange(total, { index, count });
          expect(start).toBe(next);
          sizes.push(end - start);
          next = end;
        }
        expect(next).toBe(total);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('parse I/N and refuse anything else with the expected form', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    expect(parseShard(undefined)).toEqual({ index: 0, count: 1 });
    for (const bad of ['3/3', '1/0', '-1/3', '1', 'a/b', '1/3/4', ' 1/3']) {
      expect(() => parseShard(bad), bad).toThrow(ConfigError);
      expect(() => parseShard(bad), bad).toThrow(/--shard must be I\/N with 0 <= I < N/);
    }
  });
});

describe('paths', () => {
  it('sort by UTF-8 bytes, which differs from UTF-16 order above U+FFFF and from per-directory order', () => {
    // U+FF5E (UTF-8 EF BD 9E) sorts after U+1F600 (F0 9F 98 80) in UTF-16 code units, before it in bytes.
    expect(['b/\u{1F600}.jpg', 'b/\uFF5E.jpg'].sort(compareBytes)).toEqual(['b/\uFF5E.jpg', 'b/\u{1F600}.jpg']);
    expect(['b/\u{1F600}.jpg', 'b/\uFF5E.jpg'].sort()).toEqual(['b/\u{1F600}.jpg', 'b/\uFF5E.jpg']);
    expect(['a/x.jpg', 'a-b/y.jpg'].sort(compareBytes)).toEqual(['a-b/y.jpg', 'a/x.jpg']);
  });

  it('are images by extension in any case, for the formats the decoder reads', () => {
    for (const name of ['a.jpg', 'a.JPG', 'a.Jpeg', 'a.jpe', 'a.JFIF', 'a.png', 'a.PnG']) expect(isImageName(name), name).toBe(true);
    for (const name of ['a.gif', 'a.webp', 'a.jpg.txt', 'jpg', 'a.heic']) expect(isImageName(name), name).toBe(false);
  });
});

describe('the .npy header', () => {
  it('has the same length for any row count, reads back, and is accepted by the strict reader', () => {
    for (const [rows, dim, dtype] of [[0, 1280, 'f32'], [7, 80, 'f32'], [123_456_789_012, 2560, 'f16']] as const) {
      const header = npyHeader(rows, dim, dtype);
      expect(header.length).toBe(NPY_HEADER_BYTES);
      expect(header[NPY_HEADER_BYTES - 1]).toBe(0x0a); // NumPy requires the header to end in a newline
      expect(readNpyHeader(header)).toEqual({ rows, dim, dtype });
    }
    const rows = new Float32Array([1, -2, 3.5, 4, 5, 6]); // [2, 3]
    const file = new Uint8Array(NPY_HEADER_BYTES + rows.byteLength);
    file.set(npyHeader(2, 3, 'f32'));
    file.set(new Uint8Array(rows.buffer), NPY_HEADER_BYTES);
    const parsed = parseNpy(file);
    expect(parsed.shape).toEqual([2, 3]);
    expect(Array.from(parsed.data)).toEqual([1, -2, 3.5, 4, 5, 6]);
  });
});

describe('ordered batches', () => {
  it('yield in input order with failures in place, and keep at most `lookahead` items in flight', async () => {
    let inFlight = 0;
    let most = 0;
    // Work that finishes in a scrambled order; multiples of 7 fail.
    const prepare = async (n: number): Promise<number> => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, (n * 37) % 11));
      inFlight--;
      if (n % 7 === 0) throw new Error(`item ${n} failed`);
      return n * 10;
    };
    const seen: number[] = [];
    const batchSizes: number[] = [];
    for await (const { entries } of orderedBatches(Array.from({ length: 40 }, (_, i) => i), prepare, 4, 6)) {
      batchSizes.push(entries.filter((e) => e.outcome.ok).length);
      for (const { item, outcome } of entries) {
        seen.push(item);
        if (outcome.ok) expect(outcome.value).toBe(item * 10);
        else expect((outcome.error as Error).message).toBe(`item ${item} failed`);
        expect(outcome.ok).toBe(item % 7 !== 0);
      }
    }
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(batchSizes.slice(0, -1).every((n) => n === 4)).toBe(true);
    expect(batchSizes.reduce((a, b) => a + b)).toBe(40 - 6); // 0, 7, 14, 21, 28, 35 failed
    expect(most).toBeLessThanOrEqual(6);
    expect(most).toBeGreaterThan(1); // work did overlap
  });
});

describe('progress', () => {
  const stream = (isTTY: boolean): { lines: string[]; stream: NodeJS.WriteStream } => {
    const lines: string[] = [];
    return { lines, stream: { isTTY, write: (text: string) => lines.push(text) } as unknown as NodeJS.WriteStream };
  };

  it('prints plain lines at most every interval off a terminal, redraws in place on one, and nothing when quiet', () => {
    const log = stream(false);
    const progress = new DatasetProgress({ total: 10, start: 2, label: 'embedding', quiet: false, intervalSeconds: 3600, stream: log.stream });
    for (let done = 3; done <= 10; done++) progress.update(done, 1);
    progress.finish();
    expect(log.lines).toHaveLength(2); // the first update, then the final state
    expect(log.lines[1]).toMatch(/^embedding 10\/10 \(100%\) {2}[\d.]+ images\/s {2}ETA 00:00 {2}skipped 1\n$/);

    const tty = stream(true);
    const live = new DatasetProgress({ total: 4, start: 0, label: 'embedding', quiet: false, intervalSeconds: 3600, stream: tty.stream });
    live.update(1, 0);
    live.finish();
    expect(tty.lines[0]).toMatch(/^\r\x1b\[2Kembedding 1\/4 \(25%\)/);
    expect(tty.lines.at(-1)).toBe('\n');

    const quiet = stream(false);
    const silent = new DatasetProgress({ total: 4, start: 0, label: 'embedding', quiet: true, intervalSeconds: 0, stream: quiet.stream });
    silent.update(4, 0);
    silent.finish();
    expect(quiet.lines).toEqual([]);
  });
});
