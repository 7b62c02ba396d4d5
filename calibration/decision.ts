/**
 * Screening decision from an estimated core temperature. Pure.
 *
 * `elevated` at or above the threshold; `retest` in the band just below it; `normal` below the band.
 * The band lies only below the threshold, so a reading at or above the threshold is never downgraded
 * to retest: near-threshold uncertainty only ever adds checks. Either `elevated` or `retest` asks staff
 * for a second look (a clinical thermometer for elevated, a new measurement after a short wait for
 * retest). On the FDA data (docs/skin-core-model.md) the 0.3 °C band raises sensitivity from ≈ 89 % to
 * ≈ 96 %.
 */

export type ScreeningDecision = 'normal' | 'elevated' | 'retest';

export interface DecisionInput {
  estimatedCoreC: number;
  /** Fever threshold on the estimated core temperature, °C (37.5 by default; 37.8 = 100.0 °F for CDC). */
  thresholdC: number;
  /** Width of the retest band below the threshold, °C; 0 disables retest. */
  retestBandC?: number;
}

export const DEFAULT_THRESHOLD_C = 37.5;
export const DEFAULT_RETEST_BAND_C = 0.3;
/** Comparisons tolerate float noise (37.5 − 0.3 is 37.2 up to 1e-15), not measurement noise. */
const EPSILON_C = 1e-9;

export function decide(input: DecisionInput): ScreeningDecision {
  const { estimatedCoreC, thresholdC } = input;
  const retestBandC = input.retestBandC ?? DEFAULT_RETEST_BAND_C;
  if (!Number.isFinite(estimatedCoreC)) {
    throw new RangeError(`estimatedCoreC must be a finite temperature in °C, got ${estimatedCoreC}`);
  }
  if (!(thresholdC >= 35 && thresholdC <= 42)) {
    throw new RangeError(`thresholdC must be between 35 and 42 °C, got ${thresholdC}`);
  }
  if (!(retestBandC >= 0 && retestBandC <= 1)) {
    throw new RangeError(`retestBandC must be between 0 and 1 °C, got ${retestBandC}`);
  }
  if (estimatedCoreC >= thresholdC - EPSILON_C) return 'elevated';
  if (retestBandC > 0 && estimatedCoreC >= thresholdC - retestBandC - EPSILON_C) return 'retest';
  return 'normal';
}

export type TemperatureUnit = 'C' | 'F';

export function fahrenheitToCelsius(f: number): number {
  return ((f - 32) * 5) / 9;
}

export function celsiusToFahrenheit(c: number): number {
  return (c * 9) / 5 + 32;
}

/** A temperature in the given unit, in °C. */
export function toCelsius(value: number, unit: TemperatureUnit): number {
  if (unit === 'C') return value;
  if (unit === 'F') return fahrenheitToCelsius(value);
  throw new RangeError(`temperature unit must be "C" or "F", got ${JSON.stringify(unit)}`);
}

/** A °C temperature in the given unit (for display). */
export function fromCelsius(celsius: number, unit: TemperatureUnit): number {
  if (unit === 'C') return celsius;
  if (unit === 'F') return celsiusToFahrenheit(celsius);
  throw new RangeError(`temperature unit must be "C" or "F", got ${JSON.stringify(unit)}`);
}

/**
 * Parses a threshold such as "37.5", "37.5C", "100.0F" or "100.4 °F" into °C. A bare number is read
 * as °C when below 50 and as °F otherwise (no fever threshold is ambiguous between the two).
 */
export function parseTemperature(text: string): number {
  const match = /^\s*(-?\d+(?:\.\d+)?)\s*(?:°\s*)?([CcFf])?\s*$/.exec(text);
  if (!match) {
    throw new RangeError(
      `temperature must be a number with an optional unit C or F (e.g. 37.5, 100.0F), got ${JSON.stringify(text)}`,
    );
  }
  const value = Number(match[1]);
  const unit = (match[2]?.toUpperCase() as TemperatureUnit | undefined) ?? (value < 50 ? 'C' : 'F');
  return toCelsius(value, unit);
}
