import { describe, expect, it } from 'vitest';
import {
  apparentTemperature,
  applyReference,
  correctEmissivity,
  findBlackbodyRegion,
  interiorOf,
  ReferenceOffsetFilter,
  readRegion,
  skinTemperatureC,
  twoPointGain,
} from '../../calibration/reference.ts';

const W = 80;
const H = 60;
const BLACKBODY = { x: 60, y: 6, width: 12, height: 12 };

/** Seeded uniform noise so the frames are the same on every run. */
function noise(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a * 1664525 + 1013904223) >>> 0;
    return a / 2 ** 32 - 0.5;
  };
}

/** A room at 22 °C, a face-like warm blob with a gradient, and a flat blackbody patch. */
function scene(blackbodyC: number, seed = 1, noiseC = 0.04): Float32Array {
  const rnd = noise(seed);
  const f = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let v = 22;
      const d = Math.hypot(x - 20, y - 30);
      if (d < 12) v = 35.5 - 0.3 * d; // face: warm in the middle, cooler at the edges (≈ 1 mm/px)
      if (
        x >= BLACKBODY.x &&
        x < BLACKBODY.x + BLACKBODY.width &&
        y >= BLACKBODY.y &&
        y < BLACKBODY.y + BLACKBODY.height
      ) {
        v = blackbodyC;
      }
      f[y * W + x] = v + noiseC * 2 * rnd();
    }
  }
  return f;
}

function paint(f: Float32Array, x0: number, y0: number, w: number, h: number, c: number): void {
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) f[y * W + x] = c;
}

describe('readRegion', () => {
  it('reads the interior only: a ring of background at the border does not move the reading', () => {
    const f = scene(35, 1, 0);
    // Region drawn 2 px too large on every side: its border is room temperature.
    const loose = { x: BLACKBODY.x - 2, y: BLACKBODY.y - 2, width: 16, height: 16 };
    const r = readRegion(f, W, H, loose)!;
    expect(interiorOf(loose, 0.2)).toEqual({ x: 61, y: 7, width: 10, height: 10 });
    expect(r.readingC).toBeCloseTo(35, 5);
    expect(r.noiseC).toBeCloseTo(0, 5);
    expect(r.farFraction).toBe(0);
  });

  it('drops single hot/cold pixels through the trimmed mean but reports them as noise', () => {
    const f = scene(35, 1, 0);
    f[10 * W + 64] = 60;
    f[11 * W + 65] = 0;
    const r = readRegion(f, W, H, BLACKBODY)!;
    expect(r.readingC).toBeCloseTo(35, 5);
    expect(r.noiseC).toBeGreaterThan(1);
  });

  it('measures noise as the SD of the interior', () => {
    const r = readRegion(scene(35, 3, 0.1), W, H, BLACKBODY)!;
    // Uniform noise of half-width 0.1 °C has SD 0.1/√3.
    expect(r.noiseC).toBeGreaterThan(0.04);
    expect(r.noiseC).toBeLessThan(0.08);
    expect(r.readingC).toBeCloseTo(35, 1);
  });

  it('shows a partial occlusion as a large far fraction', () => {
    const f = scene(35);
    paint(f, BLACKBODY.x, BLACKBODY.y, 6, 12, 30); // a hand over the left half
    const r = readRegion(f, W, H, BLACKBODY)!;
    expect(r.farFraction).toBeGreaterThan(0.3);
    expect(r.spreadC).toBeGreaterThan(3);
  });

  it('returns null for a region outside the frame and rejects a wrong frame size', () => {
    expect(readRegion(scene(35), W, H, { x: 200, y: 200, width: 10, height: 10 })).toBeNull();
    expect(() => readRegion(new Float32Array(10), W, H, BLACKBODY)).toThrow(/expected width × height = 4800/);
  });
});

describe('findBlackbodyRegion', () => {
  it('finds the flat patch near the set point, not the face at a similar temperature', () => {
    const region = findBlackbodyRegion(scene(33.2), W, H, 35)!; // camera reads 1.8 °C low
    expect(region).not.toBeNull();
    expect(region.x).toBeGreaterThanOrEqual(BLACKBODY.x);
    expect(region.y).toBeGreaterThanOrEqual(BLACKBODY.y);
    expect(region.x + region.width).toBeLessThanOrEqual(BLACKBODY.x + BLACKBODY.width);
    expect(region.y + region.height).toBeLessThanOrEqual(BLACKBODY.y + BLACKBODY.height);
    expect(region.width).toBeGreaterThanOrEqual(10);
    expect(region.height).toBeGreaterThanOrEqual(10);
  });

  it('finds nothing when no flat patch is within tolerance of the set point', () => {
    expect(findBlackbodyRegion(scene(22), W, H, 35)).toBeNull();
    expect(findBlackbodyRegion(scene(35), W, H, 35, { toleranceC: 0.5, maxNoiseC: 0.001 })).toBeNull();
  });
});

describe('emissivity', () => {
  it('a 0.97 blackbody at 35 °C in a 22 °C room reads ≈ 0.4 °C low, and the correction undoes it', () => {
    const apparent = apparentTemperature(35, 0.97, 22);
    expect(apparent).toBeGreaterThan(34.5);
    expect(apparent).toBeLessThan(34.7);
    expect(correctEmissivity(apparent, 0.97, 22)).toBeCloseTo(35, 6);
  });

  it('is the identity at emissivity 1 or when the room is as warm as the object', () => {
    expect(correctEmissivity(34.2, 1, 22)).toBe(34.2);
    expect(correctEmissivity(30, 0.95, 30)).toBeCloseTo(30, 6);
  });

  it('corrects skin with 0.98 by default and never lowers a reading in a cooler room', () => {
    const skin = skinTemperatureC(35, 22);
    expect(skin).toBeGreaterThan(35.2);
    expect(skin).toBeLessThan(35.35);
    expect(skinTemperatureC(38.5, 22)).toBeGreaterThan(38.5);
  });

  it('rejects an impossible emissivity', () => {
    expect(() => correctEmissivity(35, 0, 22)).toThrow(/emissivity must be in \(0, 1\]/);
    expect(() => correctEmissivity(35, 1.2, 22)).toThrow(/emissivity/);
  });
});

describe('applyReference and twoPointGain', () => {
  it('adds the offset to every pixel, into `out` or in place', () => {
    const frame = Float32Array.from([33, 34, 36.5]);
    const out = new Float32Array(3);
    applyReference(frame, 1.5, 1, out);
    expect(Array.from(out)).toEqual([34.5, 35.5, 38]);
    expect(frame[0]).toBe(33);
    applyReference(frame, -0.5, 1);
    expect(Array.from(frame)).toEqual([32.5, 33.5, 36]);
  });

  it('maps both references onto their set points with two points, keeping high readings high', () => {
    const g = twoPointGain({
      measuredPrimaryC: 33,
      setpointPrimaryC: 35,
      measuredSecondaryC: 37.5,
      setpointSecondaryC: 40,
    });
    expect(g.gain).toBeCloseTo(5 / 4.5, 10);
    const out = applyReference(
      Float32Array.from([33, 37.5, 36]),
      g.offsetC,
      g.gain,
      new Float32Array(3),
      g.pivotC,
    );
    expect(out[0]).toBeCloseTo(35, 5);
    expect(out[1]).toBeCloseTo(40, 5);
    expect(out[2]).toBeCloseTo(35 + 3 * (5 / 4.5), 4);
  });

  it('rejects references too close together and implausible gains', () => {
    expect(() =>
      twoPointGain({
        measuredPrimaryC: 33,
        setpointPrimaryC: 35,
        measuredSecondaryC: 33.5,
        setpointSecondaryC: 35.5,
      }),
    ).toThrow(/at least 1 °C apart/);
    expect(() =>
      twoPointGain({
        measuredPrimaryC: 33,
        setpointPrimaryC: 35,
        measuredSecondaryC: 33.1,
        setpointSecondaryC: 40,
      }),
    ).toThrow(/implausible/);
    expect(() => applyReference(new Float32Array(2), 0, 1, new Float32Array(3))).toThrow(/must match/);
  });
});

describe('ReferenceOffsetFilter', () => {
  it('ignores a single-frame outlier', () => {
    const filter = new ReferenceOffsetFilter({ timeConstantMs: 1000, medianOf: 5 });
    for (let t = 0; t < 2000; t += 100) filter.update(t, 2.0);
    filter.update(2000, 8.0); // one bad frame
    for (let t = 2100; t < 2500; t += 100) filter.update(t, 2.0);
    expect(filter.offsetC).toBeCloseTo(2.0, 10);
  });

  it('follows a real step with the configured time constant, independent of frame rate', () => {
    const step = (frameMs: number) => {
      const filter = new ReferenceOffsetFilter({ timeConstantMs: 1000, medianOf: 1 });
      filter.update(0, 0);
      for (let t = frameMs; t <= 1000; t += frameMs) filter.update(t, 1);
      return filter.offsetC!;
    };
    expect(step(40)).toBeCloseTo(1 - Math.exp(-1), 6);
    expect(step(200)).toBeCloseTo(1 - Math.exp(-1), 6);
  });

  it('is null before the first sample and rejects non-finite samples', () => {
    const filter = new ReferenceOffsetFilter();
    expect(filter.offsetC).toBeNull();
    expect(() => filter.update(0, Number.NaN)).toThrow(/must be finite/);
  });
});
