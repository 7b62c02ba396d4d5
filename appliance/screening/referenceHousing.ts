/**
 * The reference's housing: the warm object the blackbody disc sits in. The detector never boxes the
 * disc (its region is excluded, with a margin of one region size), but a kiosk's housing reaches
 * several disc diameters beyond it — on one kiosk it runs 4 diameters above the disc — and its warm,
 * faintly textured face can pass as a head. The whole object is found once, from the disc outwards, and
 * a face lying on it is never a person.
 *
 * - Levels: the housing is read in a ring just outside the disc's blurred rim; the background is the
 *   median of the pixels on the border of the search box (HOUSING_SEARCH_DIAMETERS disc diameters
 *   around the disc). The housing must stand at least HOUSING_MIN_CONTRAST_C above the background,
 *   else there is nothing to exclude (a housing no warmer than the room gives no face either).
 * - Extent: the pixels connected (4-neighbours) to that ring that are warmer than halfway between
 *   background and housing and not much warmer than the housing (skin, a warm body), within the search
 *   box.
 * - Capped: a fill that reaches the search box's border (the frame's own edges excepted) or covers more
 *   than HOUSING_MAX_AREA_DISCS disc squares has run into something warm beside the housing — a person
 *   touching it, leaning on the kiosk — and is refused: null, and the caller tries again on a later frame,
 *   so a person next to the reference never becomes part of it.
 */
import type { Box, Region } from '../core/types.ts';

/** The search box reaches this many disc diameters beyond the disc on every side. */
const HOUSING_SEARCH_DIAMETERS = 4;
/** Housings seen are ≈ 12 disc squares (a 24 × 50 px housing round an 11 px disc); a person is far more. */
const HOUSING_MAX_AREA_DISCS = 16;
/**
 * Parts of the housing read up to this many times its contrast above the level next to the disc (one
 * kiosk's housing is 0.8 °C warmer at its top, 1.5 °C above the room); warmer pixels are not housing.
 */
const HOUSING_WARMER_PART = 1.5;
/** The housing must be at least this much warmer than the background to be told from it, °C. */
const HOUSING_MIN_CONTRAST_C = 0.5;

export interface ReferenceHousing {
  /** Bounding box of the housing (the disc included), upright pixels. */
  box: Box;
  /** Housing pixels, one byte per frame pixel (1 = housing). */
  mask: Uint8Array;
  /** The frame's width (row length of `mask`). */
  width: number;
}

export type HousingResult =
  | { found: ReferenceHousing }
  /** The housing is not warmer than the background: nothing beyond the disc to exclude. */
  | { found: null; reason: 'no-contrast' }
  /** The fill ran into something warm beside the housing (a person): try again later. */
  | { found: null; reason: 'leaked' };

/** The housing around the reference `region` in a frame of °C values, as described above. */
export function findReferenceHousing(
  celsius: Float32Array,
  width: number,
  height: number,
  region: Region,
): HousingResult {
  const d = Math.max(region.width, region.height);
  const reach = HOUSING_SEARCH_DIAMETERS * d;
  const x0 = Math.max(0, Math.floor(region.x - reach));
  const y0 = Math.max(0, Math.floor(region.y - reach));
  const x1 = Math.min(width - 1, Math.ceil(region.x + region.width + reach));
  const y1 = Math.min(height - 1, Math.ceil(region.y + region.height + reach));
  // Just outside the disc's blurred rim: 0.15–0.4 diameters beyond its bounding box.
  const ringIn = Math.ceil(0.15 * d) + 1;
  const ringOut = Math.max(ringIn + 1, Math.ceil(0.4 * d) + 1);
  const ring: number[] = [];
  const ringIndex: number[] = [];
  for (
    let y = Math.max(0, region.y - ringOut);
    y < Math.min(height, region.y + region.height + ringOut);
    y++
  ) {
    for (
      let x = Math.max(0, region.x - ringOut);
      x < Math.min(width, region.x + region.width + ringOut);
      x++
    ) {
      const outside =
        x < region.x - ringIn ||
        x >= region.x + region.width + ringIn ||
        y < region.y - ringIn ||
        y >= region.y + region.height + ringIn;
      const v = celsius[y * width + x];
      if (!outside || !Number.isFinite(v)) continue;
      ring.push(v);
      ringIndex.push(y * width + x);
    }
  }
  const border: number[] = [];
  const onBorder = (x: number, y: number) =>
    (x === x0 && x0 > 0) ||
    (x === x1 && x1 < width - 1) ||
    (y === y0 && y0 > 0) ||
    (y === y1 && y1 < height - 1);
  for (let y = y0; y <= y1; y++)
    for (let x = x0; x <= x1; x++) {
      if (!onBorder(x, y)) continue;
      const v = celsius[y * width + x];
      if (Number.isFinite(v)) border.push(v);
    }
  if (ring.length === 0 || border.length === 0) return { found: null, reason: 'no-contrast' };
  const housingC = median(ring);
  const backgroundC = median(border);
  if (!(housingC - backgroundC >= HOUSING_MIN_CONTRAST_C)) return { found: null, reason: 'no-contrast' };
  const cut = backgroundC + 0.5 * (housingC - backgroundC);
  // A housing is about evenly warm; skin and a body pressed against it are warmer and not followed.
  const top = housingC + HOUSING_WARMER_PART * (housingC - backgroundC);
  const housingLike = (v: number) => v >= cut && v <= top;

  const mask = new Uint8Array(width * height);
  // The disc itself belongs to the object.
  for (let y = Math.max(0, region.y); y < Math.min(height, region.y + region.height); y++)
    mask.fill(1, y * width + Math.max(0, region.x), y * width + Math.min(width, region.x + region.width));
  const stack: number[] = [];
  for (const i of ringIndex)
    if (housingLike(celsius[i])) {
      mask[i] = 1;
      stack.push(i);
    }
  let area = 0;
  const maxArea = HOUSING_MAX_AREA_DISCS * d * d;
  let bx0 = region.x;
  let by0 = region.y;
  let bx1 = region.x + region.width - 1;
  let by1 = region.y + region.height - 1;
  while (stack.length > 0) {
    const i = stack.pop()!;
    const x = i % width;
    const y = (i - x) / width;
    if (onBorder(x, y) || ++area > maxArea) return { found: null, reason: 'leaked' };
    if (x < bx0) bx0 = x;
    if (x > bx1) bx1 = x;
    if (y < by0) by0 = y;
    if (y > by1) by1 = y;
    for (const [nx, ny] of [
      [x - 1, y],
      [x + 1, y],
      [x, y - 1],
      [x, y + 1],
    ]) {
      if (nx < x0 || nx > x1 || ny < y0 || ny > y1) continue;
      const n = ny * width + nx;
      if (mask[n] === 0 && housingLike(celsius[n])) {
        mask[n] = 1;
        stack.push(n);
      }
    }
  }
  return { found: { box: [bx0, by0, bx1 - bx0 + 1, by1 - by0 + 1], mask, width } };
}

/** Share of a face box's pixels that lie on the housing at which the box is the housing, not a face. */
const ON_HOUSING_SHARE = 0.5;

/** Whether a face box lies on the housing: at least half of its pixels are housing pixels. */
export function onReferenceHousing(box: Box, housing: ReferenceHousing): boolean {
  const [hx, hy, hw, hh] = housing.box;
  const xa = Math.max(Math.floor(box[0]), hx);
  const xb = Math.min(Math.ceil(box[0] + box[2]), hx + hw);
  const ya = Math.max(Math.floor(box[1]), hy);
  const yb = Math.min(Math.ceil(box[1] + box[3]), hy + hh);
  if (xa >= xb || ya >= yb) return false;
  let on = 0;
  for (let y = ya; y < yb; y++) for (let x = xa; x < xb; x++) on += housing.mask[y * housing.width + x];
  return on >= ON_HOUSING_SHARE * box[2] * box[3];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}
