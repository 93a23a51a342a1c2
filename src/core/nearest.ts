/** "Did you mean …?": the name a person most likely meant by a mistyped one (a key, a flag, a command). */

/** Edit distance (insertions, deletions, substitutions) between two names. */
export function distance(a: string, b: string): number {
  let previous = Array.from({length: b.length + 1}, (_, j) => j);
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
 * The name among `names` closest to `typed`, or null when none is close: the
 * only one the typed text begins (`auth` → `authorize`), else the nearest
 * within a third of its length, rounded down, and at least one edit (`chek`,
 * `lern`: 1; `biling`, `acount`: 2; a 5-letter `scope` is not `store`),
 * compared without case; ties go to the first in sorted order.
 */
export function nearest(typed: string, names: readonly string[]): string | null {
  const lower = typed.toLowerCase();
  if (lower.length === 0) return null;
  const prefixed = names.filter((n) => n.toLowerCase().startsWith(lower));
  if (lower.length >= 2 && prefixed.length === 1) return prefixed[0];
  let best: string | null = null;
  let bestDistance = Math.max(1, Math.floor(lower.length / 3)) + 1;
  for (const name of [...names].sort()) {
    // Names far longer or shorter than the typed one cannot be close: skip the arithmetic.
    if (Math.abs(name.length - lower.length) >= bestDistance) continue;
    const d = distance(lower, name.toLowerCase());
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}
