/**
 * One face, one measurement: the inner-canthus temperature (the screening site), the face and forehead
 * maxima, and the quality gates that say whether the reading may be used, each with a reason staff
 * can act on.
 *
 * Canthus points come from the detector's canthi (thermal detector), else from the eye keypoints (a
 * visible-light detector mapped to the thermal image: the inner canthus lies a quarter of the way from
 * one eye centre to the other), else from the temperature pattern in the face box. Around each point a
 * small search absorbs keypoint error; the value is the mean of the warmest few pixels of a window
 * scaled to the face (3×3 … 5×5), never a single pixel, so one hot noisy pixel cannot raise a reading.
 */
import { EYES_OBSTRUCTED_DELTA, locateCanthi } from '../detection/thermalCanthi.ts';
import type { Box, Face, Measurement, Point, QualityFlag } from '../types.ts';

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
  /** Sensor noise (NETD), °C: more pixels are averaged when it is high. */
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

/** Mean of the k largest finite values of the window (side × side, centred, clipped to the frame). */
function topKMean(frame: MeasureFrame, cx: number, cy: number, side: number, k: number): number | null {
  const { celsius, width, height } = frame;
  const half = (side - 1) / 2;
  const x0 = Math.max(0, Math.round(cx - half));
  const y0 = Math.max(0, Math.round(cy - half));
  const x1 = Math.min(width - 1, Math.round(cx - half) + side - 1);
  const y1 = Math.min(height - 1, Math.round(cy - half) + side - 1);
  const values: number[] = [];
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const v = celsius[y * width + x];
      if (Number.isFinite(v)) values.push(v);
    }
  }
  if (values.length < Math.min(k, 3)) return null;
  values.sort((a, b) => b - a);
  const n = Math.min(k, values.length);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  return sum / n;
}

/** Window side and pixel count for a face of this width and a sensor of this noise. */
function windowFor(faceWidthPx: number, netdC: number): { side: number; k: number } {
  // ≈ 4 px across a 3 mm canthus at 1 mm/px (≈ 160 px face): scale the window to the face, 3…5 px.
  const side = faceWidthPx >= 120 ? 5 : faceWidthPx >= 60 ? 4 : 3;
  // The mean of the top k of noisy pixels is biased upwards by about netd × E[max of k]; averaging more
  // pixels on a noisier sensor keeps that bias below ≈ 0.05 °C.
  const k = Math.min(side * side - 1, Math.max(3, Math.ceil(3 * Math.max(1, netdC / 0.05))));
  return { side, k };
}

/** Move a canthus guess to the warmest 2×2 cell within `radius` (absorbs keypoint and registration error). */
function refine(frame: MeasureFrame, p: Point, radius: number): Point {
  const { celsius, width, height } = frame;
  let best = p;
  let bestV = Number.NEGATIVE_INFINITY;
  const r = Math.max(1, Math.round(radius));
  for (let y = Math.round(p.y) - r; y <= Math.round(p.y) + r; y++) {
    for (let x = Math.round(p.x) - r; x <= Math.round(p.x) + r; x++) {
      if (x < 0 || y < 0 || x + 1 >= width || y + 1 >= height) continue;
      const i = y * width + x;
      const v = (celsius[i] + celsius[i + 1] + celsius[i + width] + celsius[i + width + 1]) / 4;
      if (v > bestV) {
        bestV = v;
        best = { x: x + 0.5, y: y + 0.5 };
      }
    }
  }
  return best;
}

/** Robust maximum of a region: mean of its warmest 0.5 % of pixels (at least 4). */
function robustMax(frame: MeasureFrame, box: Box, inset = 0): number | null {
  const { celsius, width, height } = frame;
  const [bx, by, bw, bh] = box;
  const x0 = Math.max(0, Math.round(bx + bw * inset));
  const x1 = Math.min(width - 1, Math.round(bx + bw * (1 - inset)) - 1);
  const y0 = Math.max(0, Math.round(by));
  const y1 = Math.min(height - 1, Math.round(by + bh) - 1);
  const values: number[] = [];
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const v = celsius[y * width + x];
      if (Number.isFinite(v)) values.push(v);
    }
  }
  if (values.length === 0) return null;
  const k = Math.min(values.length, Math.max(4, Math.round(values.length * 0.005)));
  const top = Float32Array.from(values)
    .sort()
    .subarray(values.length - k);
  let sum = 0;
  for (const v of top) sum += v;
  return sum / k;
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
  const { side, k } = windowFor(bw, ctx.netdC);
  const searchRadius = Math.max(1, bw * 0.04);
  const canthi: [Point | null, Point | null] = [null, null];
  const values: number[] = [];
  guesses.forEach((g, i) => {
    if (!g) return;
    const p = refine(frame, g, searchRadius);
    const v = topKMean(frame, p.x, p.y, side, k);
    if (v !== null) {
      canthi[i] = p;
      values.push(v);
    }
  });
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
  if (finding.eyesObstructed) {
    const skin = Math.max(finding.forehead ?? -Infinity, finding.cheeks ?? -Infinity);
    flag(
      'eyes-obstructed',
      `Eyes covered (glasses?): eye region ${(skin - (finding.eyeRegion ?? skin)).toFixed(1)} °C colder than forehead/cheeks (limit ${EYES_OBSTRUCTED_DELTA} °C); please remove glasses`,
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
  const usable = canthusC !== null && !finding.eyesObstructed;
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
