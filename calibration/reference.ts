/**
 * Blackbody reference: robust reading of the reference region, emissivity correction, the smoothed
 * offset `setpoint − measured`, and applying it to a frame. Pure; no I/O.
 *
 * The correction is only physics and the measured offset: nothing here looks at faces or pulls a
 * reading toward a typical human value (Healy et al. 2021).
 */

import { KELVIN_OFFSET } from './radiometry.ts';

/** A rectangle in the thermal image's pixels. */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface RegionReadingOptions {
  /** Fraction of the width/height removed on each side before reading (edges blur into the background). */
  erodeFraction?: number;
  /** Fraction of the sorted interior pixels dropped at each end before averaging. */
  trimFraction?: number;
  /** A pixel this far (°C) from the interior median counts as "far" (occlusion evidence). */
  farFromMedianC?: number;
}

export interface RegionReading {
  /** Trimmed mean of the interior pixels, °C, as the camera reports them (no emissivity correction). */
  readingC: number;
  /** Standard deviation of the interior pixels, °C. */
  noiseC: number;
  /** Spread of the interior: 90th − 10th percentile, °C. A blackbody face is flat. */
  spreadC: number;
  /** Fraction of interior pixels farther than `farFromMedianC` from the interior median. */
  farFraction: number;
  /** Interior pixels used. */
  pixelCount: number;
}

export const READING_DEFAULTS = { erodeFraction: 0.2, trimFraction: 0.1, farFromMedianC: 0.5 } as const;

function checkFrame(celsius: Float32Array, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`frame size must be positive integers, got ${width}×${height}`);
  }
  if (celsius.length !== width * height) {
    throw new RangeError(`frame has ${celsius.length} pixels, expected width × height = ${width * height}`);
  }
}

/** The region shrunk by `erodeFraction` of its size on each side (at least one pixel remains). */
export function interiorOf(region: Region, erodeFraction: number): Region {
  const dx = Math.floor(region.width * erodeFraction);
  const dy = Math.floor(region.height * erodeFraction);
  return {
    x: region.x + dx,
    y: region.y + dy,
    width: Math.max(1, region.width - 2 * dx),
    height: Math.max(1, region.height - 2 * dy),
  };
}

const percentile = (sorted: Float64Array, q: number): number => {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
};

/** The pixels `readRegion` reads: the region's interior (before clipping to the frame). */
export function regionReadArea(region: Region, options: RegionReadingOptions = {}): Region {
  return interiorOf(region, options.erodeFraction ?? READING_DEFAULTS.erodeFraction);
}

/**
 * Robust reading of the reference region: interior pixels only, trimmed mean, noise and spread.
 * Returns null when the region lies outside the frame or holds no finite pixels.
 */
export function readRegion(
  celsius: Float32Array,
  width: number,
  height: number,
  region: Region,
  options: RegionReadingOptions = {},
): RegionReading | null {
  checkFrame(celsius, width, height);
  const inner = regionReadArea(region, options);
  const x0 = Math.max(0, inner.x);
  const y0 = Math.max(0, inner.y);
  const x1 = Math.min(width, inner.x + inner.width);
  const y1 = Math.min(height, inner.y + inner.height);
  if (x1 <= x0 || y1 <= y0) return null;
  const values: number[] = [];
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const v = celsius[y * width + x];
      if (Number.isFinite(v)) values.push(v);
    }
  }
  return summarise(values, options);
}

/**
 * A circular blackbody (the feverscreen kiosks' heated disc, ≈ 12 px across on a Lepton): centre and
 * radius in the thermal image's pixels (pixel centres at x + 0.5; cx, cy may be fractional).
 */
export interface DiscRegion {
  cx: number;
  cy: number;
  r: number;
}

/** The smallest pixel rectangle holding the whole disc (for the UI and to exclude it from detection). */
export function discBounds(disc: DiscRegion): Region {
  const x = Math.floor(disc.cx - disc.r);
  const y = Math.floor(disc.cy - disc.r);
  return { x, y, width: Math.ceil(disc.cx + disc.r) - x, height: Math.ceil(disc.cy + disc.r) - y };
}

/**
 * The disc's interior radius: the rim blurs into the housing over a pixel or two, so as for a
 * rectangle `erodeFraction` of the diameter is left out on each side (a 6 px radius reads the pixels
 * within 3.6 px: ≈ 40 pixels, none on the rim). At least one pixel's radius remains.
 */
export function discInteriorRadius(disc: DiscRegion, erodeFraction: number): number {
  return Math.max(0.75, disc.r * (1 - 2 * erodeFraction));
}

/** The rectangle holding every pixel `readDisc` may read: the interior circle's bounding box. */
export function discReadArea(disc: DiscRegion, options: RegionReadingOptions = {}): Region {
  const ri = discInteriorRadius(disc, options.erodeFraction ?? READING_DEFAULTS.erodeFraction);
  const x = Math.floor(disc.cx - ri);
  const y = Math.floor(disc.cy - ri);
  return { x, y, width: Math.ceil(disc.cx + ri) - x + 1, height: Math.ceil(disc.cy + ri) - y + 1 };
}

/**
 * Robust reading of a disc: the pixels whose centres lie within the interior radius, with the same
 * trimmed mean, noise, spread and far fraction as a rectangle. Null when the disc is off the frame.
 */
export function readDisc(
  celsius: Float32Array,
  width: number,
  height: number,
  disc: DiscRegion,
  options: RegionReadingOptions = {},
): RegionReading | null {
  checkFrame(celsius, width, height);
  if (![disc.cx, disc.cy, disc.r].every(Number.isFinite) || disc.r <= 0) {
    throw new RangeError(`a disc needs a finite centre and a positive radius, got ${JSON.stringify(disc)}`);
  }
  const ri = discInteriorRadius(disc, options.erodeFraction ?? READING_DEFAULTS.erodeFraction);
  const values: number[] = [];
  const area = discReadArea(disc, options);
  const y0 = Math.max(0, area.y);
  const y1 = Math.min(height - 1, area.y + area.height - 1);
  const x0 = Math.max(0, area.x);
  const x1 = Math.min(width - 1, area.x + area.width - 1);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if ((x + 0.5 - disc.cx) ** 2 + (y + 0.5 - disc.cy) ** 2 > ri * ri) continue;
      const v = celsius[y * width + x];
      if (Number.isFinite(v)) values.push(v);
    }
  }
  return summarise(values, options);
}

/** Trimmed mean, SD, 10–90 % spread and far fraction of a reference's interior pixels. */
function summarise(values: number[], options: RegionReadingOptions): RegionReading | null {
  const { trimFraction, farFromMedianC } = { ...READING_DEFAULTS, ...options };
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  const drop = Math.floor(n * trimFraction);
  let sum = 0;
  for (let i = drop; i < n - drop; i++) sum += sorted[i];
  const readingC = sum / (n - 2 * drop);
  let mean = 0;
  for (const v of sorted) mean += v;
  mean /= n;
  let squares = 0;
  for (const v of sorted) squares += (v - mean) ** 2;
  const noiseC = n > 1 ? Math.sqrt(squares / (n - 1)) : 0;
  const median = percentile(sorted, 0.5);
  let far = 0;
  for (const v of sorted) if (Math.abs(v - median) > farFromMedianC) far++;
  return {
    readingC,
    noiseC,
    spreadC: percentile(sorted, 0.9) - percentile(sorted, 0.1),
    farFraction: far / n,
    pixelCount: n,
  };
}

export interface FindBlackbodyOptions {
  /** How far (°C) the uncorrected camera may read from the set point; cheap cores are off by several °C. */
  toleranceC?: number;
  /** Side of the square search window in pixels (the smallest blackbody face accepted). */
  windowPx?: number;
  /** Largest interior standard deviation (°C) of a blackbody; skin and backgrounds have gradients. */
  maxNoiseC?: number;
  /** A row or column joins the region while its mean stays within this of the seed mean (°C). */
  growToleranceC?: number;
}

export const FIND_DEFAULTS = { toleranceC: 3, windowPx: 6, maxNoiseC: 0.15, growToleranceC: 0.25 } as const;

/**
 * Finds the blackbody as the most uniform patch reading near the set point, grown to its edges.
 * One frame only: the caller confirms the region is stable over time (the state machine does).
 */
export function findBlackbodyRegion(
  celsius: Float32Array,
  width: number,
  height: number,
  setpointC: number,
  options: FindBlackbodyOptions = {},
): Region | null {
  checkFrame(celsius, width, height);
  const { toleranceC, windowPx, maxNoiseC, growToleranceC } = { ...FIND_DEFAULTS, ...options };
  if (windowPx > width || windowPx > height) return null;
  // Integral images of values and squares give every window's mean and variance in O(1).
  const w1 = width + 1;
  const sum = new Float64Array(w1 * (height + 1));
  const sq = new Float64Array(w1 * (height + 1));
  for (let y = 0; y < height; y++) {
    let rowSum = 0;
    let rowSq = 0;
    for (let x = 0; x < width; x++) {
      const raw = celsius[y * width + x];
      const v = Number.isFinite(raw) ? raw : -1e6;
      rowSum += v;
      rowSq += v * v;
      sum[(y + 1) * w1 + x + 1] = sum[y * w1 + x + 1] + rowSum;
      sq[(y + 1) * w1 + x + 1] = sq[y * w1 + x + 1] + rowSq;
    }
  }
  const boxStats = (x: number, y: number, w: number, h: number) => {
    const at = (a: Float64Array, xx: number, yy: number) => a[yy * w1 + xx];
    const n = w * h;
    const s = at(sum, x + w, y + h) - at(sum, x, y + h) - at(sum, x + w, y) + at(sum, x, y);
    const q = at(sq, x + w, y + h) - at(sq, x, y + h) - at(sq, x + w, y) + at(sq, x, y);
    const mean = s / n;
    return { mean, sd: Math.sqrt(Math.max(0, q / n - mean * mean)) };
  };
  const candidates: { x: number; y: number; mean: number; score: number }[] = [];
  const stride = Math.max(1, Math.floor(windowPx / 2));
  for (let y = 0; y + windowPx <= height; y += stride) {
    for (let x = 0; x + windowPx <= width; x += stride) {
      const { mean, sd } = boxStats(x, y, windowPx, windowPx);
      if (Math.abs(mean - setpointC) > toleranceC || sd > maxNoiseC) continue;
      // Flat first; among equally flat patches, closer to the set point.
      candidates.push({ x, y, mean, score: sd + 0.01 * Math.abs(mean - setpointC) });
    }
  }
  if (candidates.length === 0) return null;
  candidates.sort((p, q) => p.score - q.score);
  // A flat bit of skin (forehead) can be as flat as the blackbody over a small window, but not over
  // the blackbody's whole face: grow the flattest few and keep the largest.
  let best: Region | null = null;
  for (const seed of candidates.slice(0, 8)) {
    const grown = growRegion(seed, windowPx, (x, y, w, h) => {
      if (x < 0 || y < 0 || x + w > width || y + h > height) return false;
      const stats = boxStats(x, y, w, h);
      return Math.abs(stats.mean - seed.mean) <= growToleranceC;
    });
    if (!best || grown.width * grown.height > best.width * best.height) best = grown;
  }
  return best;
}

function growRegion(
  seed: { x: number; y: number },
  sizePx: number,
  fits: (x: number, y: number, w: number, h: number) => boolean,
): Region {
  let region: Region = { x: seed.x, y: seed.y, width: sizePx, height: sizePx };
  for (let grown = true; grown; ) {
    grown = false;
    if (fits(region.x - 1, region.y, 1, region.height)) {
      region = { ...region, x: region.x - 1, width: region.width + 1 };
      grown = true;
    }
    if (fits(region.x + region.width, region.y, 1, region.height)) {
      region = { ...region, width: region.width + 1 };
      grown = true;
    }
    if (fits(region.x, region.y - 1, region.width, 1)) {
      region = { ...region, y: region.y - 1, height: region.height + 1 };
      grown = true;
    }
    if (fits(region.x, region.y + region.height, region.width, 1)) {
      region = { ...region, height: region.height + 1 };
      grown = true;
    }
  }
  return region;
}

/**
 * Spectral radiance at the effective wavelength of an 8–14 µm microbolometer (10 µm), in arbitrary
 * units: `1 / (exp(c2 / (λ T)) − 1)`. Ratios are all the emissivity correction needs.
 */
const C2_UM_K = 14387.77;
const EFFECTIVE_WAVELENGTH_UM = 10;
export function bandRadiance(temperatureC: number): number {
  return 1 / Math.expm1(C2_UM_K / (EFFECTIVE_WAVELENGTH_UM * (temperatureC + KELVIN_OFFSET)));
}
export function temperatureFromRadiance(radiance: number): number {
  return C2_UM_K / (EFFECTIVE_WAVELENGTH_UM * Math.log1p(1 / radiance)) - KELVIN_OFFSET;
}

/**
 * True surface temperature from an apparent (emissivity 1) reading: the sensor sees
 * ε·L(T) + (1 − ε)·L(T_reflected), solved radiance-wise for T. A blackbody of ε = 0.97 at 35 °C in a
 * 22 °C room reads ≈ 0.4 °C low without this; skin (ε ≈ 0.98) ≈ 0.25 °C.
 */
export function correctEmissivity(apparentC: number, emissivity: number, reflectedC: number): number {
  if (!(emissivity > 0 && emissivity <= 1)) {
    throw new RangeError(`emissivity must be in (0, 1], got ${emissivity}`);
  }
  if (emissivity === 1) return apparentC;
  const objectRadiance = (bandRadiance(apparentC) - (1 - emissivity) * bandRadiance(reflectedC)) / emissivity;
  return temperatureFromRadiance(objectRadiance);
}

/** What an emissivity-1 camera shows when looking at a surface of `emissivity` at `trueC`. */
export function apparentTemperature(trueC: number, emissivity: number, reflectedC: number): number {
  return temperatureFromRadiance(
    emissivity * bandRadiance(trueC) + (1 - emissivity) * bandRadiance(reflectedC),
  );
}

export const SKIN_EMISSIVITY = 0.98;

/** Skin temperature from a reference-corrected apparent reading (canthus, forehead …). */
export function skinTemperatureC(
  apparentC: number,
  reflectedC: number,
  skinEmissivity: number = SKIN_EMISSIVITY,
): number {
  return correctEmissivity(apparentC, skinEmissivity, reflectedC);
}

/**
 * Corrects a frame in place or into `out`: `out = raw + offsetC + (gain − 1)·(raw − pivotC)`.
 * With one reference gain is 1 and this is the plain offset. With two references the gain rotates
 * the scale about the primary reference's reading (`pivotC`, the ReferenceState's `measuredC`), so
 * `offsetC` keeps meaning `setpoint − measured` at the primary blackbody.
 */
export function applyReference(
  celsius: Float32Array,
  offsetC: number,
  gain: number,
  out: Float32Array = celsius,
  pivotC = 0,
): Float32Array {
  if (out.length !== celsius.length) {
    throw new RangeError(`output has ${out.length} pixels, input ${celsius.length}: they must match`);
  }
  if (!(gain > 0.5 && gain < 2)) {
    throw new RangeError(`reference gain must be between 0.5 and 2, got ${gain}`);
  }
  const slope = gain - 1;
  const n = celsius.length;
  if (slope === 0) {
    // One blackbody (the usual case): an offset only. Same values as the general form for finite pixels.
    for (let i = 0; i < n; i++) out[i] = celsius[i] + offsetC;
    return out;
  }
  for (let i = 0; i < n; i++) {
    const raw = celsius[i];
    out[i] = raw + offsetC + slope * (raw - pivotC);
  }
  return out;
}

/** What `applyReference` did to every pixel: `out = raw + offsetC + (gain − 1)·(raw − pivotC)`. */
export interface ReferenceCorrection {
  offsetC: number;
  gain: number;
  pivotC: number;
}

export const NO_CORRECTION: ReferenceCorrection = { offsetC: 0, gain: 1, pivotC: 0 };

/** The value before `applyReference`: what the sensor read. */
export function removeReference(correctedC: number, correction: ReferenceCorrection): number {
  const { offsetC, gain, pivotC } = correction;
  return (correctedC - offsetC + (gain - 1) * pivotC) / gain;
}

export interface TwoPointReference {
  /** Reading (emissivity-corrected) of the primary blackbody and its set point. */
  measuredPrimaryC: number;
  setpointPrimaryC: number;
  measuredSecondaryC: number;
  setpointSecondaryC: number;
}

/**
 * Gain and offset from two references (or one blackbody at two set points), for `applyReference`
 * with `pivotC = measuredPrimaryC`. The set points must be at least 1 °C apart, otherwise noise
 * dominates the gain.
 */
export function twoPointGain(ref: TwoPointReference): { gain: number; offsetC: number; pivotC: number } {
  const setpointSpan = ref.setpointSecondaryC - ref.setpointPrimaryC;
  const measuredSpan = ref.measuredSecondaryC - ref.measuredPrimaryC;
  if (Math.abs(setpointSpan) < 1) {
    throw new RangeError(
      `two-point references must be at least 1 °C apart, got ${setpointSpan.toFixed(2)} °C`,
    );
  }
  const gain = setpointSpan / measuredSpan;
  if (!(gain > 0.5 && gain < 2)) {
    throw new RangeError(
      `two-point gain ${gain.toFixed(3)} is implausible (allowed 0.5–2): check both references are in view`,
    );
  }
  return { gain, offsetC: ref.setpointPrimaryC - ref.measuredPrimaryC, pivotC: ref.measuredPrimaryC };
}

export interface OffsetFilterOptions {
  /** Time constant of the exponential smoothing, ms. */
  timeConstantMs?: number;
  /** Samples in the median pre-filter; a single-frame outlier never reaches the smoothed offset. */
  medianOf?: number;
}

export const OFFSET_FILTER_DEFAULTS = { timeConstantMs: 5_000, medianOf: 5 } as const;

/**
 * Smoothed `setpoint − measured`: median of the last few samples (rejects single-frame outliers),
 * then an exponential filter with a time-based weight (frame-rate independent). The first sample
 * seeds the value.
 */
export class ReferenceOffsetFilter {
  readonly #timeConstantMs: number;
  readonly #medianOf: number;
  readonly #recent: number[] = [];
  #value: number | null = null;
  #lastTimeMs: number | null = null;

  constructor(options: OffsetFilterOptions = {}) {
    const { timeConstantMs, medianOf } = { ...OFFSET_FILTER_DEFAULTS, ...options };
    if (!(timeConstantMs >= 0)) throw new RangeError(`timeConstantMs must be ≥ 0, got ${timeConstantMs}`);
    if (!(Number.isInteger(medianOf) && medianOf >= 1)) {
      throw new RangeError(`medianOf must be an integer ≥ 1, got ${medianOf}`);
    }
    this.#timeConstantMs = timeConstantMs;
    this.#medianOf = medianOf;
  }

  /** The smoothed offset, or null before the first sample. */
  get offsetC(): number | null {
    return this.#value;
  }

  update(timeMs: number, offsetSampleC: number): number {
    if (!Number.isFinite(offsetSampleC))
      throw new RangeError(`offset sample must be finite, got ${offsetSampleC}`);
    this.#recent.push(offsetSampleC);
    if (this.#recent.length > this.#medianOf) this.#recent.shift();
    const sorted = [...this.#recent].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    if (this.#value === null || this.#lastTimeMs === null) {
      this.#value = median;
    } else {
      const dt = Math.max(0, timeMs - this.#lastTimeMs);
      const alpha = this.#timeConstantMs === 0 ? 1 : 1 - Math.exp(-dt / this.#timeConstantMs);
      this.#value += alpha * (median - this.#value);
    }
    this.#lastTimeMs = timeMs;
    return this.#value;
  }

  reset(): void {
    this.#recent.length = 0;
    this.#value = null;
    this.#lastTimeMs = null;
  }
}
