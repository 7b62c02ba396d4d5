import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  constantOffsetModel,
  estimateCoreC,
  parseSkinCoreModel,
  type SkinCoreInput,
  type SkinCoreModel,
} from '../../calibration/skinCore.ts';

const shipped = JSON.parse(
  readFileSync(new URL('../../firmware-config/skin-core-model.json', import.meta.url), 'utf8'),
);
const model = parseSkinCoreModel(shipped.model);

/** FDA/PhysioNet facial–oral data (CC0), compact: see test/fixtures/fda/README.md. */
function fixture(): (SkinCoreInput & { oralC: number })[] {
  const lines = readFileSync(new URL('../fixtures/fda/fda-canthus-oral.csv', import.meta.url), 'utf8')
    .trim()
    .split('\n');
  const header = lines[0].split(',');
  return lines.slice(1).map((line) => {
    const cells = line.split(',');
    const get = (name: string) => {
      const v = cells[header.indexOf(name)];
      return v === '' ? null : Number(v);
    };
    return {
      canthusC: get('canthusC')!,
      faceMaxC: get('faceMaxC'),
      foreheadC: get('foreheadC'),
      ambientC: get('ambientC'),
      humidityPct: get('humidityPct'),
      distanceM: get('distanceM'),
      oralC: get('oralC')!,
    };
  });
}

describe('skin → core model', () => {
  it('never compresses the scale: 1 °C more at the canthus is 1 °C more estimated core', () => {
    for (const c of [34, 35.5, 36.5, 37.5, 38.5]) {
      const lower = estimateCoreC({ canthusC: c, ambientC: 22 }, model).estimatedCoreC;
      const higher = estimateCoreC({ canthusC: c + 1, ambientC: 22 }, model).estimatedCoreC;
      expect(higher - lower).toBeCloseTo(1, 10);
    }
  });

  it('the shipped model is the constant offset ≈ +1.26 °C fitted on the FDA data', () => {
    expect(model.kind).toBe('canthus-offset');
    expect(model.offsetC).toBeGreaterThan(1.2);
    expect(model.offsetC).toBeLessThan(1.32);
    expect(estimateCoreC({ canthusC: 36.24 }, model).estimatedCoreC).toBeCloseTo(36.24 + model.offsetC, 10);
    expect(shipped.provenance.crossValidation.folds).toBeGreaterThanOrEqual(5);
  });

  it('on the FDA fixture it does not hide fevers: febrile bias ≈ 0 and high sensitivity at 37.5 °C', () => {
    const rows = fixture();
    expect(rows.length).toBe(1208);
    const febrile = rows.filter((r) => r.oralC >= 37.5);
    const errors = febrile.map((r) => estimateCoreC(r, model).estimatedCoreC - r.oralC);
    const febrileBias = errors.reduce((a, b) => a + b, 0) / errors.length;
    expect(Math.abs(febrileBias)).toBeLessThan(0.1);
    const detected = febrile.filter((r) => estimateCoreC(r, model).estimatedCoreC >= 37.5).length;
    expect(detected / febrile.length).toBeGreaterThan(0.85);
    const afebrile = rows.filter((r) => r.oralC < 37.5);
    const cleared = afebrile.filter((r) => estimateCoreC(r, model).estimatedCoreC < 37.5).length;
    expect(cleared / afebrile.length).toBeGreaterThan(0.9);
  });

  it('bounds covariate terms and their sum, and ignores missing covariates', () => {
    const withCovariates: SkinCoreModel = {
      ...constantOffsetModel(1.25),
      covariates: [
        {
          name: 'ambientC',
          centreValue: 24,
          coefficientCPerUnit: -0.06,
          validRange: [18, 30],
          maxTermC: 0.3,
        },
        {
          name: 'faceMaxAboveCanthusC',
          centreValue: 0.3,
          coefficientCPerUnit: 0.8,
          validRange: [0, 1.1],
          maxTermC: 0.3,
        },
      ],
      maxCovariateSumC: 0.4,
    };
    const plain = estimateCoreC({ canthusC: 36 }, withCovariates);
    expect(plain.estimatedCoreC).toBeCloseTo(37.25, 10);
    expect(plain.termsC).toEqual({});
    // Ambient −40 °C is clamped to 18 °C: term +0.36, bounded to 0.3.
    const cold = estimateCoreC({ canthusC: 36, ambientC: -40 }, withCovariates);
    expect(cold.termsC.ambientC).toBeCloseTo(0.3, 10);
    // Both terms at their bound (0.3 + 0.3) are cut to the sum bound 0.4.
    const both = estimateCoreC({ canthusC: 36, ambientC: -40, faceMaxC: 40 }, withCovariates);
    expect(both.covariateSumC).toBeCloseTo(0.4, 10);
    expect(both.estimatedCoreC).toBeCloseTo(37.65, 10);
  });

  it('rejects models that would pull readings toward normal, and bad inputs', () => {
    expect(() => parseSkinCoreModel({ ...shipped.model, canthusSlope: 0.7 })).toThrow(
      /canthusSlope must be 1, got 0.7/,
    );
    expect(() => parseSkinCoreModel({ ...shipped.model, offsetC: 'x' })).toThrow(/offsetC must be a number/);
    expect(() => parseSkinCoreModel({ ...shipped.model, covariates: [{ name: 'age' }] })).toThrow(
      /covariate name must be one of/,
    );
    expect(() => estimateCoreC({ canthusC: Number.NaN }, model)).toThrow(
      /canthusC must be a finite temperature/,
    );
  });
});
