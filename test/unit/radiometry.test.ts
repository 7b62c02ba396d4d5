import { describe, expect, it } from 'vitest';
import {
  atmosphericTransmission,
  blackbodyObjectParameters,
  celsiusToRaw,
  defaultObjectParameters,
  FLIR_STANDARD_ATMOSPHERE,
  linearToCelsius,
  type ObjectParameters,
  type PlanckConstants,
  planckToCelsius,
  type Radiometry,
  rawToCelsius,
  tlinearToCelsius,
} from '../../calibration/radiometry.ts';

const u16 = (...v: number[]) => Uint16Array.from(v);

/*
 * Constants and object parameters below are the literal values `exiftool -j -n` prints for the FLIR files
 * in shared/data/flir-radiometric (copies in test/fixtures/flir); raw counts are pixels of those files.
 * Expected °C were computed by hand with Thermimage's raw2temp formula in double precision (Python),
 * and are compared with what the camera itself displayed where the file shows a reading.
 */
const I60: PlanckConstants = {
  R1: 14307.259765625,
  R2: 0.0106280753389001,
  B: 1384.19995117188,
  F: 1,
  O: -5597,
};
const I60_OBJECT: ObjectParameters = {
  emissivity: 0.980000019073486,
  reflectedC: 20.9999938964844,
  atmosphereC: 19.9999938964844,
  distanceM: 1,
  humidityPct: 50,
};
const EX320: PlanckConstants = {
  R1: 17662.396484375,
  R2: 0.0523279123008251,
  B: 1448.19995117188,
  F: 1.29999995231628,
  O: -4096,
};
const E40: PlanckConstants = {
  R1: 15401.146484375,
  R2: 0.0111986007541418,
  B: 1406.30004882812,
  F: 1,
  O: -6063,
};
const T420: PlanckConstants = {
  R1: 16125.7880859375,
  R2: 0.010903412476182,
  B: 1420.09997558594,
  F: 1,
  O: -5588,
};
const DUO_PRO_R: PlanckConstants = { R1: 364058, R2: 1, B: 1428, F: 1, O: -228 };
const A640 = {
  kind: 'planck',
  R1: 17096.453,
  R2: 0.046642166,
  B: 1428,
  F: 1,
  O: -7340,
  atmosphere: { alpha1: 0.006569, alpha2: 0.01262, beta1: -0.002276, beta2: -0.00667, X: 1.9 },
} as const satisfies Radiometry;

describe('tlinearToCelsius', () => {
  it('reads centi-kelvin (Lepton high resolution)', () => {
    const c = tlinearToCelsius(u16(27315, 30815, 31015, 0), 0.01);
    expect(c[0]).toBeCloseTo(0, 4);
    expect(c[1]).toBeCloseTo(35, 4);
    expect(c[2]).toBeCloseTo(37, 4);
    expect(c[3]).toBeCloseTo(-273.15, 3);
  });
  it('reads deci-kelvin (Lepton low resolution)', () => {
    const c = tlinearToCelsius(u16(2732, 3082, 3104), 0.1);
    expect(c[0]).toBeCloseTo(0.05, 4);
    expect(c[1]).toBeCloseTo(35.05, 4);
    expect(c[2]).toBeCloseTo(37.25, 4);
  });
  it('refuses other resolutions', () => {
    expect(() => tlinearToCelsius(u16(1), 0.5 as 0.1)).toThrow(/0\.01 or 0\.1/);
  });
});

describe('linearToCelsius', () => {
  it('applies gain and offset (InfiRay raw/64 = K)', () => {
    const c = linearToCelsius(u16(19670, 17482), 1 / 64, -273.15);
    expect(c[0]).toBeCloseTo(34.19375, 4);
    expect(c[1]).toBeCloseTo(0.00625, 4);
  });
  it('writes into the given array and returns it', () => {
    const out = new Float32Array(4);
    expect(linearToCelsius(u16(10, 20), 0.5, 1, out)).toBe(out);
    expect(Array.from(out)).toEqual([6, 11, 0, 0]);
  });
  it('refuses an output array that is too short', () => {
    expect(() => linearToCelsius(u16(1, 2, 3), 1, 0, new Float32Array(2))).toThrow(/needs at least 3/);
  });
});

describe('planckToCelsius', () => {
  it('with emissivity 1 and no atmosphere is B / ln(R1/(R2(raw+O)) + F) − 273.15', () => {
    const raw = 17418;
    const expected = I60.B / Math.log(I60.R1 / (I60.R2 * (raw + I60.O)) + I60.F) - 273.15;
    const c = planckToCelsius(u16(raw), I60, blackbodyObjectParameters);
    expect(c[0]).toBeCloseTo(expected, 4);
    expect(c[0]).toBeCloseTo(18.6359, 3); // raw2temp by hand
  });

  it('FLIR i60: the coldest pixel matches the camera’s cold-spot marker (18.6 °C)', () => {
    // raw 17418 is the coldest pixel of sample_images_09 (after the PNG byte swap); raw2temp gives 18.5751.
    const c = planckToCelsius(
      u16(17418, 20606),
      { ...I60, atmosphere: FLIR_STANDARD_ATMOSPHERE },
      I60_OBJECT,
    );
    expect(c[0]).toBeCloseTo(18.5751, 3);
    expect(Math.abs(c[0] - 18.6)).toBeLessThan(0.05);
    expect(c[1]).toBeCloseTo(34.3051, 3);
  });

  it('FLIR T420 and Duo Pro R: coldest and hottest pixels match the files’ known ranges', () => {
    const t420 = planckToCelsius(u16(17899, 19192), T420, {
      emissivity: 0.949999988079071,
      reflectedC: 21.9999938964844,
      atmosphereC: 18.9999938964844,
      distanceM: 0,
      humidityPct: 50,
    });
    expect(t420[0]).toBeCloseTo(22.9425, 3); // README: 22.9–29.5 °C
    expect(t420[1]).toBeCloseTo(29.4971, 3);
    const duo = planckToCelsius(u16(2623, 2739), DUO_PRO_R, {
      emissivity: 0.93994140625,
      reflectedC: 19.9999938964844,
      atmosphereC: 19.9999938964844,
      distanceM: 50,
      humidityPct: 30.0000011920929,
    });
    expect(duo[0]).toBeCloseTo(9.5571, 3); // README: 9.6–12.6 °C
    expect(duo[1]).toBeCloseTo(12.5823, 3);
  });

  it('EX320 and E40 spot pixels agree with raw2temp and lie within 0.6 °C of the cameras’ displays', () => {
    // Spot positions from Meas1Params (EX320 159,119 raw 7061; E40 80,60 raw 19036). The cameras show
    // 32.6 °C and 27.7 °C; raw2temp gives 32.094 and 28.259. The display reading is rounded and was
    // possibly made before the parameters in the file were edited, so only closeness is checked.
    const ex = planckToCelsius(u16(7061), EX320, {
      emissivity: 1,
      reflectedC: 19.9999938964844,
      atmosphereC: 19.9999938964844,
      distanceM: 2,
      humidityPct: 30.0000011920929,
    });
    expect(ex[0]).toBeCloseTo(32.0944, 3);
    expect(Math.abs(ex[0] - 32.6)).toBeLessThan(0.6);
    const e40 = planckToCelsius(u16(19036), E40, {
      emissivity: 0.949999988079071,
      reflectedC: 19.9999938964844,
      atmosphereC: 19.9999938964844,
      distanceM: 1,
      humidityPct: 50,
    });
    expect(e40[0]).toBeCloseTo(28.2591, 3);
    expect(Math.abs(e40[0] - 27.7)).toBeLessThan(0.6);
  });

  it('full model (emissivity, reflected, humid air at 10 m) matches raw2temp computed by hand', () => {
    // raw2temp(11000, E=0.95, OD=10, RTemp=25, ATemp=30, RH=80, PR1=17096.453, PR2=0.046642166,
    //          PB=1428, PF=1, PO=-7340) = 37.0097 °C; τ = 0.956885.
    const object = { emissivity: 0.95, reflectedC: 25, atmosphereC: 30, distanceM: 10, humidityPct: 80 };
    expect(planckToCelsius(u16(11000), A640, object)[0]).toBeCloseTo(37.0097, 3);
    expect(atmosphericTransmission(A640.atmosphere, object)).toBeCloseTo(0.956885, 5);
    expect(planckToCelsius(u16(11000), A640, defaultObjectParameters)[0]).toBeCloseTo(36.6069, 3);
    expect(planckToCelsius(u16(11000), A640, blackbodyObjectParameters)[0]).toBeCloseTo(36.169, 3);
  });

  it('gives the same values through the lookup table used for large frames', () => {
    const small = new Uint16Array(1000);
    for (let i = 0; i < small.length; i++) small[i] = 9000 + i * 7;
    const large = new Uint16Array(640 * 512);
    for (let i = 0; i < large.length; i++) large[i] = small[i % small.length];
    const direct = planckToCelsius(small, A640, defaultObjectParameters);
    const table = planckToCelsius(large, A640, defaultObjectParameters);
    for (let i = 0; i < small.length; i++) expect(table[i]).toBe(direct[i]);
    // A different scene must not reuse the previous table.
    const other = planckToCelsius(large, A640, { ...defaultObjectParameters, emissivity: 0.9 });
    expect(other[0]).not.toBe(table[0]);
  });

  it('marks counts below the calibrated range as NaN instead of inventing a temperature', () => {
    const c = planckToCelsius(u16(0, 7340), A640, blackbodyObjectParameters);
    expect(Number.isNaN(c[0])).toBe(true);
    expect(Number.isNaN(c[1])).toBe(true);
  });

  it('refuses impossible emissivity', () => {
    expect(() => planckToCelsius(u16(1), A640, { ...defaultObjectParameters, emissivity: 0 })).toThrow(
      /emissivity must be in \(0, 1\]/,
    );
  });
});

describe('rawToCelsius', () => {
  it('dispatches on the radiometry kind', () => {
    expect(rawToCelsius(u16(30815), { kind: 'tlinear', resolutionK: 0.01 })[0]).toBeCloseTo(35, 4);
    expect(rawToCelsius(u16(3500), { kind: 'linear', gain: 0.1, offsetC: -273.15 })[0]).toBeCloseTo(76.85, 3);
    expect(rawToCelsius(u16(11000), A640)[0]).toBeCloseTo(36.6069, 3); // default: skin at 1 m
  });
  it('names the allowed kinds for an unknown one', () => {
    expect(() => rawToCelsius(u16(1), { kind: 'magic' } as unknown as Radiometry)).toThrow(
      /allowed: tlinear, linear, planck/,
    );
  });
  it('defaults describe skin at 1 m indoors', () => {
    expect(defaultObjectParameters).toEqual({
      emissivity: 0.98,
      reflectedC: 20,
      atmosphereC: 20,
      distanceM: 1,
      humidityPct: 50,
    });
  });
});

describe('celsiusToRaw', () => {
  const temperatures = Float32Array.from([20, 30, 34.5, 35, 36.2, 37.5, 40, 45]);
  const cases: [string, Radiometry, number][] = [
    // Half a count of the scale is the most rounding can move a temperature.
    ['tlinear 0.01', { kind: 'tlinear', resolutionK: 0.01 }, 0.005],
    ['tlinear 0.1', { kind: 'tlinear', resolutionK: 0.1 }, 0.05],
    ['linear raw/64', { kind: 'linear', gain: 1 / 64, offsetC: -273.15 }, 0.008],
    ['planck', A640, 0.01],
  ];
  for (const [name, radiometry, tolerance] of cases) {
    it(`is the inverse of rawToCelsius within rounding (${name})`, () => {
      const object = { emissivity: 0.97, reflectedC: 22, atmosphereC: 23, distanceM: 2, humidityPct: 40 };
      const raw = celsiusToRaw(temperatures, radiometry, object);
      const back = rawToCelsius(raw, radiometry, object);
      for (let i = 0; i < temperatures.length; i++) {
        expect(Math.abs(back[i] - temperatures[i])).toBeLessThanOrEqual(tolerance);
      }
      // Counts → °C → counts is exact.
      expect(Array.from(celsiusToRaw(back, radiometry, object))).toEqual(Array.from(raw));
    });
  }
  it('rounds and clamps to 0..65535', () => {
    const raw = celsiusToRaw(Float32Array.from([-300, 1000, Number.NaN, 35.004]), {
      kind: 'tlinear',
      resolutionK: 0.01,
    });
    expect(Array.from(raw)).toEqual([0, 65535, 0, 30815]);
  });
  it('writes into the given array', () => {
    const out = new Uint16Array(2);
    expect(
      celsiusToRaw(Float32Array.from([0, 1]), { kind: 'linear', gain: 1, offsetC: 0 }, undefined, out),
    ).toBe(out);
    expect(Array.from(out)).toEqual([0, 1]);
  });
});
