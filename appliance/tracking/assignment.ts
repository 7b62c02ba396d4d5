/**
 * Minimum-cost assignment of rows to columns (the Hungarian method, O(n²·m)). Pure.
 *
 * Used to pair tracked persons with the faces of a frame: unlike greedy matching, it never gives a
 * face to the wrong person just because that person happened to be matched first, which is what
 * swaps ids when two people pass each other.
 */

/** Marks a pair that must not be assigned (outside the gate). */
export const FORBIDDEN = Number.POSITIVE_INFINITY;

/**
 * `cost[r][c]` for r rows and c columns (rectangular allowed, FORBIDDEN for impossible pairs).
 * Returns, for each row, the column assigned to it or -1. The total cost of the assigned pairs is
 * minimal among assignments that pair as many rows as possible within the gate.
 */
export function assignMinimumCost(cost: readonly (readonly number[])[]): number[] {
  const rows = cost.length;
  if (rows === 0) return [];
  const cols = cost[0].length;
  if (cols === 0) return new Array<number>(rows).fill(-1);
  // Forbidden pairs become a large finite cost so the method stays well defined; they are dropped
  // afterwards. "Large" dominates any sum of allowed costs, so allowed pairs are always preferred.
  let maxAllowed = 0;
  for (const row of cost)
    for (const v of row) if (Number.isFinite(v)) maxAllowed = Math.max(maxAllowed, Math.abs(v));
  const big = (maxAllowed + 1) * (Math.max(rows, cols) + 1) * 4;
  const transpose = rows > cols;
  const n = transpose ? cols : rows;
  const m = transpose ? rows : cols;
  const a = (i: number, j: number): number => {
    const v = transpose ? cost[j][i] : cost[i][j];
    return Number.isFinite(v) ? v : big;
  };
  // Potentials and matching, 1-based as in the classic formulation (column 0 is a sentinel).
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(Number.POSITIVE_INFINITY);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      let delta = Number.POSITIVE_INFINITY;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = a(i0 - 1, j - 1) - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const result = new Array<number>(rows).fill(-1);
  for (let j = 1; j <= m; j++) {
    if (p[j] === 0) continue;
    const i = p[j] - 1;
    const r = transpose ? j - 1 : i;
    const c = transpose ? i : j - 1;
    if (Number.isFinite(cost[r][c])) result[r] = c;
  }
  return result;
}
