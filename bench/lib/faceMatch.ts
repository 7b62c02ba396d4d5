/**
 * Detections against hand-labelled face boxes, as the face benchmarks score them (bench/thermalFaces.ts,
 * bench/kioskClips.ts): greedy one-to-one matching at IoU ≥ 0.3, best overlaps first.
 */
import type { Box } from '../../appliance/core/types.ts';

/** Least overlap (intersection over union) of a detection that finds a labelled face. */
export const FACE_MATCH_IOU = 0.3;

export function iou(a: Box, b: Box): number {
  const ix = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const iy = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (ix <= 0 || iy <= 0) return 0;
  const inter = ix * iy;
  return inter / (a[2] * a[3] + b[2] * b[3] - inter);
}

/**
 * Greedy one-to-one matching at IoU ≥ FACE_MATCH_IOU. `ignore` boxes (faces not counted: too small, cut,
 * turned away) absorb detections: a box on one of them, or a second box on a found face, is not a false
 * face.
 */
export function matchFaces(detected: readonly Box[], truth: readonly Box[], ignore: readonly Box[] = []) {
  const pairs: [number, number, number][] = [];
  for (let d = 0; d < detected.length; d++)
    for (let t = 0; t < truth.length; t++) {
      const v = iou(detected[d], truth[t]);
      if (v >= FACE_MATCH_IOU) pairs.push([v, d, t]);
    }
  pairs.sort((a, b) => b[0] - a[0]);
  const usedD = new Set<number>();
  const usedT = new Set<number>();
  const ious: number[] = [];
  for (const [v, d, t] of pairs) {
    if (usedD.has(d) || usedT.has(t)) continue;
    usedD.add(d);
    usedT.add(t);
    ious.push(v);
  }
  let falseFaces = 0;
  for (let d = 0; d < detected.length; d++) {
    if (usedD.has(d)) continue;
    const onFace = [...truth, ...ignore].some((b) => iou(detected[d], b) >= 0.2);
    if (!onFace) falseFaces++;
  }
  return { found: usedT.size, missed: truth.length - usedT.size, falseFaces, ious, matchedTruth: usedT };
}
