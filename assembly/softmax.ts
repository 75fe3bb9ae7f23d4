// Row-wise softmax, numerically stable: exp(x - max(row)) can never overflow, and the largest
// term is exactly 1 so the sum is at least 1. Uses the core's exp (math.ts), vectorised with a
// scalar tail that matches a vector lane bit for bit.
import { exp_f32x4, expf32 } from './math';

/** input: [rows, cols] -> output: [rows, cols], each row summing to 1. output may alias input. */
export function softmax(input: usize, rows: i32, cols: i32, output: usize): void {
  const rowBytes = <usize>cols << 2;
  const vectorBytes = <usize>(cols & ~3) << 2;
  for (let row = 0; row < rows; row++) {
    const source = input + <usize>row * rowBytes; // [cols]
    const destination = output + <usize>row * rowBytes; // [cols]

    let maxVector = f32x4.splat(-Infinity);
    let offset: usize = 0;
    for (; offset < vectorBytes; offset += 16) {
      maxVector = f32x4.max(maxVector, v128.load(source + offset));
    }
    let rowMax = max<f32>(
      max<f32>(f32x4.extract_lane(maxVector, 0), f32x4.extract_lane(maxVector, 1)),
      max<f32>(f32x4.extract_lane(maxVector, 2), f32x4.extract_lane(maxVector, 3)),
    );
    for (; offset < rowBytes; offset += 4) {
      rowMax = max<f32>(rowMax, load<f32>(source + offset));
    }

    // Sum order is fixed by cols alone: four lane sums over the vector part, combined pairwise,
    // then the tail elements in order.
    const maxSplat = f32x4.splat(rowMax);
    let sumVector = f32x4.splat(0);
    offset = 0;
    for (; offset < vectorBytes; offset += 16) {
      const e = exp_f32x4(f32x4.sub(v128.load(source + offset), maxSplat));
      v128.store(destination + offset, e);
      sumVector = f32x4.add(sumVector, e);
    }
    let sum: f32 = (f32x4.extract_lane(sumVector, 0) + f32x4.extract_lane(sumVector, 1))
      + (f32x4.extract_lane(sumVector, 2) + f32x4.extract_lane(sumVector, 3));
    for (; offset < rowBytes; offset += 4) {
      const e = expf32(load<f32>(source + offset) - rowMax);
      store<f32>(destination + offset, e);
      sum += e;
    }

    const sumSplat = f32x4.splat(sum);
    offset = 0;
    for (; offset < vectorBytes; offset += 16) {
      v128.store(destination + offset, f32x4.div(v128.load(destination + offset), sumSplat));
    }
    for (; offset < rowBytes; offset += 4) {
      store<f32>(destination + offset, load<f32>(destination + offset) / sum);
    }
  }
}
