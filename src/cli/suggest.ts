/**
 * "Did you mean …?" for mistyped command and option names: the candidate with the smallest edit
 * distance, if it is close enough to be a plausible typo rather than a different word.
 */

/** Levenshtein distance: insertions, deletions and substitutions, each costing 1. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j); // row i-1 of the DP table, [b.length + 1]
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * The candidate closest to `typed`, or null when none is within a third of the longer name's
 * length (at least 2 edits allowed): `--tpok` finds `--topk`, `--colour` does not find `--batch`.
 */
export function closestMatch(typed: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(typed, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best === null) return null;
  const allowed = Math.max(2, Math.floor(Math.max(typed.length, best.length) / 3));
  return bestDistance <= allowed ? best : null;
}
