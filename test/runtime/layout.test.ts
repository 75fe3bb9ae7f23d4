import { beforeAll, describe, it } from 'vitest';
import type { LayoutExports } from '../../src/runtime/kernels/layout.js';
import { nchwToNhwc, nhwcToNchw } from '../../src/runtime/reference/layout.js';
import { createTestCore, type TestCore } from '../support/core.js';
import { mulberry32, randomFloats } from '../support/random.js';
import { expectSameBits } from '../support/tolerance.js';

let core: TestCore;
let kernels: LayoutExports;

beforeAll(async () => {
  core = await createTestCore();
  kernels = core.exports as unknown as LayoutExports;
});

// Layout changes move values without arithmetic, so they must match the twins bit for bit.
describe('nchw_to_nhwc and nhwc_to_nchw', () => {
  let seed = 1;
  for (const n of [1, 2]) {
    for (const c of [1, 3, 5, 8]) {
      for (const [h, w] of [[1, 1], [2, 3], [7, 5], [8, 8]]) {
        it(`n=${n} c=${c} h=${h} w=${w}: both directions match the reference, and a round trip is the identity`, () => {
          const nchw = randomFloats(mulberry32(seed++), n * c * h * w, 10);
          core.reset();
          const source = core.put(nchw);
          const nhwc = core.alloc(nchw.length);
          const back = core.alloc(nchw.length);
          kernels.nchw_to_nhwc(source, n, c, h, w, nhwc);
          kernels.nhwc_to_nchw(nhwc, n, h, w, c, back);
          const expectedNhwc = nchwToNhwc(nchw, [n, c, h, w]);
          expectSameBits(core.get(nhwc, nchw.length), expectedNhwc, 'to NHWC');
          expectSameBits(core.get(back, nchw.length), nhwcToNchw(expectedNhwc, [n, h, w, c]), 'back to NCHW');
          expectSameBits(core.get(back, nchw.length), nchw, 'round trip');
        });
      }
    }
  }
});
