/**
 * The connected components of every level of a threshold stack, in one pass.
 *
 * The thermal face detector cuts the field at levels `t_k = top − k·step` and wants, for every level,
 * the 4-connected components of `{ t_k ≤ v < hotCap }`. Labelling each level from scratch costs a full
 * pass per level (≈ 22 passes a frame). Instead the pixels are sorted into level bands once (a counting
 * sort) and added warmest band first to a union-find: after band k has been added, the sets are exactly
 * the components of level k. Only components that grew or merged at a level are reported — an unchanged
 * component would give the detector the same candidate again.
 *
 * Buffers are allocated once per grid size and reused (`levelComponentsFor`): no per-frame allocation.
 */

/** Band of pixels that never take part (NaN, hot objects, below the lowest level). */
export const NO_BAND = 255;

/** A component as it is at one level; the object is reused between reports (copy what you keep). */
export interface LevelComponent {
  /** Union-find root: identifies the component at this level (`contains`). */
  root: number;
  level: number;
  area: number;
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
}

export class LevelComponents {
  /** Level band of each pixel: it joins the components from level `band` on; NO_BAND never. */
  readonly band: Uint8Array;
  /**
   * Each added pixel's component (its root pixel), or −1 before its band is added; kept current as
   * components merge: the smaller one's members are relabelled (each pixel at most log₂ n times, a few
   * in practice), so membership is one read (`contains`) instead of a union-find walk per pixel.
   */
  readonly label: Int32Array;
  /** Members of each component as a linked list (next member, or −1), and each list's last member. */
  private readonly next: Int32Array;
  private readonly tail: Int32Array;
  private readonly area: Int32Array;
  private readonly minX: Int32Array;
  private readonly maxX: Int32Array;
  private readonly minY: Int32Array;
  private readonly maxY: Int32Array;
  /** Last level at which a root was reported (dedupes the roots touched at a level). */
  private readonly reported: Int32Array;
  /**
   * Per root: the last row the visitor's reading depended on (`sweep`), and whether the component has
   * changed at or above that row since it was last visited. A component that only grows below the
   * rows its head was read from (a body getting wider level by level) reads the same: not visited again.
   */
  private readonly readToRow: Int32Array;
  private readonly changed: Uint8Array;
  /** Pixels ordered by band (counting sort), and where each band starts. */
  private readonly order: Int32Array;
  private readonly bandStart = new Int32Array(NO_BAND + 1);
  private readonly bandCursor = new Int32Array(NO_BAND + 1);
  private levels = 0;
  private current: LevelComponent = { root: 0, level: 0, area: 0, minX: 0, maxX: 0, minY: 0, maxY: 0 };

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    const n = width * height;
    this.band = new Uint8Array(n);
    this.label = new Int32Array(n);
    this.next = new Int32Array(n);
    this.tail = new Int32Array(n);
    this.area = new Int32Array(n);
    this.minX = new Int32Array(n);
    this.maxX = new Int32Array(n);
    this.minY = new Int32Array(n);
    this.maxY = new Int32Array(n);
    this.reported = new Int32Array(n);
    this.readToRow = new Int32Array(n);
    this.changed = new Uint8Array(n);
    this.order = new Int32Array(n);
  }

  /**
   * Sorts the pixels of `field` into the bands of the levels `top − k·step`, k = 0 … levels − 1
   * (at most 254): a pixel belongs to level k when `top − k·step ≤ v < hotCap`.
   */
  assign(field: Float32Array, top: number, step: number, levels: number, hotCap: number): void {
    const n = this.width * this.height;
    const band = this.band;
    const k = Math.min(levels, NO_BAND - 1);
    this.levels = k;
    const counts = this.bandStart;
    counts.fill(0);
    const inv = 1 / step;
    for (let i = 0; i < n; i++) {
      const v = field[i];
      let b = NO_BAND;
      if (v < hotCap) {
        // (NaN fails every comparison: it stays NO_BAND.)
        if (v >= top) b = 0;
        else {
          const d = Math.ceil((top - v) * inv - 1e-9);
          if (d < k) b = d;
        }
      }
      band[i] = b;
      counts[b]++;
    }
    // Exclusive prefix sums: bandStart[b] = first slot of band b in `order`.
    let acc = 0;
    for (let b = 0; b <= NO_BAND; b++) {
      const c = counts[b];
      counts[b] = acc;
      acc += c;
    }
    const fillAt = this.bandCursor;
    for (let b = 0; b <= NO_BAND; b++) fillAt[b] = counts[b];
    for (let i = 0; i < n; i++) this.order[fillAt[band[i]]++] = i;
  }

  /**
   * Is pixel `p` part of component `c`? (Only while `c` is being visited: a pixel has a label once its
   * band has been added, and the visit is at the level just added.)
   */
  contains(p: number, c: LevelComponent): boolean {
    return this.label[p] === c.root;
  }

  private union(a: number, b: number): number {
    // Union by size; the root keeps the merged statistics, the smaller component's members take its label.
    const label = this.label;
    let ra = label[a];
    let rb = label[b];
    if (ra === rb) return ra;
    const area = this.area;
    if (area[ra] < area[rb]) {
      const t = ra;
      ra = rb;
      rb = t;
    }
    const next = this.next;
    for (let m = rb; m >= 0; m = next[m]) label[m] = ra;
    next[this.tail[ra]] = rb;
    this.tail[ra] = this.tail[rb];
    // The merged component reads as one of the two when the other lies wholly below the rows it was
    // read from.
    const { readToRow, changed, minY } = this;
    if (!changed[ra] && minY[rb] > readToRow[ra]) {
      // (ra's reading stands.)
    } else if (!changed[rb] && minY[ra] > readToRow[rb]) {
      readToRow[ra] = readToRow[rb];
      changed[ra] = 0;
    } else changed[ra] = 1;
    area[ra] += area[rb];
    if (this.minX[rb] < this.minX[ra]) this.minX[ra] = this.minX[rb];
    if (this.maxX[rb] > this.maxX[ra]) this.maxX[ra] = this.maxX[rb];
    if (this.minY[rb] < this.minY[ra]) this.minY[ra] = this.minY[rb];
    if (this.maxY[rb] > this.maxY[ra]) this.maxY[ra] = this.maxY[rb];
    return ra;
  }

  /**
   * Adds the bands warmest first; after each level, calls `visit` once for every component that is new,
   * grew or merged at that level. `visit` may call `contains` (the union-find is not changed meanwhile).
   * `visit` returns the last row its reading of the component depended on (or −1: read it again whenever
   * it changes); a component that later changes only below that row is not visited again.
   */
  sweep(visit: (c: LevelComponent) => number): void {
    const {
      width,
      band,
      label,
      next,
      tail,
      order,
      reported,
      area,
      minX,
      maxX,
      minY,
      maxY,
      changed,
      readToRow,
    } = this;
    const n = band.length;
    const starts = this.bandStart;
    reported.fill(-1);
    // Nothing is in the union-find before its band's turn: a pixel is in when it has a label.
    label.fill(-1);
    for (let level = 0; level < this.levels; level++) {
      const from = starts[level];
      const to = starts[level + 1];
      // (A band's pixels come in index order: the row only moves down.)
      let y = 0;
      let rowEnd = width;
      for (let s = from; s < to; s++) {
        const i = order[s];
        while (i >= rowEnd) {
          y++;
          rowEnd += width;
        }
        const x = i - (rowEnd - width);
        label[i] = i;
        next[i] = -1;
        tail[i] = i;
        area[i] = 1;
        minX[i] = x;
        maxX[i] = x;
        minY[i] = y;
        maxY[i] = y;
        changed[i] = 1;
        readToRow[i] = -1;
        // Join the 4-neighbours already added (a lower band, or this band and already placed).
        let r = i;
        let j = i - 1;
        if (x > 0 && label[j] >= 0 && label[j] !== r) r = this.union(r, j);
        j = i + 1;
        if (x < width - 1 && label[j] >= 0 && label[j] !== r) r = this.union(r, j);
        j = i - width;
        if (y > 0 && label[j] >= 0 && label[j] !== r) r = this.union(r, j);
        j = i + width;
        if (j < n && label[j] >= 0 && label[j] !== r) r = this.union(r, j);
      }
      const c = this.current;
      c.level = level;
      for (let s = from; s < to; s++) {
        const r = label[order[s]];
        if (reported[r] === level || !changed[r]) continue;
        reported[r] = level;
        c.root = r;
        c.area = area[r];
        c.minX = minX[r];
        c.maxX = maxX[r];
        c.minY = minY[r];
        c.maxY = maxY[r];
        const readTo = visit(c);
        if (readTo >= 0) {
          readToRow[r] = readTo;
          changed[r] = 0;
        }
      }
    }
  }
}

const cache = new Map<string, LevelComponents>();

/** The (reused) component finder for a grid size. */
export function levelComponentsFor(width: number, height: number): LevelComponents {
  const key = `${width}x${height}`;
  let found = cache.get(key);
  if (!found) {
    // A camera has one or two sizes (and stills a few more): keep the cache small.
    if (cache.size >= 8) cache.clear();
    found = new LevelComponents(width, height);
    cache.set(key, found);
  }
  return found;
}
