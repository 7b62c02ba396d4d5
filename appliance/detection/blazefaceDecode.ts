/**
 * Pure parts of the BlazeFace detector: letterbox preprocessing, SSD anchor generation,
 * regressor decoding, MediaPipe's weighted non-maximum suppression, mapping back to image
 * pixels and a frontal-pose estimate from keypoints. No I/O and no model: all unit-testable.
 *
 * Coordinates: "normalised" means fractions of the square model input (0..1, y down);
 * "image" means pixels of the caller's frame.
 */
import type { Box, FaceKeypoints, Point } from '../core/types.ts';

/** Keypoint order in the model's regressor (MediaPipe `FaceKeyPoint`): the person's own right/left. */
export const BLAZEFACE_KEYPOINTS = ['rightEye', 'leftEye', 'nose', 'mouth', 'rightEar', 'leftEar'] as const;
export type BlazeFaceKeypointName = (typeof BLAZEFACE_KEYPOINTS)[number];

export interface BlazeFaceDecoding {
  /** Side of the square model input in pixels (128 front, 256 back). */
  inputSize: number;
  /** SSD feature-map strides, one per anchor layer; consecutive equal strides share one grid. */
  strides: number[];
  /** Anchors each layer contributes per cell (aspect ratio 1 plus the interpolated scale). */
  anchorsPerLayer: number;
  /** Anchor centre within its cell (0.5 = middle). */
  anchorOffset: number;
  numAnchors: number;
  /** Regressor values per anchor: x, y, w, h then 6 × (x, y). */
  numCoords: number;
  /** Raw regressor values are in model-input pixels: divide by this to normalise. */
  coordScale: number;
  scoreThreshold: number;
  /** Logits are clipped to ±this before the sigmoid (MediaPipe `score_clipping_thresh`). */
  sigmoidClip: number;
  nmsIouThreshold: number;
}

/** Anchor centre in normalised model-input coordinates (fixed anchor size: w = h = 1). */
export interface Anchor {
  x: number;
  y: number;
}

/** One decoded detection, normalised to the model input. */
export interface NormalisedDetection {
  xMin: number;
  yMin: number;
  xMax: number;
  yMax: number;
  /** Six keypoints in `BLAZEFACE_KEYPOINTS` order. */
  keypoints: Point[];
  score: number;
}

/**
 * SSD anchors as MediaPipe's SsdAnchorsCalculator makes them for BlazeFace (fixed anchor size,
 * aspect ratio 1, interpolated scale 1): layers with the same stride are merged into one grid
 * of ceil(inputSize / stride) cells, each cell holding `anchorsPerLayer` anchors per merged
 * layer, enumerated row by row, cell by cell. Front 128: 16×16×2 + 8×8×6 = 896.
 */
export function generateAnchors(
  inputSize: number,
  strides: readonly number[],
  anchorsPerLayer = 2,
  anchorOffset = 0.5,
): Anchor[] {
  const anchors: Anchor[] = [];
  let layer = 0;
  while (layer < strides.length) {
    const stride = strides[layer];
    let last = layer;
    while (last + 1 < strides.length && strides[last + 1] === stride) last++;
    const perCell = anchorsPerLayer * (last - layer + 1);
    const cells = Math.ceil(inputSize / stride);
    for (let y = 0; y < cells; y++) {
      for (let x = 0; x < cells; x++) {
        const anchor = { x: (x + anchorOffset) / cells, y: (y + anchorOffset) / cells };
        for (let a = 0; a < perCell; a++) anchors.push({ ...anchor });
      }
    }
    layer = last + 1;
  }
  return anchors;
}

export function sigmoid(logit: number, clip = Number.POSITIVE_INFINITY): number {
  const x = Math.max(-clip, Math.min(clip, logit));
  return 1 / (1 + Math.exp(-x));
}

/**
 * Decodes raw model output into normalised detections above the score threshold.
 * `scores` holds one logit per anchor, `boxes` `numCoords` values per anchor, both in anchor
 * order (the model's two output heads concatenated: stride-8 grid first).
 * Box centre = anchor + raw / coordScale; size = raw / coordScale (anchor size 1);
 * keypoint = anchor + raw / coordScale.
 */
export function decodeDetections(
  scores: Float32Array,
  boxes: Float32Array,
  anchors: readonly Anchor[],
  params: Pick<BlazeFaceDecoding, 'numCoords' | 'coordScale' | 'scoreThreshold' | 'sigmoidClip'>,
): NormalisedDetection[] {
  if (scores.length !== anchors.length) {
    throw new Error(`BlazeFace decoding: ${scores.length} scores for ${anchors.length} anchors`);
  }
  if (boxes.length !== anchors.length * params.numCoords) {
    throw new Error(
      `BlazeFace decoding: ${boxes.length} regressor values, expected ${anchors.length} × ${params.numCoords}`,
    );
  }
  const out: NormalisedDetection[] = [];
  const s = params.coordScale;
  for (let i = 0; i < anchors.length; i++) {
    const score = sigmoid(scores[i], params.sigmoidClip);
    if (!(score >= params.scoreThreshold)) continue;
    const anchor = anchors[i];
    const o = i * params.numCoords;
    const cx = anchor.x + boxes[o] / s;
    const cy = anchor.y + boxes[o + 1] / s;
    const w = boxes[o + 2] / s;
    const h = boxes[o + 3] / s;
    if (!(w > 0 && h > 0)) continue;
    const keypoints: Point[] = [];
    for (let k = 0; k < BLAZEFACE_KEYPOINTS.length; k++) {
      keypoints.push({ x: anchor.x + boxes[o + 4 + 2 * k] / s, y: anchor.y + boxes[o + 5 + 2 * k] / s });
    }
    out.push({ xMin: cx - w / 2, yMin: cy - h / 2, xMax: cx + w / 2, yMax: cy + h / 2, keypoints, score });
  }
  return out;
}

export function intersectionOverUnion(a: NormalisedDetection, b: NormalisedDetection): number {
  const ix = Math.max(0, Math.min(a.xMax, b.xMax) - Math.max(a.xMin, b.xMin));
  const iy = Math.max(0, Math.min(a.yMax, b.yMax) - Math.max(a.yMin, b.yMin));
  const inter = ix * iy;
  const union = (a.xMax - a.xMin) * (a.yMax - a.yMin) + (b.xMax - b.xMin) * (b.yMax - b.yMin) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * MediaPipe's weighted NMS (NonMaxSuppressionCalculator, algorithm WEIGHTED): take the best
 * remaining detection, gather every remaining one overlapping it by IoU > threshold (itself
 * included), and emit their score-weighted average box and keypoints with the best score.
 * Detections that do not overlap stay for the next round. Output is sorted by score.
 * (The Unity package's GPU version blends in arrival order instead of score order; MediaPipe's
 * order is used here because it does not depend on anchor order.)
 */
export function weightedNonMaxSuppression(
  detections: readonly NormalisedDetection[],
  iouThreshold: number,
  maxDetections = Number.POSITIVE_INFINITY,
): NormalisedDetection[] {
  let remaining = [...detections].sort((a, b) => b.score - a.score);
  const out: NormalisedDetection[] = [];
  while (remaining.length > 0 && out.length < maxDetections) {
    const best = remaining[0];
    const cluster: NormalisedDetection[] = [];
    const rest: NormalisedDetection[] = [];
    for (const d of remaining) {
      if (d === best || intersectionOverUnion(best, d) > iouThreshold) cluster.push(d);
      else rest.push(d);
    }
    remaining = rest;
    if (cluster.length === 1) {
      out.push(best);
      continue;
    }
    let total = 0;
    const merged: NormalisedDetection = {
      xMin: 0,
      yMin: 0,
      xMax: 0,
      yMax: 0,
      keypoints: best.keypoints.map(() => ({ x: 0, y: 0 })),
      score: best.score,
    };
    for (const d of cluster) {
      const w = d.score;
      total += w;
      merged.xMin += d.xMin * w;
      merged.yMin += d.yMin * w;
      merged.xMax += d.xMax * w;
      merged.yMax += d.yMax * w;
      d.keypoints.forEach((p, k) => {
        merged.keypoints[k].x += p.x * w;
        merged.keypoints[k].y += p.y * w;
      });
    }
    merged.xMin /= total;
    merged.yMin /= total;
    merged.xMax /= total;
    merged.yMax /= total;
    for (const p of merged.keypoints) {
      p.x /= total;
      p.y /= total;
    }
    out.push(merged);
  }
  return out;
}

/**
 * Aspect-preserving fit of a `width`×`height` image into the square model input, centred,
 * padded on the short side: model px = image px × scale + pad.
 */
export interface Letterbox {
  inputSize: number;
  scale: number;
  padX: number;
  padY: number;
  sourceWidth: number;
  sourceHeight: number;
}

export function computeLetterbox(width: number, height: number, inputSize: number): Letterbox {
  if (!(width > 0 && height > 0)) throw new Error(`Letterbox: image size ${width}×${height} is empty`);
  const scale = inputSize / Math.max(width, height);
  return {
    inputSize,
    scale,
    padX: (inputSize - width * scale) / 2,
    padY: (inputSize - height * scale) / 2,
    sourceWidth: width,
    sourceHeight: height,
  };
}

/** Normalised model-input point → image pixels. */
export function unletterboxPoint(p: Point, lb: Letterbox): Point {
  return {
    x: (p.x * lb.inputSize - lb.padX) / lb.scale,
    y: (p.y * lb.inputSize - lb.padY) / lb.scale,
  };
}

/** Image pixels → normalised model-input point (inverse of `unletterboxPoint`). */
export function letterboxPoint(p: Point, lb: Letterbox): Point {
  return {
    x: (p.x * lb.scale + lb.padX) / lb.inputSize,
    y: (p.y * lb.scale + lb.padY) / lb.inputSize,
  };
}

/**
 * Resamples packed RGB (8 bit) into the model's NHWC float32 tensor in [-1, 1], letterboxed.
 * Padding is black (−1), as MediaPipe's zero border. Upscaling and mild downscaling use
 * bilinear interpolation at pixel centres; strong downscaling (scale < 0.5) averages the
 * source pixels under each output pixel instead, so large frames do not alias.
 */
export function letterboxToTensor(
  rgb: Uint8Array,
  width: number,
  height: number,
  lb: Letterbox,
  out = new Float32Array(lb.inputSize * lb.inputSize * 3),
): Float32Array {
  if (rgb.length < width * height * 3) {
    throw new Error(`Letterbox: RGB buffer has ${rgb.length} bytes, ${width}×${height}×3 expected`);
  }
  const n = lb.inputSize;
  out.fill(-1);
  const x0 = Math.max(0, Math.floor(lb.padX));
  const x1 = Math.min(n, Math.ceil(lb.padX + width * lb.scale));
  const y0 = Math.max(0, Math.floor(lb.padY));
  const y1 = Math.min(n, Math.ceil(lb.padY + height * lb.scale));
  const inv = 1 / lb.scale;
  const box = lb.scale < 0.5;
  for (let oy = y0; oy < y1; oy++) {
    for (let ox = x0; ox < x1; ox++) {
      const o = (oy * n + ox) * 3;
      if (box) {
        const sx0 = Math.max(0, Math.floor((ox - lb.padX) * inv));
        const sx1 = Math.min(width, Math.max(sx0 + 1, Math.floor((ox + 1 - lb.padX) * inv)));
        const sy0 = Math.max(0, Math.floor((oy - lb.padY) * inv));
        const sy1 = Math.min(height, Math.max(sy0 + 1, Math.floor((oy + 1 - lb.padY) * inv)));
        let r = 0;
        let g = 0;
        let b = 0;
        for (let sy = sy0; sy < sy1; sy++) {
          let i = (sy * width + sx0) * 3;
          for (let sx = sx0; sx < sx1; sx++, i += 3) {
            r += rgb[i];
            g += rgb[i + 1];
            b += rgb[i + 2];
          }
        }
        const k = 1 / (127.5 * (sx1 - sx0) * (sy1 - sy0));
        out[o] = r * k - 1;
        out[o + 1] = g * k - 1;
        out[o + 2] = b * k - 1;
      } else {
        const sx = Math.min(width - 1, Math.max(0, (ox + 0.5 - lb.padX) * inv - 0.5));
        const sy = Math.min(height - 1, Math.max(0, (oy + 0.5 - lb.padY) * inv - 0.5));
        const ix = Math.floor(sx);
        const iy = Math.floor(sy);
        const fx = sx - ix;
        const fy = sy - iy;
        const ix1 = Math.min(width - 1, ix + 1);
        const iy1 = Math.min(height - 1, iy + 1);
        const a = (iy * width + ix) * 3;
        const bq = (iy * width + ix1) * 3;
        const c = (iy1 * width + ix) * 3;
        const d = (iy1 * width + ix1) * 3;
        for (let ch = 0; ch < 3; ch++) {
          const top = rgb[a + ch] + (rgb[bq + ch] - rgb[a + ch]) * fx;
          const bottom = rgb[c + ch] + (rgb[d + ch] - rgb[c + ch]) * fx;
          out[o + ch] = (top + (bottom - top) * fy) / 127.5 - 1;
        }
      }
    }
  }
  return out;
}

/** Normalised detection → image-pixel box [x, y, w, h] and named keypoints. */
export function toImageCoordinates(
  d: NormalisedDetection,
  lb: Letterbox,
): { box: Box; keypoints: FaceKeypoints } {
  const tl = unletterboxPoint({ x: d.xMin, y: d.yMin }, lb);
  const br = unletterboxPoint({ x: d.xMax, y: d.yMax }, lb);
  const kp = d.keypoints.map((p) => unletterboxPoint(p, lb));
  return {
    box: [tl.x, tl.y, br.x - tl.x, br.y - tl.y],
    keypoints: {
      rightEye: kp[0] ?? null,
      leftEye: kp[1] ?? null,
      nose: kp[2] ?? null,
      mouth: kp[3] ?? null,
      rightEar: kp[4] ?? null,
      leftEar: kp[5] ?? null,
    },
  };
}

export interface FrontalEstimate {
  frontal: boolean | null;
  /**
   * Nose offset between the ears along the eye axis: (dRight − dLeft) / (dRight + dLeft),
   * where dRight/dLeft are the nose's distances to the right/left ear. 0 when looking straight
   * at the camera; ≈ 1.4 · tan(yaw) for an average head (nose tip ≈ 1.4 × the half ear span in
   * front of the ear line). Null when keypoints are missing or the face is too small.
   */
  turnRatio: number | null;
}

/**
 * Frontal rule: project the nose and both ears on the axis through the eyes (so head roll
 * does not matter) and compare the nose's distances to each ear.
 * - |turnRatio| ≤ 0.3 (yaw ≲ 12°) → frontal;
 * - |turnRatio| ≥ 0.5 (yaw ≳ 20°), or the nose outside the ear span → not frontal;
 * - in between, a missing keypoint, or an ear span under `minEarSpanPx` → null (unsure).
 */
export function estimateFrontal(kp: FaceKeypoints, minEarSpanPx = 8): FrontalEstimate {
  const { rightEye, leftEye, nose, rightEar, leftEar } = kp;
  if (!rightEye || !leftEye || !nose || !rightEar || !leftEar) return { frontal: null, turnRatio: null };
  const ex = leftEye.x - rightEye.x;
  const ey = leftEye.y - rightEye.y;
  const eyeSpan = Math.hypot(ex, ey);
  if (!(eyeSpan > 0)) return { frontal: null, turnRatio: null };
  const ux = ex / eyeSpan;
  const uy = ey / eyeSpan;
  const along = (p: Point) => p.x * ux + p.y * uy;
  const dRight = along(nose) - along(rightEar);
  const dLeft = along(leftEar) - along(nose);
  const span = dRight + dLeft;
  if (!(span >= minEarSpanPx)) return { frontal: null, turnRatio: null };
  const turnRatio = (dRight - dLeft) / span;
  if (dRight <= 0 || dLeft <= 0) return { frontal: false, turnRatio };
  const a = Math.abs(turnRatio);
  return { frontal: a <= 0.3 ? true : a >= 0.5 ? false : null, turnRatio };
}
