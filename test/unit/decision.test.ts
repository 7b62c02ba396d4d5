import { describe, expect, it } from 'vitest';
import {
  celsiusToFahrenheit,
  decide,
  fahrenheitToCelsius,
  fromCelsius,
  parseTemperature,
  toCelsius,
} from '../../calibration/decision.ts';

describe('decide', () => {
  const at = (estimatedCoreC: number, retestBandC?: number) =>
    decide({ estimatedCoreC, thresholdC: 37.5, retestBandC });

  it('is elevated exactly at the threshold and above, never retest', () => {
    expect(at(37.5)).toBe('elevated');
    expect(at(37.500001)).toBe('elevated');
    expect(at(41.2)).toBe('elevated');
  });

  it('is retest in [threshold − band, threshold), boundaries included exactly', () => {
    expect(at(37.49999)).toBe('retest');
    expect(at(37.2)).toBe('retest'); // 37.5 − 0.3 in floating point
    expect(at(37.35)).toBe('retest');
    expect(at(37.19999)).toBe('normal');
    expect(at(36.4)).toBe('normal');
  });

  it('uses the configured band, and band 0 gives only normal/elevated', () => {
    expect(at(37.05, 0.5)).toBe('retest');
    expect(at(37.0, 0.5)).toBe('retest');
    expect(at(36.99, 0.5)).toBe('normal');
    expect(at(37.49, 0)).toBe('normal');
    expect(at(37.5, 0)).toBe('elevated');
  });

  it('works with a °F threshold converted to °C (CDC 100.0 °F)', () => {
    const thresholdC = toCelsius(100, 'F');
    expect(decide({ estimatedCoreC: thresholdC, thresholdC })).toBe('elevated');
    expect(decide({ estimatedCoreC: 37.7, thresholdC })).toBe('retest');
  });

  it('rejects non-finite readings and implausible settings with the allowed range', () => {
    expect(() => at(Number.NaN)).toThrow(/estimatedCoreC must be a finite temperature/);
    expect(() => decide({ estimatedCoreC: 37, thresholdC: 99.5 })).toThrow(
      /thresholdC must be between 35 and 42 °C, got 99.5/,
    );
    expect(() => at(37, -0.1)).toThrow(/retestBandC must be between 0 and 1/);
  });
});

describe('temperature units', () => {
  it('converts both ways', () => {
    expect(fahrenheitToCelsius(212)).toBe(100);
    expect(fahrenheitToCelsius(100.4)).toBeCloseTo(38, 10);
    expect(celsiusToFahrenheit(37.5)).toBeCloseTo(99.5, 10);
    expect(fromCelsius(37.5, 'F')).toBeCloseTo(99.5, 10);
    expect(fromCelsius(37.5, 'C')).toBe(37.5);
    expect(() => toCelsius(37, 'K' as 'C')).toThrow(/must be "C" or "F"/);
  });

  it('parses thresholds with or without a unit', () => {
    expect(parseTemperature('37.5')).toBe(37.5);
    expect(parseTemperature('38C')).toBe(38);
    expect(parseTemperature('100.0F')).toBeCloseTo(37.7778, 4);
    expect(parseTemperature('100.4 °F')).toBeCloseTo(38, 10);
    expect(parseTemperature('100')).toBeCloseTo(37.7778, 4); // bare numbers ≥ 50 are °F
    expect(() => parseTemperature('hot')).toThrow(/number with an optional unit C or F/);
  });
});
