/**
 * Colours of the figures, named by what they mean. From Paul Tol's "bright" scheme, which stays
 * distinguishable under the common colour-vision deficiencies; every colour is also paired with a
 * shape or a text label, so no fact is carried by colour alone.
 */
export const PALETTE = {
  ink: '#222222',
  muted: '#555555',
  grid: '#dddddd',
  width: '#4477aa',
  depth: '#ee6677',
  resolution: '#228833',
  params: '#4477aa',
  macs: '#ee6677',
  mbconv: '#ee7733',
  fusedMbconv: '#ccbb44',
  depthwiseSeparable: '#66ccee',
  plainConv: '#bbbbbb',
  image: '#ffffff',
  squeezeExcite: '#aa3377',
  /** Light tints for large areas and box fills, where the full colour would drown black text. */
  squeezeExciteTint: '#ebc6dc',
  squeezeExciteBackground: '#f8ecf3',
  functionFill: '#ffffff',
} as const;
