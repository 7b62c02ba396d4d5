import { describe, expect, it } from 'vitest';
import { CountsToCelsius, type Radiometry, rawToCelsius } from '../../calibration/radiometry.ts';
import { meanOfLargest, ScratchFloats, selectKth } from '../../calibration/selection.ts';

/** A deterministic pseudo-random sequence (no Math.random in tests). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('selectKth', () => {
  it('gives the value a full sort puts at k, with ties and for every k', () => {
    const next = lcg(7);
    for (const n of [1, 2, 3, 10, 101, 1000]) {
      // Coarse values so ties are common.
      const values = Float32Array.from({ length: n }, () => Math.round(next() * 40) / 4 + 30);
      const sorted = values.slice().sort();
      for (const k of [0, n >> 1, n - 1, Math.floor(n / 3)]) {
        const work = values.slice();
        expect(selectKth(work, k)).toBe(sorted[k]);
        for (let i = 0; i < k; i++) expect(work[i]).toBeLessThanOrEqual(work[k]);
        for (let i = k + 1; i < n; i++) expect(work[i]).toBeGreaterThanOrEqual(work[k]);
      }
    }
  });

  it('works on a prefix of a larger buffer and refuses a k outside it', () => {
    const buffer = Float64Array.from([5, 1, 4, 2, 3, -100, -100]);
    expect(selectKth(buffer, 2, 5)).toBe(3);
    expect(() => selectKth(buffer, 5, 5)).toThrow(/k must be in 0\.\.4/);
  });
});

describe('meanOfLargest', () => {
  it('equals, bit for bit, the mean of the sorted tail', () => {
    const next = lcg(11);
    const values = Float32Array.from({ length: 5000 }, () => 30 + next() * 8);
    const sorted = values.slice().sort();
    for (const k of [1, 4, 25, 5000]) {
      let sum = 0;
      for (const v of sorted.subarray(5000 - k)) sum += v;
      expect(meanOfLargest(values.slice(), k)).toBe(sum / k);
    }
  });
});

describe('ScratchFloats', () => {
  it('reuses its buffer and grows when asked for more', () => {
    const scratch = new ScratchFloats((n) => new Float32Array(n), 4);
    const first = scratch.get(3);
    expect(scratch.get(4)).toBe(first);
    expect(scratch.get(9).length).toBeGreaterThanOrEqual(9);
  });
});

describe('CountsToCelsius', () => {
  const every = Uint16Array.from({ length: 65536 }, (_, i) => i);
  const radiometries: Radiometry[] = [
    { kind: 'tlinear', resolutionK: 0.01 },
    { kind: 'linear', gain: 0.015625, offsetC: -273.15 },
    { kind: 'planck', R1: 17096.453, R2: 0.046642166, B: 1428, F: 1, O: -7340 },
  ];
  for (const radiometry of radiometries) {
    it(`gives rawToCelsius's values for every count (${radiometry.kind})`, () => {
      const object = { emissivity: 1, reflectedC: 20, atmosphereC: 20, distanceM: 0, humidityPct: 50 };
      const expected = rawToCelsius(every, radiometry, object);
      // Small frames convert per pixel in rawToCelsius: compare on a small one too.
      const small = every.subarray(12000, 13000);
      const converter = new CountsToCelsius(radiometry, object);
      expect(converter.convert(every)).toEqual(expected);
      expect(converter.convert(small)).toEqual(rawToCelsius(small, radiometry, object));
      const out = new Float32Array(small.length);
      expect(converter.convert(small, out)).toBe(out);
    });
  }
});
