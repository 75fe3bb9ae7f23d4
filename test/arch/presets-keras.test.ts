/**
 * The Keras presets' padding claim: Keras pads every stride-2 convolution with
 * ZeroPadding2D(correct_pad(x, k)) and then convolves `valid`; for a model with a fixed input size
 * that reads exactly the window TensorFlow SAME padding (our `same`) reads. correct_pad is
 * restated here from Keras's imagenet_utils: adjust = 1 - size % 2 (or 1 when the size is
 * unknown), padding (k // 2 - adjust, k // 2).
 */
import { describe, expect, it } from 'vitest';
import { findPreset } from '../../src/arch/presets.js';
import { KERAS_PRESETS } from '../../src/arch/presets-keras.js';
import { axisGeometry } from '../../src/plan/geometry.js';

/** Output length, zeros before, and zeros after that the last output reads, for Keras's pad-then-valid. */
function kerasStride2(size: number, kernel: number, sizeKnown: boolean): { output: number; before: number; after: number } {
  const adjust = sizeKnown ? 1 - (size % 2) : 1;
  const before = Math.floor(kernel / 2) - adjust;
  const padded = size + before + Math.floor(kernel / 2);
  const output = Math.floor((padded - kernel) / 2) + 1;
  const lastRead = (output - 1) * 2 + kernel; // one past the last padded row the last output reads
  return { output, before, after: Math.max(0, lastRead - before - size) };
}

describe('keras/EfficientNetB* presets', () => {
  it('pad stride-2 convolutions as TensorFlow SAME does, at every size up to 1000, for 3x3 and 5x5', () => {
    for (const kernel of [3, 5]) {
      for (let size = kernel; size <= 1000; size++) {
        expect(kerasStride2(size, kernel, true), `size ${size}, kernel ${kernel}`).toEqual(axisGeometry(size, kernel, 2, 'same'));
      }
    }
    expect(KERAS_PRESETS.every((preset) => preset.padding === 'same')).toBe(true);
  });

  it('a model built without an input size pads odd sides differently (the documented caveat): B1 at 240 has 15 at block6a', () => {
    expect(kerasStride2(15, 5, false)).not.toEqual(axisGeometry(15, 5, 2, 'same'));
    expect(kerasStride2(16, 5, false)).toEqual(axisGeometry(16, 5, 2, 'same'));
  });

  it('are found by name and are not timm presets', () => {
    for (const preset of KERAS_PRESETS) {
      expect(findPreset(preset.name)).toBe(preset);
      expect(preset.hubId).toBeUndefined();
      expect(preset.bnEps).toBe(1e-3);
    }
    expect(() => findPreset('keras/EfficientNetB9')).toThrow(/keras\/EfficientNetB/);
  });
});
