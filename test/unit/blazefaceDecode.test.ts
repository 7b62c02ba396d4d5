import { describe, expect, it } from 'vitest';
import type { FaceKeypoints, Point } from '../../appliance/core/types.ts';
import {
  computeLetterbox,
  decodeDetections,
  estimateFrontal,
  generateAnchors,
  intersectionOverUnion,
  letterboxPoint,
  letterboxToTensor,
  type NormalisedDetection,
  sigmoid,
  toImageCoordinates,
  unletterboxPoint,
  weightedNonMaxSuppression,
} from '../../appliance/detection/blazefaceDecode.ts';

const FRONT = { inputSize: 128, strides: [8, 16, 16, 16] };
const decodeParams = { numCoords: 16, coordScale: 128, scoreThreshold: 0.5, sigmoidClip: 100 };

describe('generateAnchors', () => {
  it('makes 896 anchors for the 128 front model (16×16×2 + 8×8×6)', () => {
    expect(generateAnchors(FRONT.inputSize, FRONT.strides)).toHaveLength(896);
  });

  it('makes 896 anchors for the 256 back model (strides 16, 32, 32, 32)', () => {
    expect(generateAnchors(256, [16, 32, 32, 32])).toHaveLength(896);
  });

  it('places anchors at cell centres, row by row, several per cell', () => {
    const a = generateAnchors(FRONT.inputSize, FRONT.strides);
    // Stride-8 grid: 16 cells, 2 anchors per cell.
    expect(a[0]).toEqual({ x: 0.5 / 16, y: 0.5 / 16 });
    expect(a[1]).toEqual({ x: 0.5 / 16, y: 0.5 / 16 });
    expect(a[2]).toEqual({ x: 1.5 / 16, y: 0.5 / 16 });
    expect(a[32]).toEqual({ x: 0.5 / 16, y: 1.5 / 16 });
    expect(a[107]).toEqual({ x: 5.5 / 16, y: 3.5 / 16 }); // (row 3 × 16 + col 5) × 2 + 1
    expect(a[511]).toEqual({ x: 15.5 / 16, y: 15.5 / 16 });
    // Stride-16 grid: three merged layers → 8 cells, 6 anchors per cell.
    expect(a[512]).toEqual({ x: 0.5 / 8, y: 0.5 / 8 });
    expect(a[517]).toEqual({ x: 0.5 / 8, y: 0.5 / 8 });
    expect(a[518]).toEqual({ x: 1.5 / 8, y: 0.5 / 8 });
    expect(a[654]).toEqual({ x: 7.5 / 8, y: 2.5 / 8 }); // 512 + (row 2 × 8 + col 7) × 6 + 4
    expect(a[895]).toEqual({ x: 7.5 / 8, y: 7.5 / 8 });
  });
});

describe('decodeDetections', () => {
  const anchors = generateAnchors(FRONT.inputSize, FRONT.strides);

  function rawOutputs(): { scores: Float32Array; boxes: Float32Array } {
    const scores = new Float32Array(896).fill(-10); // sigmoid(−10) ≈ 4.5e−5: below any threshold
    return { scores, boxes: new Float32Array(896 * 16) };
  }

  it('decodes one anchor from known raw regressor values (hand-computed)', () => {
    const { scores, boxes } = rawOutputs();
    // Anchor 107: centre (5.5/16, 3.5/16) = (0.34375, 0.21875). coordScale 128.
    scores[107] = 2; // sigmoid(2) = 1 / (1 + e^−2) = 0.8807970779778823
    const o = 107 * 16;
    boxes.set([6.4, -3.2, 32, 25.6], o);
    // centre x = 0.34375 + 6.4/128 = 0.39375; centre y = 0.21875 − 3.2/128 = 0.19375
    // w = 32/128 = 0.25; h = 25.6/128 = 0.2
    // → xMin 0.26875, xMax 0.51875, yMin 0.09375, yMax 0.29375
    boxes.set([-6.4, -1.28], o + 4); // right eye: (0.34375 − 0.05, 0.21875 − 0.01) = (0.29375, 0.20875)
    boxes.set([12.8, 0], o + 6); // left eye: (0.34375 + 0.1, 0.21875) = (0.44375, 0.21875)
    boxes.set([0, 6.4], o + 8); // nose: (0.34375, 0.26875); mouth and ears stay at the anchor
    const dets = decodeDetections(scores, boxes, anchors, decodeParams);
    expect(dets).toHaveLength(1);
    const d = dets[0];
    expect(d.score).toBeCloseTo(0.8807970779778823, 6);
    expect(d.xMin).toBeCloseTo(0.26875, 6);
    expect(d.xMax).toBeCloseTo(0.51875, 6);
    expect(d.yMin).toBeCloseTo(0.09375, 6);
    expect(d.yMax).toBeCloseTo(0.29375, 6);
    const expected = [
      [0.29375, 0.20875],
      [0.44375, 0.21875],
      [0.34375, 0.26875],
      [0.34375, 0.21875],
      [0.34375, 0.21875],
      [0.34375, 0.21875],
    ];
    d.keypoints.forEach((p, k) => {
      expect(p.x).toBeCloseTo(expected[k][0], 6);
      expect(p.y).toBeCloseTo(expected[k][1], 6);
    });

    // Into a 128×256 portrait frame: scale 0.5, padX 32, padY 0; px = (n × 128 − pad) / 0.5.
    // xMin: (34.4 − 32) / 0.5 = 4.8; xMax: (66.4 − 32) / 0.5 = 68.8; yMin: 12 / 0.5 = 24; yMax: 37.6 / 0.5 = 75.2
    // right eye: ((37.6 − 32) / 0.5, 26.72 / 0.5) = (11.2, 53.44)
    const lb = computeLetterbox(128, 256, 128);
    const img = toImageCoordinates(d, lb);
    for (const [i, v] of [4.8, 24, 64, 51.2].entries()) expect(img.box[i]).toBeCloseTo(v, 4);
    expect(img.keypoints.rightEye!.x).toBeCloseTo(11.2, 4);
    expect(img.keypoints.rightEye!.y).toBeCloseTo(53.44, 4);
    expect(img.keypoints.leftEye!.x).toBeCloseTo(49.6, 4); // (56.8 − 32) / 0.5
  });

  it('decodes an anchor of the second head with its own anchor centre', () => {
    const { scores, boxes } = rawOutputs();
    scores[654] = 0; // sigmoid(0) = 0.5, at the threshold: kept
    boxes.set([0, 0, 16, 16], 654 * 16);
    const [d] = decodeDetections(scores, boxes, anchors, decodeParams);
    // Anchor (0.9375, 0.3125), size 16/128 = 0.125.
    expect(d.xMin).toBeCloseTo(0.875, 6);
    expect(d.yMax).toBeCloseTo(0.375, 6);
    expect(d.score).toBe(0.5);
  });

  it('drops low scores and degenerate boxes, and checks the output sizes', () => {
    const { scores, boxes } = rawOutputs();
    scores[3] = 5; // high score but zero size → dropped
    expect(decodeDetections(scores, boxes, anchors, decodeParams)).toHaveLength(0);
    expect(() => decodeDetections(scores.subarray(1), boxes, anchors, decodeParams)).toThrow(/895 scores/);
  });

  it('clips logits before the sigmoid', () => {
    expect(sigmoid(1e6, 100)).toBe(1 / (1 + Math.exp(-100)));
    expect(sigmoid(-1e6, 100)).toBeGreaterThan(0);
  });
});

function det(box: [number, number, number, number], score: number, kp: Point): NormalisedDetection {
  return {
    xMin: box[0],
    yMin: box[1],
    xMax: box[2],
    yMax: box[3],
    score,
    keypoints: Array.from({ length: 6 }, () => ({ ...kp })),
  };
}

describe('weightedNonMaxSuppression', () => {
  it('blends two overlapping detections by score and keeps a separate one', () => {
    const a = det([0.1, 0.1, 0.3, 0.3], 0.9, { x: 0.15, y: 0.15 });
    const b = det([0.12, 0.1, 0.32, 0.3], 0.6, { x: 0.2, y: 0.2 });
    const c = det([0.6, 0.6, 0.8, 0.8], 0.7, { x: 0.7, y: 0.7 });
    // IoU(a, b) = (0.18 × 0.2) / (0.04 + 0.04 − 0.036) = 0.036 / 0.044 ≈ 0.818 > 0.3
    expect(intersectionOverUnion(a, b)).toBeCloseTo(0.036 / 0.044, 9);
    const out = weightedNonMaxSuppression([b, c, a], 0.3);
    expect(out).toHaveLength(2);
    const [m, kept] = out;
    // xMin = (0.1 × 0.9 + 0.12 × 0.6) / 1.5 = 0.108; xMax = (0.3 × 0.9 + 0.32 × 0.6) / 1.5 = 0.308
    expect(m.xMin).toBeCloseTo(0.108, 9);
    expect(m.xMax).toBeCloseTo(0.308, 9);
    expect(m.yMin).toBeCloseTo(0.1, 9);
    expect(m.yMax).toBeCloseTo(0.3, 9);
    // keypoints: (0.15 × 0.9 + 0.2 × 0.6) / 1.5 = 0.17
    expect(m.keypoints[0].x).toBeCloseTo(0.17, 9);
    expect(m.keypoints[5].y).toBeCloseTo(0.17, 9);
    expect(m.score).toBe(0.9); // the best score, not the average
    expect(kept).toEqual(c);
  });

  it('keeps detections whose overlap is at or below the threshold', () => {
    const a = det([0, 0, 0.2, 0.2], 0.9, { x: 0, y: 0 });
    const b = det([0.15, 0, 0.35, 0.2], 0.8, { x: 0, y: 0 }); // IoU = 0.01 / 0.07 ≈ 0.14
    const out = weightedNonMaxSuppression([a, b], 0.3);
    expect(out).toEqual([a, b]);
    expect(weightedNonMaxSuppression([a, b], 0.1)).toHaveLength(1);
  });

  it('limits the number of outputs', () => {
    const a = det([0, 0, 0.1, 0.1], 0.9, { x: 0, y: 0 });
    const b = det([0.5, 0.5, 0.6, 0.6], 0.8, { x: 0, y: 0 });
    expect(weightedNonMaxSuppression([a, b], 0.3, 1)).toEqual([a]);
  });
});

describe('letterbox', () => {
  it('fits a landscape frame with bars above and below', () => {
    const lb = computeLetterbox(640, 480, 128);
    expect(lb.scale).toBeCloseTo(0.2, 12);
    expect(lb.padX).toBe(0);
    expect(lb.padY).toBeCloseTo(16, 12); // (128 − 96) / 2
    expect(unletterboxPoint({ x: 0.5, y: 0.5 }, lb)).toEqual({ x: 320, y: 240 });
    const topLeft = unletterboxPoint({ x: 0, y: 16 / 128 }, lb);
    expect(topLeft.x).toBeCloseTo(0, 9);
    expect(topLeft.y).toBeCloseTo(0, 9);
    const p = { x: 123.4, y: 432.1 };
    const back = unletterboxPoint(letterboxPoint(p, lb), lb);
    expect(back.x).toBeCloseTo(p.x, 9);
    expect(back.y).toBeCloseTo(p.y, 9);
  });

  it('fits a portrait frame with bars left and right', () => {
    const lb = computeLetterbox(240, 320, 256);
    expect(lb.scale).toBe(0.8);
    expect(lb.padX).toBeCloseTo(32, 9);
    expect(lb.padY).toBe(0);
    const p = unletterboxPoint({ x: 1, y: 1 }, lb);
    expect(p.x).toBeCloseTo(280, 9); // (256 − 32) / 0.8: beyond the right edge, in the bar
    expect(p.y).toBeCloseTo(320, 9);
  });

  it('writes [-1, 1] RGB with black padding (bilinear path)', () => {
    // 4×2 frame, every pixel (255, 0, 51) → model 4×4, scale 1, bars of 1 row top and bottom.
    const rgb = new Uint8Array(4 * 2 * 3);
    for (let i = 0; i < rgb.length; i += 3) rgb.set([255, 0, 51], i);
    const lb = computeLetterbox(4, 2, 4);
    const t = letterboxToTensor(rgb, 4, 2, lb);
    const at = (x: number, y: number) => Array.from(t.subarray((y * 4 + x) * 3, (y * 4 + x) * 3 + 3));
    expect(at(0, 0)).toEqual([-1, -1, -1]);
    expect(at(3, 3)).toEqual([-1, -1, -1]);
    const v = at(2, 1);
    expect(v[0]).toBeCloseTo(1, 6);
    expect(v[1]).toBeCloseTo(-1, 6);
    expect(v[2]).toBeCloseTo(51 / 127.5 - 1, 6);
  });

  it('averages blocks when shrinking strongly (box path)', () => {
    // 8×8 frame, quadrants of grey 0, 255, 102, 153 → 2×2 model input: one value per quadrant.
    const rgb = new Uint8Array(8 * 8 * 3);
    const grey = [0, 255, 102, 153];
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++)
        rgb.fill(grey[(y >= 4 ? 2 : 0) + (x >= 4 ? 1 : 0)], (y * 8 + x) * 3, (y * 8 + x) * 3 + 3);
    }
    const t = letterboxToTensor(rgb, 8, 8, computeLetterbox(8, 8, 2));
    expect(t[0]).toBeCloseTo(-1, 6);
    expect(t[3]).toBeCloseTo(1, 6);
    expect(t[6]).toBeCloseTo(102 / 127.5 - 1, 6);
    expect(t[9]).toBeCloseTo(153 / 127.5 - 1, 6);
  });
});

describe('estimateFrontal', () => {
  // Unmirrored camera view: the person's right eye and ear are on the image's left.
  const straight: FaceKeypoints = {
    rightEye: { x: 40, y: 40 },
    leftEye: { x: 60, y: 40 },
    nose: { x: 50, y: 50 },
    mouth: { x: 50, y: 60 },
    rightEar: { x: 25, y: 45 },
    leftEar: { x: 75, y: 45 },
  };

  it('calls a symmetric face frontal', () => {
    expect(estimateFrontal(straight)).toEqual({ frontal: true, turnRatio: 0 });
  });

  it('ignores head roll', () => {
    const c = Math.cos(Math.PI / 6);
    const s = Math.sin(Math.PI / 6);
    const rot = (p: Point | null | undefined): Point => ({ x: p!.x * c - p!.y * s, y: p!.x * s + p!.y * c });
    const rolled: FaceKeypoints = {
      rightEye: rot(straight.rightEye),
      leftEye: rot(straight.leftEye),
      nose: rot(straight.nose),
      mouth: rot(straight.mouth),
      rightEar: rot(straight.rightEar),
      leftEar: rot(straight.leftEar),
    };
    const e = estimateFrontal(rolled);
    expect(e.frontal).toBe(true);
    expect(e.turnRatio!).toBeCloseTo(0, 9);
  });

  it('calls a turned head not frontal, and is unsure in between', () => {
    // nose 20 px towards the left ear: dRight 45, dLeft 5 → ratio 0.8
    expect(estimateFrontal({ ...straight, nose: { x: 70, y: 50 } })).toEqual({
      frontal: false,
      turnRatio: 0.8,
    });
    // nose 10 px: dRight 35, dLeft 15 → ratio 0.4
    expect(estimateFrontal({ ...straight, nose: { x: 60, y: 50 } }).frontal).toBeNull();
    // nose beyond the ear: profile
    expect(estimateFrontal({ ...straight, nose: { x: 80, y: 50 } }).frontal).toBe(false);
  });

  it('returns null without the keypoints it needs or on tiny faces', () => {
    expect(estimateFrontal({ ...straight, leftEar: null })).toEqual({ frontal: null, turnRatio: null });
    const tiny: FaceKeypoints = {
      rightEye: { x: 1, y: 1 },
      leftEye: { x: 2, y: 1 },
      nose: { x: 1.5, y: 1.5 },
      mouth: null,
      rightEar: { x: 0, y: 1 },
      leftEar: { x: 3, y: 1 },
    };
    expect(estimateFrontal(tiny).frontal).toBeNull();
  });
});
