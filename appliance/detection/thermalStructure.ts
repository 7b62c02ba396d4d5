/**
 * Facial-structure evidence for a thermal face candidate: what a face has and a warm blob of the same
 * shape (a hand, a cup, clothes, a panel, sun-warmed pavement) does not.
 *
 * - Eye pair: the two inner canthi are the warmest small spots of a bare face, one each side of the
 *   midline, at the same height, about a fifth of the face width apart, and warm relative to the rest of
 *   the face (near its top percentiles), not just the warmest cell of a noisy band.
 * - Glasses: both eye regions clearly colder than forehead and cheeks, with a warmer nose bridge between.
 * - Mirror symmetry: after each row's mean is taken out, the pattern of a frontal face is left/right
 *   symmetric (eyes, nose, cheeks falling off to the sides); textures and gradients are not.
 * - Chin: below a face the warm area narrows to the neck or cools to clothing; pavement, walls and
 *   bodies go on as warm and as wide.
 *
 * All in field units (°C, or pseudo-°C for 8-bit images), on the full-resolution field.
 */
import type { Box } from '../types.ts';
import type { CanthusFinding } from './thermalCanthi.ts';

export interface FaceEvidence {
  /** 0…1: quality of the canthus pair. */
  eyes: number;
  /** 0…1: glasses pattern (cold lenses, warm bridge). */
  glasses: number;
  /** Mirror correlation of the row-detrended pattern, −1…1. */
  symmetry: number;
  /** 0…1: the warm area ends (narrows or cools) below the box; 0.5 when the box reaches the bottom. */
  chin: number;
  /** Combined 0…1. */
  score: number;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** Cell means of the box on an nx × ny grid (NaN cells where nothing finite). */
function cellGrid(field: Float32Array, width: number, height: number, box: Box, nx: number, ny: number) {
  const [bx, by, bw, bh] = box;
  const out = new Float32Array(nx * ny);
  for (let j = 0; j < ny; j++) {
    const ya = Math.max(0, Math.floor(by + (j * bh) / ny));
    const yb = Math.min(height, Math.max(ya + 1, Math.floor(by + ((j + 1) * bh) / ny)));
    for (let i = 0; i < nx; i++) {
      const xa = Math.max(0, Math.floor(bx + (i * bw) / nx));
      const xb = Math.min(width, Math.max(xa + 1, Math.floor(bx + ((i + 1) * bw) / nx)));
      let s = 0;
      let n = 0;
      for (let y = ya; y < yb; y++)
        for (let x = xa; x < xb; x++) {
          const v = field[y * width + x];
          if (Number.isFinite(v)) {
            s += v;
            n++;
          }
        }
      out[j * nx + i] = n ? s / n : Number.NaN;
    }
  }
  return out;
}

/** Left/right mirror correlation of the box after removing each row's mean. */
export function mirrorSymmetry(field: Float32Array, width: number, height: number, box: Box): number {
  const nx = Math.max(4, Math.min(16, Math.round(box[2] / 2)) & ~1);
  const ny = Math.max(4, Math.min(20, Math.round(box[3] / 2)));
  const g = cellGrid(field, width, height, box, nx, ny);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let j = 0; j < ny; j++) {
    let m = 0;
    let n = 0;
    for (let i = 0; i < nx; i++) {
      const v = g[j * nx + i];
      if (Number.isFinite(v)) {
        m += v;
        n++;
      }
    }
    if (n < nx) continue;
    m /= n;
    for (let i = 0; i < nx / 2; i++) {
      const a = g[j * nx + i] - m;
      const b = g[j * nx + nx - 1 - i] - m;
      sab += a * b;
      saa += a * a;
      sbb += b * b;
    }
  }
  if (saa <= 1e-9 || sbb <= 1e-9) return 0;
  return sab / Math.sqrt(saa * sbb);
}

function quantile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.floor(p * (s.length - 1))))];
}

function sampleBox(
  field: Float32Array,
  width: number,
  height: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): number[] {
  const xa = Math.max(0, Math.round(x0));
  const xb = Math.min(width - 1, Math.round(x1));
  const ya = Math.max(0, Math.round(y0));
  const yb = Math.min(height - 1, Math.round(y1));
  const step = Math.max(1, Math.floor(Math.sqrt(((xb - xa + 1) * (yb - ya + 1)) / 600)));
  const out: number[] = [];
  for (let y = ya; y <= yb; y += step)
    for (let x = xa; x <= xb; x += step) {
      const v = field[y * width + x];
      if (Number.isFinite(v)) out.push(v);
    }
  return out;
}

/** Evidence that the box holds a face. `finding` is locateCanthi's result for the same box. */
export function faceEvidence(
  field: Float32Array,
  width: number,
  height: number,
  box: Box,
  finding: CanthusFinding | null,
  radiometric = true,
): FaceEvidence {
  const [bx, by, bw, bh] = box;
  const cx = bx + bw / 2;

  // Eye pair.
  let eyes = 0;
  const r = finding?.rightCanthus;
  const l = finding?.leftCanthus;
  const interior = sampleBox(
    field,
    width,
    height,
    bx + bw * 0.12,
    by + bh * 0.1,
    bx + bw * 0.88,
    by + bh * 0.9,
  );
  if (r && l && interior.length >= 16) {
    const sep = (l.point.x - r.point.x) / bw;
    const mid = ((l.point.x + r.point.x) / 2 - cx) / bw;
    const dy = Math.abs(l.point.y - r.point.y) / bh;
    const med = quantile(interior, 0.5);
    const p90 = quantile(interior, 0.9);
    const spread = Math.max(0.3, p90 - med);
    const weaker = Math.min(r.value, l.value);
    const stronger = Math.max(r.value, l.value);
    const sepScore =
      sep < 0.06 ? 0 : sep < 0.1 ? (sep - 0.06) / 0.04 : sep <= 0.42 ? 1 : clamp01((0.55 - sep) / 0.13);
    const midScore = clamp01((0.3 - Math.abs(mid)) / 0.15);
    const levelScore = clamp01((0.14 - dy) / 0.08);
    // Both canthi warm against the face (above its 90th percentile) and a matched pair.
    const warmScore = clamp01((weaker - med) / spread - 0.6);
    const matchScore = clamp01(1.5 - (stronger - weaker) / Math.max(0.2, weaker - med));
    eyes = sepScore * midScore * levelScore * Math.min(warmScore, matchScore);
  } else if (r || l) {
    eyes = 0.25; // a turned head shows one canthus
  }

  // Glasses: cold lenses over both eyes, the bridge between them warmer.
  let glasses = 0;
  if (finding?.eyesObstructed && finding.eyeRegion !== null) {
    const bridge = sampleBox(
      field,
      width,
      height,
      cx - bw * 0.05,
      by + bh * 0.34,
      cx + bw * 0.05,
      by + bh * 0.46,
    );
    const ref = Math.max(finding.forehead ?? -Infinity, finding.cheeks ?? -Infinity);
    const bridgeV = bridge.length ? quantile(bridge, 0.5) : Number.NaN;
    const bridgeWarmer = Number.isFinite(bridgeV) ? clamp01((bridgeV - finding.eyeRegion) / 0.8) : 0.5;
    glasses = clamp01((ref - finding.eyeRegion - 1.5) / 1.5 + 0.5) * (0.4 + 0.6 * bridgeWarmer);
  }

  const symmetry = mirrorSymmetry(field, width, height, box);

  // Chin: below the box, how much of a band as wide as the box is still as warm as the face's lower part.
  // (Little or nothing below the box: the chin cannot be seen, which is itself unlike a face in view.)
  let chin = 0.25;
  const belowY0 = by + bh + Math.max(1, bh * 0.08);
  const belowY1 = Math.min(height - 1, by + bh * 1.35);
  if (belowY1 - belowY0 >= Math.max(2, bh * 0.12)) {
    const face = sampleBox(
      field,
      width,
      height,
      bx + bw * 0.15,
      by + bh * 0.35,
      bx + bw * 0.85,
      by + bh * 0.85,
    );
    const below = sampleBox(field, width, height, bx + bw * 0.0, belowY0, bx + bw, belowY1);
    if (face.length >= 8 && below.length >= 8) {
      const q = quantile(face, 0.25);
      const warm = below.filter((v) => v >= q).length / below.length;
      chin = clamp01((0.9 - warm) / 0.4);
    }
  }

  const symScore = clamp01(symmetry / 0.5);
  // Eyes are the strongest cue, but unresolved canthi (small or blurred faces, 8-bit images) are not
  // evidence against a face; under 20 px they are not looked for.
  // On radiometric frames a face of 32 px and more shows its canthi (or glasses): missing them counts.
  const floor = radiometric && bw >= 32 ? 0.2 : 0.3;
  const structure = bw < 20 ? 0.4 : Math.max(floor, eyes, glasses * 0.9);
  const score = 0.4 * structure + 0.3 * symScore + 0.3 * chin;
  return { eyes, glasses, symmetry, chin, score };
}
