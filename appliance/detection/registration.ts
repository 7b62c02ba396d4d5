/**
 * Using the visible↔thermal registration: map faces found in the visible image into thermal
 * pixels, and pair each thermal frame with the visible frame nearest in time (the two
 * streams run at different rates and are not triggered together).
 */
import { applyHomography, type Homography } from '../../calibration/homography.ts';
import type { Box, Face, FaceKeypoints, Point } from '../core/types.ts';

function mapPoint(p: Point | null | undefined, H: Homography): Point | null {
  return p ? applyHomography(H, p) : null;
}

/**
 * The face in the homography's target coordinates (thermal pixels for a visible→thermal H).
 * The box is the axis-aligned bounding box of its four mapped corners (a homography turns a
 * rectangle into a general quadrilateral); keypoints are mapped one by one. Score, `from`
 * (which detector found it) and `frontal` are unchanged.
 */
export function mapFace(face: Face, H: Homography): Face {
  const [x, y, w, h] = face.box;
  const corners = [
    { x, y },
    { x: x + w, y },
    { x, y: y + h },
    { x: x + w, y: y + h },
  ].map((p) => applyHomography(H, p));
  const xs = corners.map((p) => p.x);
  const ys = corners.map((p) => p.y);
  const minX = Math.min(...xs);
  const minY = Math.min(...ys);
  const box: Box = [minX, minY, Math.max(...xs) - minX, Math.max(...ys) - minY];
  const k = face.keypoints;
  const keypoints: FaceKeypoints = {
    rightEye: mapPoint(k.rightEye, H),
    leftEye: mapPoint(k.leftEye, H),
    nose: mapPoint(k.nose, H),
    mouth: mapPoint(k.mouth, H),
    rightEar: mapPoint(k.rightEar, H),
    leftEar: mapPoint(k.leftEar, H),
  };
  if (k.rightCanthus !== undefined) keypoints.rightCanthus = mapPoint(k.rightCanthus, H);
  if (k.leftCanthus !== undefined) keypoints.leftCanthus = mapPoint(k.leftCanthus, H);
  return { ...face, box, keypoints };
}

export interface TimedPairing<T> {
  frame: T;
  /** visible.capturedAt − thermalAt, milliseconds (negative: the visible frame is older). */
  skewMs: number;
}

/**
 * The visible frame captured nearest to `thermalAt`, if within `maxSkewMs`; null otherwise
 * (the face positions would be stale for a moving person). On a tie the older frame wins,
 * since it is certainly complete. Frames may come in any order.
 */
export function pairByTimestamp<T extends { capturedAt: number }>(
  thermalAt: number,
  visibleFrames: readonly T[],
  maxSkewMs: number,
): TimedPairing<T> | null {
  if (!(maxSkewMs >= 0)) throw new RangeError(`maxSkewMs must be ≥ 0, got ${maxSkewMs}`);
  let best: TimedPairing<T> | null = null;
  for (const frame of visibleFrames) {
    const skewMs = frame.capturedAt - thermalAt;
    const a = Math.abs(skewMs);
    if (!(a <= maxSkewMs)) continue;
    if (!best || a < Math.abs(best.skewMs) || (a === Math.abs(best.skewMs) && skewMs < best.skewMs)) {
      best = { frame, skewMs };
    }
  }
  return best;
}
