import { describe, expect, it } from 'vitest';
import type { Face } from '../../appliance/core/types.ts';
import { mapFace } from '../../appliance/detection/registration.ts';
import {
  applyHomography,
  estimateHomography,
  type Homography,
  HomographyError,
  invertHomography,
  jacobiEigen,
  type PointPair,
  reprojectionError,
} from '../../calibration/homography.ts';

// A plausible visible (1280×720) → thermal (160×120) mapping: scale ≈ 1/8, a shift, slight
// rotation and some perspective.
const TRUE_H: Homography = [0.118, 0.004, -6.5, -0.003, 0.121, 4.2, 1.2e-5, -2.0e-5, 1];

function pairsFor(H: Homography, points: { x: number; y: number }[], noisePx = 0, seed = 1): PointPair[] {
  // Deterministic Gaussian noise (mulberry32 + Box–Muller) added to the target points.
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return points.map((from) => {
    const to = applyHomography(H, from);
    return { from, to: { x: to.x + noisePx * gauss(), y: to.y + noisePx * gauss() } };
  });
}

function expectSameMapping(a: Homography, b: Homography, tolPx: number): void {
  for (let y = 0; y <= 720; y += 120) {
    for (let x = 0; x <= 1280; x += 160) {
      const p = applyHomography(a, { x, y });
      const q = applyHomography(b, { x, y });
      expect(Math.hypot(p.x - q.x, p.y - q.y)).toBeLessThan(tolPx);
    }
  }
}

describe('estimateHomography', () => {
  it('recovers a known homography exactly from 4 points', () => {
    const pairs = pairsFor(TRUE_H, [
      { x: 100, y: 80 },
      { x: 1180, y: 120 },
      { x: 1100, y: 650 },
      { x: 150, y: 600 },
    ]);
    const H = estimateHomography(pairs);
    for (const [i, v] of TRUE_H.entries()) expect(H[i]).toBeCloseTo(v, 8);
    const err = reprojectionError(H, pairs);
    expect(err.rmsPx).toBeLessThan(1e-8);
    expect(err.perPoint).toHaveLength(4);
  });

  it('fits 10 noisy points with an error about the noise', () => {
    const points = [
      { x: 80, y: 60 },
      { x: 640, y: 50 },
      { x: 1200, y: 70 },
      { x: 300, y: 250 },
      { x: 950, y: 300 },
      { x: 120, y: 420 },
      { x: 640, y: 380 },
      { x: 1150, y: 450 },
      { x: 400, y: 660 },
      { x: 900, y: 680 },
    ];
    const noisePx = 0.3; // thermal pixels, a realistic click accuracy
    const pairs = pairsFor(TRUE_H, points, noisePx, 42);
    const H = estimateHomography(pairs);
    const err = reprojectionError(H, pairs);
    // Expected residual: σ·√2 per point, reduced by the 8 fitted parameters: √(2·(20 − 8)/20)·σ ≈ 1.1·σ.
    console.log(
      `10 points, noise σ = ${noisePx} px: reprojection rms ${err.rmsPx.toFixed(3)} px, max ${err.maxPx.toFixed(3)} px`,
    );
    expect(err.rmsPx).toBeGreaterThan(0.3 * noisePx);
    expect(err.rmsPx).toBeLessThan(2.5 * noisePx);
    expect(err.maxPx).toBeGreaterThanOrEqual(err.rmsPx);
    // And it is close to the true mapping everywhere in the frame, not only at the points.
    expectSameMapping(H, TRUE_H, 4 * noisePx);
  });

  it('handles a grid with many collinear triples and a homography with h22 = 0', () => {
    const grid = [];
    for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) grid.push({ x: 100 + 400 * x, y: 100 + 250 * y });
    expectSameMapping(estimateHomography(pairsFor(TRUE_H, grid)), TRUE_H, 1e-6);
    // h22 = 0: the origin maps to infinity, but the points used do not.
    const odd: Homography = [1, 0, 5, 0, 1, 3, 0.001, 0.001, 0];
    const pts = [
      { x: 100, y: 200 },
      { x: 400, y: 150 },
      { x: 350, y: 500 },
      { x: 120, y: 450 },
      { x: 260, y: 300 },
    ];
    const H = estimateHomography(pairsFor(odd, pts));
    expect(H[8]).toBeCloseTo(0, 9);
    expect(reprojectionError(H, pairsFor(odd, pts)).maxPx).toBeLessThan(1e-6);
  });

  it('rejects fewer than 4 pairs', () => {
    const pairs = pairsFor(TRUE_H, [
      { x: 0, y: 0 },
      { x: 100, y: 0 },
      { x: 0, y: 100 },
    ]);
    expect(() => estimateHomography(pairs)).toThrow(HomographyError);
    expect(() => estimateHomography(pairs)).toThrow(/at least 4 point pairs, got 3/);
  });

  it('rejects collinear and coincident points', () => {
    const line = [0, 1, 2, 3, 4, 5].map((i) => ({ x: 100 + 50 * i, y: 200 + 20 * i }));
    expect(() => estimateHomography(pairsFor(TRUE_H, line))).toThrow(
      /source points: all 6 points are collinear/,
    );
    const threeOnALine = [
      { x: 0, y: 0 },
      { x: 100, y: 100 },
      { x: 200, y: 200 },
      { x: 0, y: 300 },
    ];
    expect(() => estimateHomography(pairsFor(TRUE_H, threeOnALine))).toThrow(/points 0, 1, 2 are/);
    const same = Array.from({ length: 5 }, () => ({ x: 10, y: 10 }));
    expect(() => estimateHomography(pairsFor(TRUE_H, same))).toThrow(/coincide/);
    // Good source points, but every target point on one line.
    const square = [
      { x: 0, y: 0 },
      { x: 100, y: 0 },
      { x: 100, y: 100 },
      { x: 0, y: 100 },
    ];
    const flat = square.map((from, i) => ({ from, to: { x: i * 10, y: 5 } }));
    expect(() => estimateHomography(flat)).toThrow(/target points: all 4 points are collinear/);
  });

  it('rejects non-finite coordinates', () => {
    const pairs = pairsFor(TRUE_H, [
      { x: 0, y: 0 },
      { x: 100, y: 0 },
      { x: 100, y: 100 },
      { x: 0, y: 100 },
    ]);
    pairs[2] = { ...pairs[2], to: { x: Number.NaN, y: 1 } };
    expect(() => estimateHomography(pairs)).toThrow(/pair 2 has a non-finite/);
  });
});

describe('applyHomography / invertHomography', () => {
  it('round-trips through the inverse', () => {
    const inv = invertHomography(TRUE_H);
    const p = { x: 321.5, y: 654.25 };
    const q = applyHomography(inv, applyHomography(TRUE_H, p));
    expect(q.x).toBeCloseTo(p.x, 9);
    expect(q.y).toBeCloseTo(p.y, 9);
  });

  it('reports points that map to infinity', () => {
    const H: Homography = [1, 0, 0, 0, 1, 0, 1, 0, 0];
    expect(() => applyHomography(H, { x: 0, y: 5 })).toThrow(/maps to infinity/);
  });
});

describe('jacobiEigen', () => {
  it('diagonalises a symmetric matrix', () => {
    const m = Float64Array.from([4, 1, 2, 1, 3, 0, 2, 0, 5]);
    const { values, vectors } = jacobiEigen(m, 3);
    for (let k = 0; k < 3; k++) {
      for (let r = 0; r < 3; r++) {
        let mv = 0;
        for (let c = 0; c < 3; c++) mv += m[r * 3 + c] * vectors[c * 3 + k];
        expect(mv).toBeCloseTo(values[k] * vectors[r * 3 + k], 10);
      }
    }
    expect(values.reduce((a, b) => a + b)).toBeCloseTo(12, 10); // trace
  });
});

describe('mapFace', () => {
  const face: Face = {
    box: [400, 200, 200, 240],
    keypoints: {
      rightEye: { x: 460, y: 290 },
      leftEye: { x: 540, y: 290 },
      nose: { x: 500, y: 340 },
      mouth: { x: 500, y: 390 },
      rightEar: null,
      leftEar: { x: 590, y: 320 },
      rightCanthus: { x: 478, y: 292 },
    },
    score: 0.93,
    from: 'visible',
    frontal: true,
  };

  it('maps box and keypoints with a pure scale and shift exactly', () => {
    const H: Homography = [0.125, 0, -10, 0, 0.125, 5, 0, 0, 1];
    const t = mapFace(face, H);
    expect(t.box).toEqual([40, 30, 25, 30]);
    expect(t.keypoints.rightEye).toEqual({ x: 47.5, y: 41.25 });
    expect(t.keypoints.rightEar).toBeNull();
    expect(t.keypoints.rightCanthus).toEqual({ x: 49.75, y: 41.5 });
    expect('leftCanthus' in t.keypoints).toBe(false);
    expect(t.score).toBe(0.93);
    expect(t.from).toBe('visible');
    expect(t.frontal).toBe(true);
  });

  it('bounds all four mapped corners under perspective', () => {
    const t = mapFace(face, TRUE_H);
    const [x, y, w, h] = face.box;
    const corners = [
      { x, y },
      { x: x + w, y },
      { x, y: y + h },
      { x: x + w, y: y + h },
    ].map((p) => applyHomography(TRUE_H, p));
    const [bx, by, bw, bh] = t.box;
    for (const c of corners) {
      expect(c.x).toBeGreaterThanOrEqual(bx - 1e-9);
      expect(c.y).toBeGreaterThanOrEqual(by - 1e-9);
      expect(c.x).toBeLessThanOrEqual(bx + bw + 1e-9);
      expect(c.y).toBeLessThanOrEqual(by + bh + 1e-9);
    }
    // Tight: each side touches a corner.
    expect(Math.min(...corners.map((c) => c.x))).toBeCloseTo(bx, 9);
    expect(Math.max(...corners.map((c) => c.y))).toBeCloseTo(by + bh, 9);
    const nose = applyHomography(TRUE_H, face.keypoints.nose!);
    expect(t.keypoints.nose).toEqual(nose);
  });
});
