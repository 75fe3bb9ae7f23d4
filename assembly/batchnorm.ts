// Folds an inference-mode BatchNorm into the convolution before it, once, at load time:
//   BN(conv(x)) = s * (W·x) + (beta - mean * s),  s = gamma / sqrt(variance + eps)
// so the conv's weights are scaled by s per output channel and BN becomes a bias.

/**
 * weights: [outChannels, perOutput] (any conv weight flattened per output channel), scaled in place;
 * gamma, beta, mean, variance: [outChannels]; biasOut: [outChannels], written.
 */
export function batchnorm_fold(
  weights: usize, outChannels: i32, perOutput: i32,
  gamma: usize, beta: usize, mean: usize, variance: usize, eps: f32,
  biasOut: usize,
): void {
  const rowBytes = <usize>perOutput << 2;
  const vectorEnd = perOutput & ~3;
  for (let o = 0; o < outChannels; o++) {
    const channelOffset = <usize>o << 2;
    const scale: f32 = load<f32>(gamma + channelOffset) / sqrt<f32>(load<f32>(variance + channelOffset) + eps);
    store<f32>(biasOut + channelOffset, load<f32>(beta + channelOffset) - load<f32>(mean + channelOffset) * scale);
    const row = weights + <usize>o * rowBytes; // [perOutput]
    const scaleVector = f32x4.splat(scale);
    let i = 0;
    for (; i < vectorEnd; i += 4) {
      const at = row + (<usize>i << 2);
      v128.store(at, f32x4.mul(v128.load(at), scaleVector));
    }
    for (; i < perOutput; i++) {
      const at = row + (<usize>i << 2);
      store<f32>(at, load<f32>(at) * scale);
    }
  }
}
