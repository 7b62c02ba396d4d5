/**
 * One face, one measurement: the inner-canthus temperature (the screening site), the face and forehead
 * maxima, and the quality gates that say whether the reading may be used, each with a reason staff
 * can act on.
 *
 * Canthus points come from the detector's canthi (thermal detector), else from the eye keypoints (a
 * visible-light detector mapped to the thermal image: the inner canthus lies a quarter of the way from
 * one eye centre to the other), else from the temperature pattern in the face box. Around each point a
 * small search on the 3×3-mean field locates the hot spot; the value is a noise-aware maximum of that
 * 3×3 cell (the warmest pixel less the expected noise excess of the pixels competing with it, see
 * `noiseAwareMax`), so a 1-pixel hot canthus is not averaged down and noise does not push readings up.
 * A defective hot pixel (far above all its neighbours) is ignored.
 */

import { meanOfLargest, ScratchFloats, selectKth } from '../../calibration/selection.ts';
import type { Box, Face, Measurement, Point, QualityFlag } from '../core/types.ts';
import {
  CANTHI_COVERED_DELTA,
  type CanthusSpot,
  coveredCanthi,
  coveredUpperFace,
  EYES_OBSTRUCTED_DELTA,
  locateCanthi,
} from '../detection/thermalCanthi.ts';

export interface MeasureFrame {
  celsius: Float32Array;
  width: number;
  height: number;
}

export interface MeasureContext {
  /** Fewest pixels across the face for a valid reading (camera profile). */
  minFacePx: number;
  /** The blackbody reference is stable for this frame. */
  referenceStable: boolean;
  /** The sensor is in a flat-field correction (shutter): readings are not valid. */
  flatField: boolean;
  /** The other faces in the frame (this face, if included, is ignored). */
  otherFaces: Face[];
  /** Sensor noise (NETD), °C: the expected noise excess of the warmest pixels is removed with it. */
  netdC: number;
  /** Why the reference is not stable, for the reason text (e.g. "no blackbody reference in a still image"). */
  referenceReason?: string;
}

export interface FlagReason {
  flag: QualityFlag;
  /** Staff-readable reason with the numbers behind it. */
  text: string;
}

/** A Measurement plus where it was taken and why each flag was raised. */
export interface FaceMeasurement extends Measurement {
  /** Canthus points used, person's right (image left) then left; null where none was found. */
  canthi: [Point | null, Point | null];
  reasons: FlagReason[];
}

/** Head turn beyond which the canthus reads 0.4–0.5 °C off (domain.md): require a roughly frontal face. */
export const MAX_YAW_DEG = 15;
/** Faces closer than this share of the face width to another face cannot be kept apart reliably. */
const TOO_CLOSE_GAP_FRACTION = 0.25;

const FLAG_TEXT: Record<QualityFlag, string> = {
  'too-far': 'Too far from the camera: too few pixels across the face',
  'not-frontal': 'Head turned: please look straight at the camera',
  'eyes-obstructed': 'Eyes covered (glasses?): please remove your glasses',
  'at-border': 'Face at the edge of the image: please step into the middle',
  'reference-not-stable': 'Blackbody reference not stable: readings are uncalibrated',
  'faces-too-close': 'Another person too close: one person at a time',
  'flat-field': 'Camera recalibrating (flat-field correction): wait a moment',
  'no-canthus': 'Inner eye corners not found: no canthus reading',
};

/** A generic staff-readable reason for a flag (measureFace's `reasons` carry the numbers). */
export function describeFlag(flag: QualityFlag): string {
  return FLAG_TEXT[flag];
}

const round2 = (v: number) => Math.round(v * 100) / 100;

/**
 * E[max of m independent standard normals], m = 0…9 (Harter 1961 tables): the expected noise excess of
 * the warmest of m pixels that all sit at the same true temperature, in units of the pixel noise.
 */
const EXPECTED_MAX_OF_NORMALS = [0, 0, 0.5642, 0.8463, 1.0294, 1.163, 1.2672, 1.3522, 1.4236, 1.485];

/**
 * A pixel warmer than every one of its eight neighbours by more than this is a defective (hot) pixel,
 * not skin: the canthus is ≈ 1–2 °C warmer than the skin around it, and the lens spreads any real hot
 * spot into its neighbours. Such a pixel is ignored; it never carries a reading.
 */
export const DEFECT_STEP_C = 4;

/**
 * Pixels closer to the warmest one than this many standard deviations of a pixel difference (NETD·√2)
 * cannot be told apart from it by the data: they compete for the maximum.
 */
export const COMPETING_SD = 2;

/** The frame's value at (x, y), or NaN outside the frame, non-finite, or a defective hot pixel. */
function pixel(frame: MeasureFrame, x: number, y: number): number {
  const { celsius, width, height } = frame;
  if (x < 0 || y < 0 || x >= width || y >= height) return Number.NaN;
  const v = celsius[y * width + x];
  if (!Number.isFinite(v)) return Number.NaN;
  let warmestNeighbour = Number.NEGATIVE_INFINITY;
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      if (dx === 0 && dy === 0) continue;
      const nx = x + dx;
      const ny = y + dy;
      if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
      const n = celsius[ny * width + nx];
      if (Number.isFinite(n) && n > warmestNeighbour) warmestNeighbour = n;
    }
  }
  return v - warmestNeighbour > DEFECT_STEP_C ? Number.NaN : v;
}

/** The usable pixels of the 3×3 cell centred on (x, y). */
function cell(frame: MeasureFrame, x: number, y: number): number[] {
  const values: number[] = [];
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      const v = pixel(frame, x + dx, y + dy);
      if (!Number.isNaN(v)) values.push(v);
    }
  }
  return values;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/**
 * Where the canthus is: the centre of the warmest 3×3 mean within `radius` of the guess (absorbs
 * keypoint and registration error). The 3×3 mean has a third of a pixel's noise, so the location
 * follows the hot spot, not the noise.
 */
function locate(frame: MeasureFrame, p: Point, radius: number): Point | null {
  let best: Point | null = null;
  let bestV = Number.NEGATIVE_INFINITY;
  const r = Math.max(1, Math.round(radius));
  const gx = Math.round(p.x);
  const gy = Math.round(p.y);
  for (let y = gy - r; y <= gy + r; y++) {
    for (let x = gx - r; x <= gx + r; x++) {
      const values = cell(frame, x, y);
      if (values.length < 5) continue;
      const v = mean(values);
      if (v > bestV) {
        bestV = v;
        best = { x, y };
      }
    }
  }
  return best;
}

/**
 * The canthus value of the 3×3 cell at the located hot spot: a noise-aware maximum.
 *
 * The target is the hot spot's peak temperature (the maximum canthus temperature is what predicts
 * core temperature). Taking the warmest pixel keeps a 1–2 px hot spot (a small face, a low-resolution
 * core) at its full value; averaging cooler neighbours in would pull a fever down. But on a hot spot
 * wider than a pixel the warmest of several noisy pixels reads high by the expected maximum of their
 * noise (≈ 1.5 × NETD for 9 pixels, +0.07 °C at 50 mK; the old "mean of the warmest 3 of 3×3", one
 * more selection of the warmest 2×2 cell and the max of both canthi read ≈ +0.065 °C on the
 * simulator). That excess is known from the NETD: the pixels within COMPETING_SD·NETD·√2 of the
 * warmest cannot be told apart from it, so with m of them the warmest reads high by about
 * NETD × E[max of m normals], which is subtracted. A clear 1-pixel hot spot has m = 1 and keeps its
 * warmest pixel unchanged; a flat hot spot reads ≈ +0.3 to +0.5 × NETD above its true value.
 * Worst case, a single pixel 2–3 NETD above flat neighbours (noise cannot tell whether it is hot),
 * the value reads up to ≈ 1.2 × NETD (0.06 °C at 50 mK) below that pixel — never more than
 * 1.5 × NETD below the warmest pixel. This subtracts the statistics of the sensor's noise only, never
 * anything derived from faces or human temperatures.
 */
function noiseAwareMax(values: number[], netdC: number): number {
  let warmest = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > warmest) warmest = v;
  const band = COMPETING_SD * netdC * Math.SQRT2;
  let competing = 0;
  for (const v of values) if (v >= warmest - band) competing++;
  const m = Math.min(competing, EXPECTED_MAX_OF_NORMALS.length - 1);
  return warmest - netdC * EXPECTED_MAX_OF_NORMALS[m];
}

/**
 * Pixel noise measured in the face itself, °C: the median absolute Laplacian residual (pixel minus the
 * mean of its four neighbours, SD = noise × √1.25 on smooth skin) of the inner face, scaled to an SD.
 * Skin gradients are far smoother than a pixel, so features and edges are a minority the median
 * ignores. Null when the face holds too few pixels.
 */
function measuredNoise(frame: MeasureFrame, box: Box): number | null {
  const { celsius, width, height } = frame;
  const [bx, by, bw, bh] = box;
  const x0 = Math.max(1, Math.round(bx + bw * 0.2));
  const x1 = Math.min(width - 2, Math.round(bx + bw * 0.8));
  const y0 = Math.max(1, Math.round(by + bh * 0.2));
  const y1 = Math.min(height - 2, Math.round(by + bh * 0.8));
  const stride = Math.max(1, Math.floor(Math.sqrt(((x1 - x0 + 1) * (y1 - y0 + 1)) / 4000)));
  const residuals = residualScratch.get(
    (Math.floor(Math.max(0, y1 - y0) / stride) + 1) * (Math.floor(Math.max(0, x1 - x0) / stride) + 1),
  );
  let n = 0;
  for (let y = y0; y <= y1; y += stride) {
    for (let x = x0; x <= x1; x += stride) {
      const i = y * width + x;
      const r = celsius[i] - (celsius[i - 1] + celsius[i + 1] + celsius[i - width] + celsius[i + width]) / 4;
      if (Number.isFinite(r)) residuals[n++] = Math.abs(r);
    }
  }
  if (n < 50) return null;
  return (selectKth(residuals, n >> 1, n) * 1.4826) / Math.sqrt(1.25);
}

// Reused between calls (the frame path is single-threaded per thread): no per-face allocation.
const residualScratch = new ScratchFloats((length) => new Float64Array(length));
const regionScratch = new ScratchFloats((length) => new Float32Array(length));

/** Robust maximum of a region: mean of its warmest 0.5 % of pixels (at least 4). */
function robustMax(frame: MeasureFrame, box: Box, inset = 0): number | null {
  const { celsius, width, height } = frame;
  const [bx, by, bw, bh] = box;
  const x0 = Math.max(0, Math.round(bx + bw * inset));
  const x1 = Math.min(width - 1, Math.round(bx + bw * (1 - inset)) - 1);
  const y0 = Math.max(0, Math.round(by));
  const y1 = Math.min(height - 1, Math.round(by + bh) - 1);
  if (x1 < x0 || y1 < y0) return null;
  const values = regionScratch.get((x1 - x0 + 1) * (y1 - y0 + 1));
  let n = 0;
  for (let y = y0; y <= y1; y++) {
    const row = y * width;
    for (let x = x0; x <= x1; x++) {
      const v = celsius[row + x];
      if (Number.isFinite(v)) values[n++] = v;
    }
  }
  if (n === 0) return null;
  const k = Math.min(n, Math.max(4, Math.round(n * 0.005)));
  return meanOfLargest(values, k, n);
}

function canthusGuesses(face: Face): [Point | null, Point | null] {
  const kp = face.keypoints;
  if (kp.rightCanthus || kp.leftCanthus) return [kp.rightCanthus ?? null, kp.leftCanthus ?? null];
  if (kp.rightEye && kp.leftEye) {
    const { rightEye: r, leftEye: l } = kp;
    return [
      { x: r.x + 0.25 * (l.x - r.x), y: r.y + 0.25 * (l.y - r.y) },
      { x: l.x + 0.25 * (r.x - l.x), y: l.y + 0.25 * (r.y - l.y) },
    ];
  }
  return [null, null];
}

function gap(a: Box, b: Box): number {
  const dx = Math.max(0, Math.max(a[0], b[0]) - Math.min(a[0] + a[2], b[0] + b[2]));
  const dy = Math.max(0, Math.max(a[1], b[1]) - Math.min(a[1] + a[3], b[1] + b[3]));
  return Math.max(dx, dy);
}

export function measureFace(frame: MeasureFrame, face: Face, ctx: MeasureContext): FaceMeasurement {
  const { width, height } = frame;
  const [bx, by, bw, bh] = face.box;
  const pixelsAcrossFace = Math.round(bw);
  const reasons: FlagReason[] = [];
  const flag = (f: QualityFlag, text: string) => reasons.push({ flag: f, text });

  // Where to read: detector canthi, eye keypoints, or the temperature pattern.
  const finding = locateCanthi(frame.celsius, width, height, face.box);
  let guesses = canthusGuesses(face);
  if (!guesses[0] && !guesses[1]) {
    guesses = [finding.rightCanthus?.point ?? null, finding.leftCanthus?.point ?? null];
  }
  const searchRadius = Math.max(1, bw * 0.04);
  // The noise whose expected excess is removed: the profile's NETD is a specification ("< 50 mK"), a
  // quieter core would lose more than its real excess, so the noise measured in this face wins when it
  // is lower (never higher: skin texture must not enlarge the correction).
  const faceNoise = measuredNoise(frame, face.box);
  const noiseC = Math.max(0, faceNoise === null ? ctx.netdC : Math.min(ctx.netdC, faceNoise));
  const canthi: [Point | null, Point | null] = [null, null];
  const values: number[] = [];
  const spots: [CanthusSpot | null, CanthusSpot | null] = [null, null];
  guesses.forEach((g, i) => {
    if (!g) return;
    const p = locate(frame, g, searchRadius);
    if (p === null) return;
    canthi[i] = p;
    const v = noiseAwareMax(cell(frame, p.x, p.y), noiseC);
    values.push(v);
    spots[i] = { point: p, value: v };
  });
  // The warmer canthus (the maximum canthus temperature is the screening value). With two equally warm
  // canthi this max of two noisy values reads ≈ +0.56 × its noise high (≈ +0.02 °C at 50 mK): a small
  // upward bias is accepted rather than averaging in a canthus that may be genuinely cooler.
  const canthusC = values.length > 0 ? round2(Math.max(...values)) : null;
  const faceMax = robustMax(frame, face.box, 0.1);
  const forehead = robustMax(frame, [bx + bw * 0.2, by + bh * 0.05, bw * 0.6, bh * 0.22]);

  let yawDeg: number | null = null;
  if (canthi[0] && canthi[1]) {
    const mid = (canthi[0].x + canthi[1].x) / 2;
    yawDeg = round2((Math.asin(Math.max(-1, Math.min(1, (mid - (bx + bw / 2)) / (bw / 2)))) * 180) / Math.PI);
  }

  // Gates, in the order a person at the screening point would fix them.
  if (ctx.flatField) flag('flat-field', 'Camera recalibrating (flat-field correction): readings paused');
  if (!ctx.referenceStable) {
    flag(
      'reference-not-stable',
      `Blackbody reference not stable${ctx.referenceReason ? ` (${ctx.referenceReason})` : ''}: uncalibrated`,
    );
  }
  if (pixelsAcrossFace < ctx.minFacePx) {
    flag(
      'too-far',
      `Too far from the camera: ${pixelsAcrossFace} px across the face, ${ctx.minFacePx} needed`,
    );
  }
  const margin = 2;
  if (bx < margin || by < margin || bx + bw > width - margin || by + bh > height - margin) {
    flag('at-border', 'Face at the edge of the image: part of it may be cut off');
  }
  const closest = ctx.otherFaces
    .filter((o) => o !== face && !(o.box[0] === bx && o.box[1] === by && o.box[2] === bw && o.box[3] === bh))
    .map((o) => gap(face.box, o.box))
    .reduce((m, g) => Math.min(m, g), Number.POSITIVE_INFINITY);
  if (closest < bw * TOO_CLOSE_GAP_FRACTION) {
    flag(
      'faces-too-close',
      `Another person too close: ${Math.round(closest)} px between faces, ${Math.ceil(bw * TOO_CLOSE_GAP_FRACTION)} needed`,
    );
  }
  // Where the forehead is covered too (cap brim + sunglasses) the "canthi" read are skin at the edge of
  // the cover: never read through eyewear.
  const cover = finding.eyesObstructed ? null : coveredCanthi(frame.celsius, width, height, face.box, spots);
  if (finding.eyesObstructed) {
    const skin = Math.max(finding.forehead ?? -Infinity, finding.cheeks ?? -Infinity);
    flag(
      'eyes-obstructed',
      `Eyes covered (glasses?): eye region ${(skin - (finding.eyeRegion ?? skin)).toFixed(1)} °C colder than forehead/cheeks (limit ${EYES_OBSTRUCTED_DELTA} °C); please remove glasses`,
    );
  } else if (cover) {
    flag(
      'eyes-obstructed',
      `Eyes covered (glasses?): right ${cover.above ? 'above' : 'below'} the warmest eye-corner spots it is ${(cover.skin - cover.cold).toFixed(1)} °C colder (limit ${CANTHI_COVERED_DELTA} °C); please remove glasses`,
    );
  }
  // No canthus shows at all: a cap and sunglasses covering the upper face as one cold block, which the
  // glasses tests above (warm skin above the lenses, or the spots' edges) cannot see.
  const hidden =
    canthusC === null && !finding.eyesObstructed && !cover
      ? coveredUpperFace(frame.celsius, width, height, face.box)
      : null;
  if (hidden) {
    flag(
      'eyes-obstructed',
      `Eyes covered (cap and glasses?): the eye band is ${(hidden.skin - hidden.cold).toFixed(1)} °C colder than the cheeks below it (limit ${EYES_OBSTRUCTED_DELTA} °C) and nothing above it is warmer; please remove glasses`,
    );
  }
  const turned = yawDeg !== null ? Math.abs(yawDeg) > MAX_YAW_DEG : face.frontal === false;
  if (turned) {
    flag(
      'not-frontal',
      yawDeg !== null
        ? `Head turned about ${Math.abs(Math.round(yawDeg))}° (limit ${MAX_YAW_DEG}°): please look at the camera`
        : 'Head turned: please look straight at the camera',
    );
  }
  if (canthusC === null) {
    flag('no-canthus', 'Inner eye corners not found: no canthus reading');
  }

  // A reading through glasses is not a canthus reading.
  const usable = canthusC !== null && !finding.eyesObstructed && !cover;
  const foreheadC = forehead === null ? null : round2(forehead);
  return {
    canthusC: usable ? canthusC : null,
    faceMaxC: faceMax === null ? null : round2(faceMax),
    foreheadC,
    pixelsAcrossFace,
    yawDeg,
    flags: reasons.map((r) => r.flag),
    canthi,
    reasons,
  };
}

/**
 * The inner-canthus region is about 1 cm across on a face about 14 cm wide: the share of the face's
 * pixels that fall on it. At 29–37 px across (Lepton kiosks at their mark) that is ≈ 2–2.6 px.
 */
export const CANTHUS_FACE_SHARE = 1 / 14;
/** The canthus is read as the peak of a 3×3 mean (`canthusValue`): this window, in pixels. */
export const CANTHUS_WINDOW_PX = 3;

export interface MeasurementResolution {
  /** Median pixels across the face over the frames the reading comes from. */
  pixelsAcrossFace: number;
  /** Estimated pixels across the inner canthus (≈ 1 cm of a ≈ 14 cm face). */
  canthusPx: number;
  /** Side of the window the canthus value is read from, px. */
  windowPx: number;
  /** What the size means for the reading; null when the canthus fills the window. */
  note: string | null;
}

/**
 * How finely a reading resolved the canthus, stated with each reading. Below a canthus as wide as
 * the read window the window also holds cooler skin and the lens blur spreads the peak, so the value
 * can read low; it is NOT corrected upward (nothing here changes a reading), only said.
 */
export function measurementResolution(pixelsAcrossFace: number): MeasurementResolution {
  const canthusPx = Math.round(pixelsAcrossFace * CANTHUS_FACE_SHARE * 10) / 10;
  const note =
    canthusPx < CANTHUS_WINDOW_PX
      ? `small face: ${Math.round(pixelsAcrossFace)} px across, ≈ ${canthusPx} px on the inner canthus, read in a ${CANTHUS_WINDOW_PX}×${CANTHUS_WINDOW_PX} px window: the peak may read low (not corrected)`
      : null;
  return { pixelsAcrossFace: Math.round(pixelsAcrossFace), canthusPx, windowPx: CANTHUS_WINDOW_PX, note };
}
