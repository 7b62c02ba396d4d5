/**
 * Order statistics without sorting: the frame path needs medians and top shares of thousands of
 * pixels every frame, and a full sort (or a JS array per call) was a top item of the CPU profile.
 * Pure maths on typed arrays; no I/O.
 */

type Floats = Float32Array | Float64Array;

/**
 * The k-th smallest (0-based) of `a[0..n)`, by Hoare selection with a median-of-three pivot. Reorders
 * `a[0..n)` so that every element before k is ≤ the result and every element after it ≥ — the same
 * value a full ascending sort would put at k. `a` must hold no NaN.
 */
export function selectKth(a: Floats, k: number, n: number = a.length): number {
  if (!(k >= 0 && k < n && n <= a.length)) {
    throw new RangeError(`selectKth: k must be in 0..${n - 1} and n ≤ ${a.length}, got k ${k}, n ${n}`);
  }
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[hi] < a[mid]) swap(a, hi, mid);
    const pivot = a[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/**
 * Mean of the `k` largest of `a[0..n)`, summed in ascending order (bit-for-bit the sum a full sort
 * followed by summing its tail gives). Reorders `a[0..n)`.
 */
export function meanOfLargest(a: Floats, k: number, n: number = a.length): number {
  selectKth(a, n - k, n);
  const top = a.subarray(n - k, n).sort();
  let sum = 0;
  for (let i = 0; i < k; i++) sum += top[i];
  return sum / k;
}

/** A typed scratch buffer that grows (and is then reused) so hot loops do not allocate per call. */
export class ScratchFloats<T extends Floats> {
  #buffer: T;
  readonly #make: (length: number) => T;

  constructor(make: (length: number) => T, initial = 1024) {
    this.#make = make;
    this.#buffer = make(initial);
  }

  /** A buffer of at least `length` elements; its contents are undefined. */
  get(length: number): T {
    if (this.#buffer.length < length) {
      let size = this.#buffer.length;
      while (size < length) size *= 2;
      this.#buffer = this.#make(size);
    }
    return this.#buffer;
  }
}

function swap(a: Floats, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}
