/**
 * Eyes and inner canthi from the temperature pattern inside a face box, plus the glasses test.
 *
 * The inner canthi (tear-duct corners) are the warmest points of a bare face: they sit in the
 * upper-middle band of the face, one on each side of the midline, close to it. Glasses block LWIR and
 * show as cold patches over the eyes. Everything works on a "field" of values where one unit is one
 * degree Celsius (radiometric frames) or one pseudo-degree (8-bit images put on a normalised scale by
 * the detector), so thresholds read as °C either way.
 *
 * Side convention: the camera faces the person, so the person's right eye/canthus is on the image's left.
 */

import type { Box, Point } from '../core/types.ts';
import { rectMedian } from './thermalStructure.ts';

export interface CanthusSpot {
  /** Pixel position of the canthus (centre of the warmest 2×2 or 3×3 cell). */
  point: Point;
  /** Mean of that cell, field units. */
  value: number;
}

export interface CanthusFinding {
  rightCanthus: CanthusSpot | null;
  leftCanthus: CanthusSpot | null;
  rightEye: Point | null;
  leftEye: Point | null;
  /** Rough head turn from the canthi's position against the face midline; null without both canthi. */
  yawDeg: number | null;
  /** Medians of the face regions used by the glasses test (field units). */
  eyeRegion: number | null;
  forehead: number | null;
  cheeks: number | null;
  /** Eye regions much colder than forehead and cheeks: glasses or something else over the eyes. */
  eyesObstructed: boolean;
}

/** Field units by which the eye regions must be colder than forehead and cheeks to call them obstructed. */
export const EYES_OBSTRUCTED_DELTA = 1.5;
/**
 * Heights (shares of the box) by which the glasses test moves the eye band and the cheeks down from
 * their usual place (eyes at 32–48 % of the box): a box with long hair or a high forehead holds the eyes
 * lower.
 */
const GLASSES_BAND_OFFSETS = [0, 0.1, 0.2];
/**
 * A box shorter than it is wide ends at the glasses (their cold band cut the outline): its eyes sit
 * lower still, near its bottom edge.
 */
const CUT_BOX_BAND_OFFSETS = [0, 0.1, 0.2, 0.3, 0.4];

const USUAL_PLACEMENT = [0];

/** Where the glasses test places the eye band in a box of this size (see GLASSES_BAND_OFFSETS). */
export function glassesBandOffsets(bw: number, bh: number): readonly number[] {
  return bh < bw ? CUT_BOX_BAND_OFFSETS : GLASSES_BAND_OFFSETS;
}
/**
 * Field units by which the skin right above or right below both canthus spots must be colder than the
 * spots for the "canthi" to be skin at the edge of something covering the eyes (see coveredCanthi).
 */
export const CANTHI_COVERED_DELTA = 2 * EYES_OBSTRUCTED_DELTA;
/** A canthus must stand this far above the face's median to count as one. */
const CANTHUS_ABOVE_MEDIAN = 0.35;

function clampInt(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, Math.round(v)));
}

/** Median of the finite field values in a rectangle (clipped to the frame); null when empty. */
export function regionMedian(
  field: Float32Array,
  width: number,
  height: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): number | null {
  const xa = clampInt(x0, 0, width - 1);
  const xb = clampInt(x1, 0, width - 1);
  const ya = clampInt(y0, 0, height - 1);
  const yb = clampInt(y1, 0, height - 1);
  const median = rectMedian(field, width, xa, xb, ya, yb, true);
  return Number.isNaN(median) ? null : median;
}

let rowSums = new Float64Array(0);

/** Warmest cell (cell × cell mean) whose top-left corner lies in the rectangle. */
function warmestCell(
  field: Float32Array,
  width: number,
  height: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  cell: number,
): CanthusSpot | null {
  const xa = clampInt(x0, 0, width - cell);
  const xb = clampInt(x1, 0, width - cell);
  const ya = clampInt(y0, 0, height - cell);
  const yb = clampInt(y1, 0, height - cell);
  if (xb < xa || yb < ya) return null;
  // Sums of `cell` pixels along each row (each pixel read once per row), then `cell` of those down a
  // column: ~2·cell reads per position instead of cell². A NaN pixel makes its cells NaN: never chosen.
  const nx = xb - xa + 1;
  const rows = yb - ya + cell;
  if (rowSums.length < nx * rows) rowSums = new Float64Array(Math.ceil(nx * rows * 1.25));
  const sums = rowSums;
  for (let r = 0; r < rows; r++) {
    const src = (ya + r) * width + xa;
    const out = r * nx;
    if (cell === 2) for (let x = 0; x < nx; x++) sums[out + x] = field[src + x] + field[src + x + 1];
    else if (cell === 3)
      for (let x = 0; x < nx; x++) sums[out + x] = field[src + x] + field[src + x + 1] + field[src + x + 2];
    else
      for (let x = 0; x < nx; x++) {
        let sum = 0;
        for (let dx = 0; dx < cell; dx++) sum += field[src + x + dx];
        sums[out + x] = sum;
      }
  }
  const area = cell * cell;
  // The first warmest position in row order (the same sums, added in the same order, as cell by cell).
  let bestValue = Number.NEGATIVE_INFINITY;
  let bestX = -1;
  let bestY = -1;
  for (let y = ya; y <= yb; y++) {
    const r0 = (y - ya) * nx;
    for (let x = 0; x < nx; x++) {
      let sum: number;
      if (cell === 2) sum = sums[r0 + x] + sums[r0 + nx + x];
      else if (cell === 3) sum = sums[r0 + x] + sums[r0 + nx + x] + sums[r0 + 2 * nx + x];
      else {
        sum = 0;
        for (let dy = 0; dy < cell; dy++) sum += sums[r0 + dy * nx + x];
      }
      const mean = sum / area;
      if (mean > bestValue && Number.isFinite(mean)) {
        bestValue = mean;
        bestX = x + xa;
        bestY = y;
      }
    }
  }
  if (bestX < 0) return null;
  const c = (cell - 1) / 2;
  return { point: { x: bestX + c, y: bestY + c }, value: bestValue };
}

/** Median of the forehead region of a face box (its middle, 8–22 % of the height). */
function foreheadMedian(field: Float32Array, width: number, height: number, box: Box): number | null {
  const [bx, by, bw, bh] = box;
  const cx = bx + bw / 2;
  return regionMedian(field, width, height, cx - bw * 0.2, by + bh * 0.08, cx + bw * 0.2, by + bh * 0.22);
}

/** What the glasses tests read at one placement of the eye band (moved down by `o` of the box height). */
interface EyeBandPlacement {
  o: number;
  /** The warmer of the two eye regions' medians (either where only one is in the frame). */
  eyes: number | null;
  /** The cheeks right below the band. */
  cheeks: number | null;
  /** Below the usual placement (o > 0): the strip right above the band; null at o = 0. */
  above: number | null;
}

function eyeBandPlacements(
  field: Float32Array,
  width: number,
  height: number,
  box: Box,
  offsets: readonly number[],
): EyeBandPlacement[] {
  const [bx, by, bw, bh] = box;
  const cx = bx + bw / 2;
  const region = (x0: number, y0: number, x1: number, y1: number) =>
    regionMedian(field, width, height, x0, y0, x1, y1);
  return offsets.map((o) => {
    const cheeks = region(bx + bw * 0.18, by + bh * (0.58 + o), bx + bw * 0.82, by + bh * (0.72 + o));
    const right = region(cx - bw * 0.34, by + bh * (0.32 + o), cx - bw * 0.1, by + bh * (0.48 + o));
    const left = region(cx + bw * 0.1, by + bh * (0.32 + o), cx + bw * 0.34, by + bh * (0.48 + o));
    const eyes = right !== null && left !== null ? Math.max(right, left) : (right ?? left);
    const above =
      o === 0 ? null : region(cx - bw * 0.2, by + bh * (0.18 + o), cx + bw * 0.2, by + bh * (0.3 + o));
    return { o, eyes, cheeks, above };
  });
}

/**
 * Locate the inner canthi in a face box. A canthus is the warmest cell of the eye band on its side of the
 * midline, and it must stand out from the face's median; the pair must sit at a similar height. Returns
 * nulls for what cannot be found (small faces, glasses, turned heads).
 */
export function locateCanthi(
  field: Float32Array,
  width: number,
  height: number,
  box: Box,
  /**
   * false: the canthus spots only, as the full search finds them (the detector scoring its candidates:
   * the spots depend on the usual placement of the glasses test alone; the lower placements only decide
   * `eyesObstructed`, `eyeRegion` and `cheeks`, which then stand for the usual placement — the detector
   * runs the full search again on the faces it reports).
   */
  glassesPlacements = true,
): CanthusFinding {
  const [bx, by, bw, bh] = box;
  const cx = bx + bw / 2;
  const cell = bw >= 48 ? 3 : 2;
  const faceMedian = regionMedian(
    field,
    width,
    height,
    bx + bw * 0.2,
    by + bh * 0.15,
    bx + bw * 0.8,
    by + bh * 0.85,
  );
  const forehead = foreheadMedian(field, width, height, box);
  // Glasses: both eye regions clearly colder than forehead and cheeks. Where the eyes sit in the box
  // depends on how much hair (or forehead) it holds: the eye band and the cheeks below it are tried at
  // three heights, and the placement where the eyes stand out coldest is taken.
  let cheeks: number | null = null;
  let eyeRegion: number | null = null;
  let drop = Number.NEGATIVE_INFINITY;
  /** The drop at the usual placement (eyes at 32–48 % of the box). */
  let usualDrop = Number.NEGATIVE_INFINITY;
  for (const { o, eyes, cheeks: cheeksHere, above: rightAbove } of eyeBandPlacements(
    field,
    width,
    height,
    box,
    glassesPlacements ? glassesBandOffsets(bw, bh) : USUAL_PLACEMENT,
  )) {
    // At the usual placement the warmer of forehead and cheeks is the skin to compare with; lower in
    // the box both must be warmer than the band (cold between skin above and below: not hair above a
    // face looking down, not a beard). Above it, the warmer of the forehead region and a strip right
    // above the band: with hair in the box's top the forehead region is hair, which in a warm room reads
    // barely warmer than lenses; the forehead skin right above them does not.
    let skin: number | null;
    if (o === 0)
      skin =
        forehead !== null && cheeksHere !== null ? Math.max(forehead, cheeksHere) : (forehead ?? cheeksHere);
    else {
      const above =
        forehead !== null && rightAbove !== null ? Math.max(forehead, rightAbove) : (forehead ?? rightAbove);
      skin = above !== null && cheeksHere !== null ? Math.min(above, cheeksHere) : null;
    }
    const here = eyes !== null && skin !== null ? skin - eyes : Number.NEGATIVE_INFINITY;
    if (o === 0) usualDrop = here;
    if (o === 0 || here > drop) {
      cheeks = cheeksHere;
      eyeRegion = eyes;
      drop = here;
    }
  }
  const eyesObstructed = bw >= 12 && drop > EYES_OBSTRUCTED_DELTA;

  const none: CanthusFinding = {
    rightCanthus: null,
    leftCanthus: null,
    rightEye: null,
    leftEye: null,
    yawDeg: null,
    eyeRegion,
    forehead,
    cheeks,
    eyesObstructed,
  };
  if (bw < 8 || faceMedian === null) return none;

  // Eye band: generous vertically because the box may or may not include hair and chin.
  const y0 = by + bh * 0.2;
  const y1 = by + bh * 0.62 - cell;
  const margin = Math.max(1, bw * 0.02);
  const right = warmestCell(field, width, height, cx - bw * 0.36, y0, cx - margin - cell / 2, y1, cell);
  const left = warmestCell(field, width, height, cx + margin - cell / 2, y0, cx + bw * 0.36 - cell, y1, cell);
  const good = (s: CanthusSpot | null): CanthusSpot | null =>
    s !== null && s.value >= faceMedian + CANTHUS_ABOVE_MEDIAN ? s : null;
  let r = good(right);
  let l = good(left);
  if (r && l && Math.abs(r.point.y - l.point.y) > bh * 0.15) {
    // Not a pair at eye level: keep the warmer one only.
    if (r.value >= l.value) l = null;
    else r = null;
  }
  if (eyesObstructed && usualDrop > EYES_OBSTRUCTED_DELTA) {
    // Through glasses the warmest "eye" spot is the nose bridge or a frame edge, never a canthus. (Cold
    // found only lower in the box may be a beard or a collar below real eyes: the spots stay, and the
    // flag alone keeps them from being read.)
    r = null;
    l = null;
  }
  // Eye centres lie outward of the inner canthi by about a quarter of the interpupillary distance.
  const eyeOffset = bw * 0.12;
  const yawDeg =
    r && l
      ? (Math.asin(Math.max(-1, Math.min(1, ((r.point.x + l.point.x) / 2 - cx) / (bw / 2)))) * 180) / Math.PI
      : null;
  return {
    rightCanthus: r,
    leftCanthus: l,
    rightEye: r ? { x: r.point.x - eyeOffset, y: r.point.y } : null,
    leftEye: l ? { x: l.point.x + eyeOffset, y: l.point.y } : null,
    yawDeg,
    eyeRegion,
    forehead,
    cheeks,
    eyesObstructed,
  };
}

/**
 * Eyes covered with no warm skin left to compare with, which the forehead/cheeks test of locateCanthi
 * misses: a cap's brim and sunglasses form one cold band (it sees cold above cold), or the face box
 * starts below the lenses (their cold band cut its outline). The warmest "canthi" are then the skin
 * strip between brim and lenses or the upper cheeks under them.
 *
 * Whether the canthus spots are skin at the edge of a cover over the eyes: right above every spot
 * (or right below every spot), on its outer side where the eye is, the field is colder than the spot by
 * more than CANTHI_COVERED_DELTA. Above a bare canthus lie the upper lid and the brow, below it the lower
 * lid and the upper cheek: at most a degree or so colder. Returns the cold region (the warmer of the
 * spots' regions) and the spots' skin, or null.
 */
export function coveredCanthi(
  field: Float32Array,
  width: number,
  height: number,
  box: Box,
  spots: readonly (CanthusSpot | null)[],
): { cold: number; skin: number; above: boolean } | null {
  const [bx, , bw] = box;
  const cx = bx + bw / 2;
  // Within a few pixels of the spot: lids and brow, not a fringe of hair or a collar further away.
  const near = bw * 0.06;
  const far = bw * 0.16;
  let best: { cold: number; skin: number; above: boolean } | null = null;
  for (const dir of [-1, 1]) {
    let cold = Number.NEGATIVE_INFINITY;
    let skin = Number.POSITIVE_INFINITY;
    let all = true;
    for (const s of spots) {
      if (!s) continue;
      // The eye lies outward of its inner canthus.
      const outward = s.point.x < cx ? -1 : 1;
      const xa = outward < 0 ? s.point.x - bw * 0.14 : s.point.x - bw * 0.02;
      const xb = outward < 0 ? s.point.x + bw * 0.02 : s.point.x + bw * 0.14;
      const ya = dir < 0 ? s.point.y - far : s.point.y + near;
      const yb = dir < 0 ? s.point.y - near : s.point.y + far;
      const v = regionMedian(field, width, height, xa, ya, xb, yb);
      if (v === null || !(s.value - v > CANTHI_COVERED_DELTA)) {
        all = false;
        break;
      }
      cold = Math.max(cold, v);
      skin = Math.min(skin, s.value);
    }
    if (all && Number.isFinite(cold) && (!best || skin - cold > best.skin - best.cold))
      best = { cold, skin, above: dir < 0 };
  }
  return best ?? lensesAbove(field, width, height, box, spots);
}

/**
 * Eyes covered from the top of the box down — a cap and sunglasses that read as one cold block (in a warm
 * room both are a few degrees below the skin, the brim right on the lenses): the glasses test of
 * `locateCanthi` wants warm skin above the lenses and finds the cap, and no canthus shows. Here the eye
 * band (at any of its placements) is colder than the cheeks right below it by more than
 * EYES_OBSTRUCTED_DELTA, and nothing above the band is warmer than it: no forehead, no brow, no eye —
 * covered. Bare eyes under a cap show warm canthi and lids in that band, not a band colder than the
 * cheeks; a beard or a mask is colder below, not above. Meant for a face whose canthi were not found
 * (it changes no reading, only why there is none). Returns the band and the cheeks, or null.
 */
export function coveredUpperFace(
  field: Float32Array,
  width: number,
  height: number,
  box: Box,
): { cold: number; skin: number } | null {
  const forehead = foreheadMedian(field, width, height, box);
  if (forehead === null) return null;
  let best: { cold: number; skin: number } | null = null;
  for (const { o, eyes, cheeks, above } of eyeBandPlacements(
    field,
    width,
    height,
    box,
    glassesBandOffsets(box[2], box[3]),
  )) {
    if (eyes === null || cheeks === null) continue;
    const top = o === 0 || above === null ? forehead : Math.max(forehead, above);
    if (
      cheeks - eyes > EYES_OBSTRUCTED_DELTA &&
      top <= eyes &&
      (!best || cheeks - eyes > best.skin - best.cold)
    )
      best = { cold: eyes, skin: cheeks };
  }
  return best;
}

/**
 * Sunglasses above the spots (the face box starts below them: the "canthi" are the upper cheeks by the
 * nose): within 0.4 of the face width above the spots, a band whose two sides (the lenses) are colder
 * than the spots by more than CANTHI_COVERED_DELTA, cold up to 6 % of the face width from the middle, with
 * a warmer nose bridge between them. A cap's brim or hair is cold all across; above bare eyes lie brows
 * and forehead, barely colder than the canthi; the top of a head is warm across a wide middle.
 */
function lensesAbove(
  field: Float32Array,
  width: number,
  height: number,
  box: Box,
  spots: readonly (CanthusSpot | null)[],
): { cold: number; skin: number; above: boolean } | null {
  const found = spots.filter((s) => s !== null);
  if (found.length === 0) return null;
  const bw = box[2];
  const mx = found.length === 2 ? (found[0].point.x + found[1].point.x) / 2 : box[0] + bw / 2;
  const top = Math.min(...found.map((s) => s.point.y));
  const skin = Math.min(...found.map((s) => s.value));
  const band = Math.max(2, Math.round(bw * 0.1));
  const bridgeHalf = Math.max(1, bw * 0.04);
  let best: { cold: number; skin: number; above: boolean } | null = null;
  for (let y = Math.round(top - bw * 0.4); y <= top - bw * 0.06 - band; y++) {
    const right = regionMedian(field, width, height, mx - bw * 0.36, y, mx - bw * 0.08, y + band);
    const left = regionMedian(field, width, height, mx + bw * 0.08, y, mx + bw * 0.36, y + band);
    const bridge = regionMedian(field, width, height, mx - bridgeHalf, y, mx + bridgeHalf, y + band);
    // The lenses reach close to the bridge: the top of a head against the background, or a forehead
    // framed by hair, is warm across a much wider middle.
    const innerRight = regionMedian(field, width, height, mx - bw * 0.15, y, mx - bw * 0.06, y + band);
    const innerLeft = regionMedian(field, width, height, mx + bw * 0.06, y, mx + bw * 0.15, y + band);
    if (right === null || left === null || bridge === null || innerRight === null || innerLeft === null)
      continue;
    const cold = Math.max(right, left, innerRight, innerLeft);
    if (
      skin - cold > CANTHI_COVERED_DELTA &&
      bridge - cold > EYES_OBSTRUCTED_DELTA &&
      (!best || cold < best.cold)
    )
      best = { cold, skin, above: true };
  }
  return best;
}
