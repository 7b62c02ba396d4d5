import { describe, expect, it } from 'vitest';
import { RelativeBaseline } from '../../calibration/relativeMode.ts';

describe('RelativeBaseline', () => {
  it('the first person seeds the baseline and is normal', () => {
    const r = new RelativeBaseline();
    expect(r.baselineC).toBeNull();
    expect(r.assess(34.6)).toEqual({
      decision: 'normal',
      baselineC: null,
      alarmAtC: null,
      readingsInBaseline: 1,
      baselineComplete: false,
    });
    expect(r.baselineC).toBe(34.6);
  });

  it('alarms at baseline + delta (boundary included) before the baseline is complete', () => {
    const r = new RelativeBaseline({ deltaC: 1.0 });
    r.assess(34.5);
    r.assess(34.7); // baseline 34.6 (plain mean of two)
    expect(r.assess(35.59)).toMatchObject({ decision: 'normal', alarmAtC: 35.6 });
    // baseline of three drops highest and lowest: 34.7
    expect(r.assess(35.7)).toMatchObject({ decision: 'elevated', baselineC: 34.7 });
  });

  it('drops the highest and lowest of the last N normal readings', () => {
    const r = new RelativeBaseline({ baselineSize: 10, deltaC: 1 });
    const readings = [34.0, 34.2, 34.4, 34.6, 34.8, 34.3, 34.5, 34.1, 34.7, 35.2];
    for (const c of readings) r.assess(c);
    // sorted: 34.0 … 35.2; without 34.0 and 35.2 the mean is 34.45
    expect(r.baselineC).toBeCloseTo(34.45, 10);
    const eleventh = r.assess(34.4); // pushes 34.0 out
    expect(eleventh.readingsInBaseline).toBe(10);
    expect(eleventh.baselineComplete).toBe(true);
    expect(r.baselineC).toBeCloseTo((34.2 + 34.4 + 34.6 + 34.8 + 34.3 + 34.5 + 34.4 + 34.7) / 8, 10);
  });

  it('keeps elevated readings out of the baseline, so a run of fevers cannot raise it', () => {
    const r = new RelativeBaseline({ baselineSize: 5, deltaC: 1 });
    for (const c of [34.5, 34.5, 34.5]) r.assess(c);
    for (let i = 0; i < 20; i++) expect(r.assess(36).decision).toBe('elevated');
    expect(r.baselineC).toBe(34.5);
  });

  it('rejects bad settings and readings', () => {
    expect(() => new RelativeBaseline({ baselineSize: 2 })).toThrow(/integer ≥ 3/);
    expect(() => new RelativeBaseline({ deltaC: 0 })).toThrow(/deltaC must be between 0 and 3/);
    expect(() => new RelativeBaseline().assess(Number.NaN)).toThrow(/finite temperature/);
  });
});
