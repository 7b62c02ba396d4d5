/**
 * Raw sensor counts → °C. Pure functions on typed arrays; no I/O.
 *
 * Supported models:
 * - TLinear (FLIR Lepton): counts are kelvin / resolution (0.01 K or 0.1 K per count).
 * - Linear: °C = counts × gain + offset (InfiRay-class cores: raw/64 = K).
 * - FLIR Planck: T = B / ln(R1 / (R2 · (S + O)) + F) − 273.15, where S is the raw signal corrected
 *   for emissivity, reflected radiation and atmospheric transmission.
 *
 * Every conversion writes into an optional `out` array (allocated when not given) and returns it, so the
 * frame path can reuse one buffer per frame size and convert without allocating.
 */

export interface PlanckConstants {
  R1: number;
  R2: number;
  B: number;
  F: number;
  O: number;
}

/** FLIR atmospheric transmission constants (AtmosphericTrans{Alpha1,Alpha2,Beta1,Beta2,X}). */
export interface AtmosphereConstants {
  alpha1: number;
  alpha2: number;
  beta1: number;
  beta2: number;
  X: number;
}

export type Radiometry =
  | { kind: 'tlinear'; resolutionK: 0.01 | 0.1 }
  | { kind: 'linear'; gain: number; offsetC: number }
  | ({ kind: 'planck'; atmosphere?: AtmosphereConstants } & PlanckConstants);

/** What the scene adds between the object and the sensor. Defaults describe a face at arm's length indoors. */
export interface ObjectParameters {
  emissivity: number;
  reflectedC: number;
  atmosphereC: number;
  distanceM: number;
  humidityPct: number;
  /** External optics or a protective IR window in the path; absent means none. */
  window?: IrWindow;
}

/** An IR window (external optics) between object and camera, as FLIR files describe it. */
export interface IrWindow {
  /** Fraction of the object's radiation the window lets through, (0, 1]. */
  transmission: number;
  temperatureC: number;
  /** Fraction the window reflects back from the camera side (FLIR files do not store it: 0). */
  reflection?: number;
  /** Temperature of what the window reflects, °C (default: the object's reflected temperature). */
  reflectedC?: number;
  /**
   * Window's distance from the camera, m (default 0: at the lens, as protective windows sit). Thermimage's
   * raw2temp puts it half-way (distanceM / 2), which splits the air path in two.
   */
  distanceFromCameraM?: number;
}

export const KELVIN_OFFSET = 273.15;

/** Human skin (emissivity ≈ 0.98) at about 1 m indoors. */
export const defaultObjectParameters: Readonly<ObjectParameters> = Object.freeze({
  emissivity: 0.98,
  reflectedC: 20,
  atmosphereC: 20,
  distanceM: 1,
  humidityPct: 50,
});

/**
 * The constants FLIR cameras ship for atmospheric transmission (the same in every camera file seen so far,
 * and Thermimage's raw2temp defaults). Used when a Planck radiometry has no `atmosphere` of its own.
 */
export const FLIR_STANDARD_ATMOSPHERE: Readonly<AtmosphereConstants> = Object.freeze({
  alpha1: 0.006569,
  alpha2: 0.01262,
  beta1: -0.002276,
  beta2: -0.00667,
  X: 1.9,
});

const RAW_MAX = 65535;

function allocFloat(length: number, out: Float32Array | undefined, what: string): Float32Array {
  if (!out) return new Float32Array(length);
  if (out.length < length) {
    throw new RangeError(`${what}: output array has ${out.length} elements, needs at least ${length}`);
  }
  return out;
}

function allocRaw(length: number, out: Uint16Array | undefined): Uint16Array {
  if (!out) return new Uint16Array(length);
  if (out.length < length) {
    throw new RangeError(`celsiusToRaw: output array has ${out.length} elements, needs at least ${length}`);
  }
  return out;
}

/** TLinear counts (kelvin / resolutionK) → °C. */
export function tlinearToCelsius(
  raw: Uint16Array,
  resolutionK: 0.01 | 0.1,
  out?: Float32Array,
): Float32Array {
  if (resolutionK !== 0.01 && resolutionK !== 0.1) {
    throw new RangeError(`tlinearToCelsius: resolutionK must be 0.01 or 0.1, got ${resolutionK}`);
  }
  return linearToCelsius(raw, resolutionK, -KELVIN_OFFSET, out);
}

/** °C = counts × gain + offsetC. */
export function linearToCelsius(
  raw: Uint16Array,
  gain: number,
  offsetC: number,
  out?: Float32Array,
): Float32Array {
  const n = raw.length;
  const dst = allocFloat(n, out, 'linearToCelsius');
  for (let i = 0; i < n; i++) dst[i] = raw[i] * gain + offsetC;
  return dst;
}

/**
 * The FLIR scene model reduced to a straight line on the raw signal: the object's own signal is
 * `objectRaw = measuredRaw · scale + shift`. The published FLIR model (ExifTool forum / Thermimage raw2temp,
 * with τ1 the air between object and window, τ2 between window and camera, IRT the window's transmission):
 *   raw_obj = raw/(E·τ1·IRT·τ2) − (1−E)/E·refl − (1−τ1)/(E·τ1)·atm − (1−IRT−IRR)/(E·τ1·IRT)·wind
 *             − IRR/(E·τ1·IRT)·refl2 − (1−τ2)/(E·τ1·IRT·τ2)·atm
 * where atm, refl, wind, refl2 are the raw signals blackbodies at those temperatures would give. Without a
 * window (IRT 1, τ2 1) it is (raw − (1 − τ)·atm)/(E·τ) − (1 − E)/E·refl with τ over the whole distance.
 */
export interface PlanckSceneCorrection {
  scale: number;
  shift: number;
  /** Atmospheric transmission between object and camera (1 = none), window excluded. */
  transmission: number;
}

/** Raw signal a blackbody at `celsius` produces under these constants (inverse of the Planck curve). */
export function planckRawForCelsius(constants: PlanckConstants, celsius: number): number {
  return (
    constants.R1 / (constants.R2 * (Math.exp(constants.B / (celsius + KELVIN_OFFSET)) - constants.F)) -
    constants.O
  );
}

/**
 * FLIR's atmospheric transmission over `distanceM` of air:
 *   τ = X·exp(−√d·(α1 + β1·√H2O)) + (1 − X)·exp(−√d·(α2 + β2·√H2O)),
 *   H2O = RH·exp(1.5587 + 0.06939·T − 0.00027816·T² + 0.00000068455·T³)  (RH as a fraction, T in °C).
 * The path is one √d, not two halves: √(d/2) twice over-attenuates by a factor of √2 in the exponent,
 * which read ≈ 0.1 °C off FLIR's own software at 5 m for objects 16 °C away from the air temperature.
 */
export function airTransmission(
  atmosphere: AtmosphereConstants,
  distanceM: number,
  atmosphereC: number,
  humidityPct: number,
): number {
  if (!(distanceM > 0)) return 1;
  const t = atmosphereC;
  const h2o =
    (humidityPct / 100) * Math.exp(1.5587 + 0.06939 * t - 0.00027816 * t * t + 0.00000068455 * t * t * t);
  const sqrtH2o = Math.sqrt(h2o);
  const sqrtD = Math.sqrt(distanceM);
  return (
    atmosphere.X * Math.exp(-sqrtD * (atmosphere.alpha1 + atmosphere.beta1 * sqrtH2o)) +
    (1 - atmosphere.X) * Math.exp(-sqrtD * (atmosphere.alpha2 + atmosphere.beta2 * sqrtH2o))
  );
}

/** Atmospheric transmission over the object's whole distance (FLIR model, no window). */
export function atmosphericTransmission(atmosphere: AtmosphereConstants, object: ObjectParameters): number {
  return airTransmission(atmosphere, object.distanceM, object.atmosphereC, object.humidityPct);
}

export function planckSceneCorrection(
  constants: PlanckConstants & { atmosphere?: AtmosphereConstants },
  object: ObjectParameters,
): PlanckSceneCorrection {
  const e = object.emissivity;
  if (!(e > 0 && e <= 1)) {
    throw new RangeError(`emissivity must be in (0, 1], got ${e}`);
  }
  if (!(object.humidityPct >= 0 && object.humidityPct <= 100)) {
    throw new RangeError(`humidityPct must be in 0..100, got ${object.humidityPct}`);
  }
  const atmosphere = constants.atmosphere ?? FLIR_STANDARD_ATMOSPHERE;
  const window = object.window;
  const irt = window ? window.transmission : 1;
  const irr = window?.reflection ?? 0;
  if (!(irt > 0 && irt <= 1) || !(irr >= 0 && irt + irr <= 1)) {
    throw new RangeError(
      `IR window transmission must be in (0, 1] and transmission + reflection ≤ 1, got ${irt} and ${irr}`,
    );
  }
  const windowToCameraM = window
    ? Math.min(Math.max(window.distanceFromCameraM ?? 0, 0), object.distanceM)
    : 0;
  const { atmosphereC, humidityPct } = object;
  const tau1 = airTransmission(atmosphere, object.distanceM - windowToCameraM, atmosphereC, humidityPct);
  const tau2 = airTransmission(atmosphere, windowToCameraM, atmosphereC, humidityPct);
  const atmRaw = planckRawForCelsius(constants, atmosphereC);
  const reflRaw = planckRawForCelsius(constants, object.reflectedC);
  const scale = 1 / (e * tau1 * irt * tau2);
  let shift = -((1 - e) / e) * reflRaw - ((1 - tau1) / (e * tau1)) * atmRaw;
  if (window) {
    const windowRaw = planckRawForCelsius(constants, window.temperatureC);
    const windowReflRaw = planckRawForCelsius(constants, window.reflectedC ?? object.reflectedC);
    shift -=
      ((1 - irt - irr) / (e * tau1 * irt)) * windowRaw +
      (irr / (e * tau1 * irt)) * windowReflRaw +
      ((1 - tau2) / (e * tau1 * irt * tau2)) * atmRaw;
  }
  return { scale, shift, transmission: tau1 * tau2 };
}

/** A blackbody right at the lens: emissivity 1, no atmosphere. Planck reduces to B / ln(R1/(R2(raw+O)) + F) − 273.15. */
export const blackbodyObjectParameters: Readonly<ObjectParameters> = Object.freeze({
  emissivity: 1,
  reflectedC: 20,
  atmosphereC: 20,
  distanceM: 0,
  humidityPct: 0,
});

// Above this many pixels a table over all 65536 raw values is cheaper than one logarithm per pixel.
const PLANCK_LUT_MIN_PIXELS = 32768;

let lutKey = '';
let lutTable: Float32Array | null = null;

function planckLut(constants: PlanckConstants, correction: PlanckSceneCorrection, key: string): Float32Array {
  if (lutTable && key === lutKey) return lutTable;
  const table = new Float32Array(RAW_MAX + 1);
  planckLoop(constants, correction, RAW_MAX + 1, (i) => i, table);
  lutKey = key;
  lutTable = table;
  return table;
}

function planckLoop(
  constants: PlanckConstants,
  correction: PlanckSceneCorrection,
  n: number,
  rawAt: (i: number) => number,
  dst: Float32Array,
): void {
  const { R1, R2, B, F, O } = constants;
  const { scale, shift } = correction;
  const shiftPlusO = shift + O;
  for (let i = 0; i < n; i++) {
    // Outside the calibrated range (signal at or below −O) the logarithm is undefined: NaN says "no reading".
    const signal = rawAt(i) * scale + shiftPlusO;
    dst[i] = signal > 0 ? B / Math.log(R1 / (R2 * signal) + F) - KELVIN_OFFSET : Number.NaN;
  }
}

/**
 * FLIR Planck model with emissivity, reflected apparent temperature, atmospheric transmission and an
 * optional IR window (`planckSceneCorrection`). Pixels outside the calibration (signal ≤ −O) become NaN.
 */
export function planckToCelsius(
  raw: Uint16Array,
  constants: PlanckConstants & { atmosphere?: AtmosphereConstants },
  object: ObjectParameters,
  out?: Float32Array,
): Float32Array {
  const n = raw.length;
  const dst = allocFloat(n, out, 'planckToCelsius');
  const correction = planckSceneCorrection(constants, object);
  if (n >= PLANCK_LUT_MIN_PIXELS) {
    const key = `${constants.R1},${constants.R2},${constants.B},${constants.F},${constants.O},${correction.scale},${correction.shift}`;
    const table = planckLut(constants, correction, key);
    for (let i = 0; i < n; i++) dst[i] = table[raw[i]];
    return dst;
  }
  planckLoop(constants, correction, n, (i) => raw[i], dst);
  return dst;
}

/**
 * A camera's counts → °C as one table over every possible count (65 536 entries, built once per
 * radiometry and object parameters), so the frame path does one lookup per pixel instead of the
 * model's arithmetic (a logarithm per pixel for Planck cores). Each entry is what `rawToCelsius`
 * gives for that count, so a converted frame is identical to `rawToCelsius`'s.
 */
export class CountsToCelsius {
  readonly #table: Float32Array;

  constructor(radiometry: Radiometry, object: ObjectParameters = defaultObjectParameters) {
    const counts = new Uint16Array(RAW_MAX + 1);
    for (let i = 0; i <= RAW_MAX; i++) counts[i] = i;
    this.#table = new Float32Array(RAW_MAX + 1);
    if (radiometry.kind === 'planck') {
      // Per count, as `planckToCelsius` computes below its table size (the same formula either way).
      planckLoop(radiometry, planckSceneCorrection(radiometry, object), RAW_MAX + 1, (i) => i, this.#table);
    } else {
      rawToCelsius(counts, radiometry, object, this.#table);
    }
  }

  /** °C of one count. */
  at(count: number): number {
    return this.#table[count];
  }

  /** Converts `raw` into `out` (allocated when not given; at least `raw.length` long) and returns it. */
  convert(raw: Uint16Array, out?: Float32Array): Float32Array {
    const n = raw.length;
    const dst = allocFloat(n, out, 'CountsToCelsius.convert');
    const table = this.#table;
    for (let i = 0; i < n; i++) dst[i] = table[raw[i]];
    return dst;
  }

  /**
   * Converts only the pixels of `region` (clipped to the frame) into the same places of `out`, a
   * frame-sized array; the rest of `out` is left as it was. For readers of a small region (the
   * blackbody) that need no whole frame.
   */
  convertRegion(raw: Uint16Array, width: number, region: PixelRect, out: Float32Array): Float32Array {
    if (out.length < raw.length) {
      throw new RangeError(
        `CountsToCelsius.convertRegion: output has ${out.length} pixels, needs ${raw.length}`,
      );
    }
    const height = Math.floor(raw.length / width);
    const x0 = Math.max(0, Math.floor(region.x));
    const y0 = Math.max(0, Math.floor(region.y));
    const x1 = Math.min(width, Math.ceil(region.x + region.width));
    const y1 = Math.min(height, Math.ceil(region.y + region.height));
    const table = this.#table;
    for (let y = y0; y < y1; y++) {
      const row = y * width;
      for (let i = row + x0; i < row + x1; i++) out[i] = table[raw[i]];
    }
    return out;
  }

  /**
   * Counts → °C and a linear correction in one pass: `out = c + offsetC + (gain − 1)·(c − pivotC)`
   * with c = the count's °C — the same arithmetic, in the same order, as converting and then
   * `applyReference` (calibration/reference.ts), so the values are identical; the frame is read and
   * written once instead of twice. `out` is allocated when not given.
   */
  convertCorrected(
    raw: Uint16Array,
    offsetC: number,
    gain: number,
    pivotC: number,
    out?: Float32Array,
  ): Float32Array {
    const n = raw.length;
    const dst = allocFloat(n, out, 'CountsToCelsius.convertCorrected');
    if (!(gain > 0.5 && gain < 2)) {
      throw new RangeError(`reference gain must be between 0.5 and 2, got ${gain}`);
    }
    const table = this.#table;
    const slope = gain - 1;
    if (slope === 0) {
      for (let i = 0; i < n; i++) dst[i] = table[raw[i]] + offsetC;
      return dst;
    }
    for (let i = 0; i < n; i++) {
      const c = table[raw[i]];
      dst[i] = c + offsetC + slope * (c - pivotC);
    }
    return dst;
  }
}

/** A rectangle of pixels (the reference's `Region`; declared here so radiometry needs no import). */
export interface PixelRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Converts raw counts with the camera's radiometry. `object` only matters for Planck cameras. */
export function rawToCelsius(
  raw: Uint16Array,
  radiometry: Radiometry,
  object: ObjectParameters = defaultObjectParameters,
  out?: Float32Array,
): Float32Array {
  switch (radiometry.kind) {
    case 'tlinear':
      return tlinearToCelsius(raw, radiometry.resolutionK, out);
    case 'linear':
      return linearToCelsius(raw, radiometry.gain, radiometry.offsetC, out);
    case 'planck':
      return planckToCelsius(raw, radiometry, object, out);
    default: {
      const unknown = radiometry as { kind?: unknown };
      throw new RangeError(
        `unknown radiometry kind ${JSON.stringify(unknown.kind)}; allowed: tlinear, linear, planck`,
      );
    }
  }
}

function clampRound(value: number): number {
  // NaN (no temperature) encodes as 0, the bottom of the range.
  if (!(value > 0)) return 0;
  if (value >= RAW_MAX) return RAW_MAX;
  return Math.round(value);
}

/**
 * °C → raw counts: the exact inverse of `rawToCelsius` for the same radiometry and object parameters,
 * rounded to the nearest count and clamped to 0..65535. The scene simulator encodes its truth with it.
 */
export function celsiusToRaw(
  celsius: Float32Array,
  radiometry: Radiometry,
  object: ObjectParameters = defaultObjectParameters,
  out?: Uint16Array,
): Uint16Array {
  const n = celsius.length;
  const dst = allocRaw(n, out);
  switch (radiometry.kind) {
    case 'tlinear':
    case 'linear': {
      const gain = radiometry.kind === 'tlinear' ? radiometry.resolutionK : radiometry.gain;
      const offsetC = radiometry.kind === 'tlinear' ? -KELVIN_OFFSET : radiometry.offsetC;
      if (gain === 0) throw new RangeError('celsiusToRaw: linear gain must not be 0');
      const inverseGain = 1 / gain;
      for (let i = 0; i < n; i++) dst[i] = clampRound((celsius[i] - offsetC) * inverseGain);
      return dst;
    }
    case 'planck': {
      const { R1, R2, B, F, O } = radiometry;
      const { scale, shift } = planckSceneCorrection(radiometry, object);
      const inverseScale = 1 / scale;
      const r1OverR2 = R1 / R2;
      for (let i = 0; i < n; i++) {
        const objectSignal = r1OverR2 / (Math.exp(B / (celsius[i] + KELVIN_OFFSET)) - F) - O;
        dst[i] = clampRound((objectSignal - shift) * inverseScale);
      }
      return dst;
    }
    default: {
      const unknown = radiometry as { kind?: unknown };
      throw new RangeError(
        `unknown radiometry kind ${JSON.stringify(unknown.kind)}; allowed: tlinear, linear, planck`,
      );
    }
  }
}
