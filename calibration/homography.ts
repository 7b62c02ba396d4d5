/**
 * Plane-to-plane registration (visible ↔ thermal) by a 3×3 homography. Pure; no I/O.
 *
 * Estimation is the normalised DLT (Hartley): each point set is moved to its centroid and
 * scaled to a mean distance of √2, the 2n×9 DLT system A·h = 0 is solved in least squares with
 * ‖h‖ = 1, and the result is de-normalised. The solution is the eigenvector of AᵀA (9×9,
 * symmetric) with the smallest eigenvalue — the same vector as A's smallest right singular
 * vector — found with cyclic Jacobi rotations. Why this route:
 * - one code path for exactly 4 pairs and for more (no separate 8×8 elimination vs normal
 *   equations);
 * - no "h33 = 1" assumption, which fails when the true h33 is near 0;
 * - Jacobi on a 9×9 symmetric matrix is short, converges in a few sweeps and is accurate to
 *   double precision; forming AᵀA squares A's condition number, which the normalisation keeps
 *   small. The eigenvalue gap also tells when the pairs do not determine a homography.
 * The DLT minimises an algebraic error, close to the pixel error for well-spread points; use
 * `reprojectionError` to judge a fit in pixels.
 */

export interface Point2 {
  x: number;
  y: number;
}

/** One correspondence: `from` in the source image (e.g. visible), `to` in the target (thermal). */
export interface PointPair {
  from: Point2;
  to: Point2;
}

/** Row-major 3×3: [h00, h01, h02, h10, h11, h12, h20, h21, h22], scaled so h22 = 1 when possible. */
export type Homography = [number, number, number, number, number, number, number, number, number];

export class HomographyError extends Error {
  override name = 'HomographyError';
}

export const IDENTITY_HOMOGRAPHY: Homography = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/** A triple of points is collinear when its triangle is thinner than this fraction of its longest side. */
const COLLINEAR_RELATIVE = 1e-6;
/** Second-smallest / largest eigenvalue of AᵀA under which the solution is not unique. */
const RANK_RELATIVE = 1e-12;

export function estimateHomography(pairs: readonly PointPair[]): Homography {
  if (pairs.length < 4) {
    throw new HomographyError(
      `A homography needs at least 4 point pairs, got ${pairs.length}; mark more points seen in both images.`,
    );
  }
  pairs.forEach((p, i) => {
    if (![p.from.x, p.from.y, p.to.x, p.to.y].every(Number.isFinite)) {
      throw new HomographyError(`Point pair ${i} has a non-finite coordinate`);
    }
  });
  const from = pairs.map((p) => p.from);
  const to = pairs.map((p) => p.to);
  for (const [name, pts] of [
    ['source', from],
    ['target', to],
  ] as const) {
    const problem = degeneracy(pts);
    if (problem) throw new HomographyError(`Degenerate ${name} points: ${problem}`);
  }

  const tFrom = normalisingTransform(from);
  const tTo = normalisingTransform(to);
  const ata = new Float64Array(81);
  const row = new Float64Array(9);
  const accumulate = () => {
    for (let i = 0; i < 9; i++) {
      if (row[i] === 0) continue;
      for (let j = 0; j < 9; j++) ata[i * 9 + j] += row[i] * row[j];
    }
  };
  for (let k = 0; k < pairs.length; k++) {
    const a = applyAffine(tFrom, from[k]);
    const b = applyAffine(tTo, to[k]);
    row.set([-a.x, -a.y, -1, 0, 0, 0, b.x * a.x, b.x * a.y, b.x]);
    accumulate();
    row.set([0, 0, 0, -a.x, -a.y, -1, b.y * a.x, b.y * a.y, b.y]);
    accumulate();
  }
  const { values, vectors } = jacobiEigen(ata, 9);
  const order = [...values.keys()].sort((i, j) => values[i] - values[j]);
  const largest = values[order[8]];
  if (!(values[order[1]] > RANK_RELATIVE * largest)) {
    throw new HomographyError(
      'Degenerate point pairs: they do not determine a unique homography (too few independent points, ' +
        'or points on a line); spread the points over the scene.',
    );
  }
  const h = Array.from({ length: 9 }, (_, i) => vectors[i * 9 + order[0]]);
  // H = T_to⁻¹ · Ĥ · T_from
  const H = multiply3(multiply3(invertAffine(tTo), h), tFrom);
  const det =
    H[0] * (H[4] * H[8] - H[5] * H[7]) -
    H[1] * (H[3] * H[8] - H[5] * H[6]) +
    H[2] * (H[3] * H[7] - H[4] * H[6]);
  const norm = Math.hypot(...H);
  if (!(Math.abs(det) > 1e-12 * norm ** 3)) {
    throw new HomographyError('Degenerate point pairs: the fitted homography is singular.');
  }
  const scale = Math.abs(H[8]) > 1e-12 * norm ? H[8] : H[8] < 0 ? -norm : norm;
  return H.map((v) => v / scale) as Homography;
}

export function applyHomography(H: Homography, p: Point2): Point2 {
  const w = H[6] * p.x + H[7] * p.y + H[8];
  const x = (H[0] * p.x + H[1] * p.y + H[2]) / w;
  const y = (H[3] * p.x + H[4] * p.y + H[5]) / w;
  if (!Number.isFinite(x) || !Number.isFinite(y)) {
    throw new HomographyError(`Point (${p.x}, ${p.y}) maps to infinity under this homography (w = ${w})`);
  }
  return { x, y };
}

export function invertHomography(H: Homography): Homography {
  const [a, b, c, d, e, f, g, h, i] = H;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (!(Math.abs(det) > 0)) throw new HomographyError('The homography is singular and has no inverse');
  const inv = [
    A,
    -(b * i - c * h),
    b * f - c * e,
    B,
    a * i - c * g,
    -(a * f - c * d),
    C,
    -(a * h - b * g),
    a * e - b * d,
  ];
  const s = Math.abs(inv[8]) > 1e-12 * Math.hypot(...inv) ? inv[8] : det;
  return inv.map((v) => v / s) as Homography;
}

export interface ReprojectionError {
  /** Root mean square of the per-pair distances, target pixels. */
  rmsPx: number;
  maxPx: number;
  /** Distance between H·from and to for each pair, in input order. */
  perPoint: number[];
}

export function reprojectionError(H: Homography, pairs: readonly PointPair[]): ReprojectionError {
  if (pairs.length === 0) throw new HomographyError('Reprojection error needs at least one point pair');
  const perPoint = pairs.map((p) => {
    const q = applyHomography(H, p.from);
    return Math.hypot(q.x - p.to.x, q.y - p.to.y);
  });
  return {
    rmsPx: Math.sqrt(perPoint.reduce((s, d) => s + d * d, 0) / perPoint.length),
    maxPx: Math.max(...perPoint),
    perPoint,
  };
}

/** Why a point set cannot anchor a homography, or null when it can. */
function degeneracy(pts: readonly Point2[]): string | null {
  const n = pts.length;
  // All points on one line: thickness of the point cloud along its minor axis.
  let mx = 0;
  let my = 0;
  for (const p of pts) {
    mx += p.x / n;
    my += p.y / n;
  }
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (const p of pts) {
    sxx += (p.x - mx) ** 2;
    syy += (p.y - my) ** 2;
    sxy += (p.x - mx) * (p.y - my);
  }
  const tr = sxx + syy;
  const disc = Math.sqrt(((sxx - syy) / 2) ** 2 + sxy ** 2);
  const major = tr / 2 + disc;
  const minor = tr / 2 - disc;
  if (!(major > 0)) return `all ${n} points coincide`;
  if (Math.sqrt(Math.max(0, minor) / major) < COLLINEAR_RELATIVE) return `all ${n} points are collinear`;
  // With exactly four, any three on a line leave the homography undetermined.
  if (n === 4) {
    for (let skip = 0; skip < 4; skip++) {
      const [a, b, c] = pts.filter((_, i) => i !== skip);
      const twiceArea = Math.abs((b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x));
      const longest = Math.max(
        Math.hypot(b.x - a.x, b.y - a.y),
        Math.hypot(c.x - a.x, c.y - a.y),
        Math.hypot(c.x - b.x, c.y - b.y),
      );
      if (!(twiceArea > COLLINEAR_RELATIVE * longest * longest)) {
        return `with 4 pairs no 3 points may be collinear, but points ${[0, 1, 2, 3].filter((i) => i !== skip).join(', ')} are`;
      }
    }
  }
  return null;
}

/** [s, 0, tx, 0, s, ty] as a 3×3 row-major affine (last row 0 0 1). */
type Similarity = [number, number, number, number, number, number, number, number, number];

function normalisingTransform(pts: readonly Point2[]): Similarity {
  const n = pts.length;
  let cx = 0;
  let cy = 0;
  for (const p of pts) {
    cx += p.x / n;
    cy += p.y / n;
  }
  let meanDist = 0;
  for (const p of pts) meanDist += Math.hypot(p.x - cx, p.y - cy) / n;
  const s = Math.SQRT2 / meanDist;
  return [s, 0, -s * cx, 0, s, -s * cy, 0, 0, 1];
}

function applyAffine(t: Similarity, p: Point2): Point2 {
  return { x: t[0] * p.x + t[1] * p.y + t[2], y: t[3] * p.x + t[4] * p.y + t[5] };
}

function invertAffine(t: Similarity): number[] {
  const s = t[0];
  return [1 / s, 0, -t[2] / s, 0, 1 / s, -t[5] / s, 0, 0, 1];
}

function multiply3(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      out[r * 3 + c] = a[r * 3] * b[c] + a[r * 3 + 1] * b[3 + c] + a[r * 3 + 2] * b[6 + c];
    }
  }
  return out;
}

/**
 * Eigen-decomposition of a symmetric n×n matrix (row-major) by cyclic Jacobi rotations.
 * Returns the eigenvalues and the eigenvectors as the columns of `vectors` (row-major n×n).
 */
export function jacobiEigen(matrix: Float64Array, n: number): { values: number[]; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const x = a[i * n + j] ** 2;
        total += x;
        if (i !== j) off += x;
      }
    }
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          // A ← Jᵀ A J, applied as column then row rotations.
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Array.from({ length: n }, (_, i) => a[i * n + i]), vectors: v };
}
