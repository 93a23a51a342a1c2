/**
 * Stable LSD radix sorting of positions by 16-bit digits of unsigned keys
 * held in typed arrays: linear time, no comparator calls, for orders over
 * millions of items (entries in list order, events in time order).
 */

/** A 16-bit digit of each position p's key: `(keys[p * stride + offset] >>> shift) & 0xffff`. */
export interface Digit {
  keys: Uint32Array | Uint8Array;
  stride: number;
  offset: number;
  shift: number;
}

/**
 * One counting pass: `from` reordered into `to` by a digit, stably. Returns
 * false, having written nothing, when every position has the same digit.
 */
function reorderByDigit(from: Uint32Array, to: Uint32Array, digit: Digit, counts: Uint32Array): boolean {
  const n = from.length;
  const {keys, stride, offset, shift} = digit;
  counts.fill(0);
  for (let i = 0; i < n; i++) counts[((keys[from[i] * stride + offset] >>> shift) & 0xffff) + 1]++;
  let total = 0;
  for (let d = 1; d <= 65_536; d++) {
    if (counts[d] === n) return false;
    total += counts[d];
    counts[d] = total;
  }
  for (let i = 0; i < n; i++) {
    const p = from[i];
    to[counts[(keys[p * stride + offset] >>> shift) & 0xffff]++] = p;
  }
  return true;
}

/**
 * Below this many positions a comparison sort costs less than the counting
 * passes, each of which walks 65,536 counts whatever the number of positions
 * (which showed in the start-up of a check of a 10-entry store).
 */
const FEW = 1024;

/**
 * Sorts the positions in `order` in place, stably, by the digits given least
 * significant first: positions whose keys are equal keep their order.
 */
export function sortByDigits(order: Uint32Array, digits: readonly Digit[]): void {
  if (order.length < 2) return;
  if (order.length <= FEW) {
    sortByComparing(order, digits);
    return;
  }
  const counts = new Uint32Array(65_537);
  let from: Uint32Array = order;
  let to: Uint32Array = new Uint32Array(order.length);
  for (const digit of digits) {
    if (reorderByDigit(from, to, digit, counts)) [from, to] = [to, from];
  }
  if (from !== order) order.set(from);
}

function digitOf(digit: Digit, p: number): number {
  return (digit.keys[p * digit.stride + digit.offset] >>> digit.shift) & 0xffff;
}

/** sortByDigits for a few positions: by the digits, most significant first, then by place in `order`. */
function sortByComparing(order: Uint32Array, digits: readonly Digit[]): void {
  const positions = Array.from(order);
  const places = positions.map((_, i) => i);
  places.sort((a, b) => {
    for (let k = digits.length - 1; k >= 0; k--) {
      const difference = digitOf(digits[k], positions[a]) - digitOf(digits[k], positions[b]);
      if (difference !== 0) return difference;
    }
    return a - b;
  });
  places.forEach((place, i) => (order[i] = positions[place]));
}
