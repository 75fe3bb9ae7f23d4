/**
 * Scales map data values to drawing coordinates, and number formats turn counts into short
 * labels. Both are pure functions of the data, so every mark and label of a figure is computed.
 */

/** A value-to-coordinate map with the tick values worth labelling. */
export interface Scale {
  (value: number): number;
  readonly ticks: readonly number[];
}

/**
 * Linear from `[0, max]` onto `[from, to]` (`to` may be above `from`: SVG's y grows downwards).
 * `max` is rounded up to a whole number so the axis ends on a tick; ticks at every integer.
 */
export function linearScale(max: number, from: number, to: number): Scale {
  const top = Math.max(1, Math.ceil(max));
  const scale = (value: number): number => from + ((to - from) * value) / top;
  return Object.assign(scale, { ticks: Array.from({ length: top + 1 }, (_, i) => i) });
}

/**
 * Logarithmic from whole decades around `[min, max]` onto `[from, to]`, with a tick at each
 * power of ten. Equal ratios get equal distances, which is what makes a 5M-parameter network and
 * a 480M-parameter one readable on the same axis.
 */
export function logScale(min: number, max: number, from: number, to: number): Scale {
  if (!(min > 0) || !(max >= min)) throw new RangeError(`a log scale needs 0 < min <= max, got ${min} and ${max}`);
  const low = Math.floor(Math.log10(min));
  const high = Math.max(low + 1, Math.ceil(Math.log10(max)));
  const scale = (value: number): number => from + ((to - from) * (Math.log10(value) - low)) / (high - low);
  return Object.assign(scale, { ticks: Array.from({ length: high - low + 1 }, (_, i) => 10 ** (low + i)) });
}

const SI_UNITS: readonly [number, string][] = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'K']];

/** A count to three significant digits with an SI suffix: 66347960 -> "66.3M", 385814752 -> "386M", 1e9 -> "1G". */
export function formatCount(value: number): string {
  const [unit, suffix] = SI_UNITS.find(([size]) => value >= size) ?? [1, ''];
  const rounded = Number((value / unit).toPrecision(3));
  // Rounding can carry into the next unit's range (999.6K): label it in that unit instead.
  if (rounded >= 1000 && unit < 1e12) return formatCount(unit * 1000);
  return `${rounded}${suffix}`;
}

/** A multiplier with at most two decimals: 2 -> "2", 1.1 -> "1.1", 600 / 224 -> "2.68". */
export function formatMultiplier(value: number): string {
  return String(Number(value.toFixed(2)));
}

/** Thousands grouped with commas, independent of the machine's locale. */
export function formatGrouped(value: number): string {
  return Math.round(value).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
