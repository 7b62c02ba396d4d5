/**
 * Connected components of a thresholded field (4-connected, two-pass union-find), with the statistics the
 * thermal face detector needs. Buffers are reused between calls on the same grid size.
 */

export interface ComponentStats {
  label: number;
  area: number;
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
}

export class ComponentLabeler {
  readonly labels: Int32Array;
  private readonly parent: Int32Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.labels = new Int32Array(width * height);
    this.parent = new Int32Array(width * height + 1);
  }

  private find(a: number): number {
    const p = this.parent;
    let r = a;
    while (p[r] !== r) r = p[r];
    while (p[a] !== r) {
      const next = p[a];
      p[a] = r;
      a = next;
    }
    return r;
  }

  /**
   * Label pixels where `lo <= field < hi` (and finite). Returns the components; `labels` holds each pixel's
   * component label (0 = background), valid until the next call.
   */
  label(field: Float32Array, lo: number, hi: number): ComponentStats[] {
    const { width, height, labels, parent } = this;
    let next = 1;
    parent[0] = 0;
    for (let y = 0; y < height; y++) {
      const row = y * width;
      for (let x = 0; x < width; x++) {
        const i = row + x;
        const v = field[i];
        if (!(v >= lo && v < hi)) {
          labels[i] = 0;
          continue;
        }
        const left = x > 0 ? labels[i - 1] : 0;
        const up = y > 0 ? labels[i - width] : 0;
        if (left === 0 && up === 0) {
          parent[next] = next;
          labels[i] = next++;
        } else if (left !== 0 && up !== 0) {
          const a = this.find(left);
          const b = this.find(up);
          if (a !== b) {
            if (a < b) parent[b] = a;
            else parent[a] = b;
          }
          labels[i] = Math.min(a, b);
        } else {
          labels[i] = left !== 0 ? left : up;
        }
      }
    }
    // Second pass: final labels, compacted, with statistics.
    const remap = new Int32Array(next);
    const stats: ComponentStats[] = [];
    for (let l = 1; l < next; l++) {
      const r = this.find(l);
      if (remap[r] === 0) {
        stats.push({ label: stats.length + 1, area: 0, minX: width, maxX: -1, minY: height, maxY: -1 });
        remap[r] = stats.length;
      }
      remap[l] = remap[r];
    }
    for (let y = 0; y < height; y++) {
      const row = y * width;
      for (let x = 0; x < width; x++) {
        const i = row + x;
        if (labels[i] === 0) continue;
        const l = remap[labels[i]];
        labels[i] = l;
        const s = stats[l - 1];
        s.area++;
        if (x < s.minX) s.minX = x;
        if (x > s.maxX) s.maxX = x;
        if (y < s.minY) s.minY = y;
        if (y > s.maxY) s.maxY = y;
      }
    }
    return stats;
  }
}
