/**
 * Raw sensor counts → °C. Pure functions on typed arrays; no I/O.
 *
 * Supported models:
 * - TLinear (FLIR Lepton): counts are kelvin / resolution (0.01 K or 0.1 K per count).
 * - Linear: °C = counts × gain + offset (InfiRay-class cores: raw/64 = K).
 * - FLIR Planck: T = B / ln(R1 / (R2 · (S + O)) + F) − 273.15, where S is the raw signal corrected
 *   for emissivity, reflected radiation and atmospheric transmission.
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
}

export const KELVIN_OFFSET = 273.15;
