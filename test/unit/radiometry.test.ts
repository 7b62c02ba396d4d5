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
 * Expected °C were computed by hand with FLIR's published formula (τ over √d, as ExifTool's forum and FLIR's
 * software; not Thermimage's two half paths) in double precision (Python),
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
    // raw 17418 is the coldest pixel of sample_images_09 (after the PNG byte swap); FLIR's model gives 18.5786.
    const c = planckToCelsius(
      u16(17418, 20606),
      { ...I60, atmosphere: FLIR_STANDARD_ATMOSPHERE },
      I60_OBJECT,
    );
    expect(c[0]).toBeCloseTo(18.5786, 3);
    expect(Math.abs(c[0] - 18.6)).toBeLessThan(0.05);
    expect(c[1]).toBeCloseTo(34.2715, 3);
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
    // flirpy/Thermimage's half-path τ gives 9.56–12.58 (the README's 9.6–12.6); FLIR's τ over √50 m
    // attenuates less, so the 20 °C air pulls the reading less towards itself.
    expect(duo[0]).toBeCloseTo(9.7153, 3);
    expect(duo[1]).toBeCloseTo(12.6927, 3);
  });

  it('EX320 and E40 spot pixels agree with FLIR’s model and lie within 0.6 °C of the cameras’ displays', () => {
    // Spot positions from Meas1Params (EX320 159,119 raw 7061; E40 80,60 raw 19036). The cameras show
    // 32.6 °C and 27.7 °C; FLIR's model gives 32.061 and 28.239. The display reading is rounded and was
    // possibly made before the parameters in the file were edited, so only closeness is checked.
    const ex = planckToCelsius(u16(7061), EX320, {
      emissivity: 1,
      reflectedC: 19.9999938964844,
      atmosphereC: 19.9999938964844,
      distanceM: 2,
      humidityPct: 30.0000011920929,
    });
    expect(ex[0]).toBeCloseTo(32.0615, 3);
    expect(Math.abs(ex[0] - 32.6)).toBeLessThan(0.6);
    const e40 = planckToCelsius(u16(19036), E40, {
      emissivity: 0.949999988079071,
      reflectedC: 19.9999938964844,
      atmosphereC: 19.9999938964844,
      distanceM: 1,
      humidityPct: 50,
    });
    expect(e40[0]).toBeCloseTo(28.2393, 3);
    expect(Math.abs(e40[0] - 27.7)).toBeLessThan(0.6);
  });

  it('full model (emissivity, reflected, humid air at 10 m) matches FLIR’s model computed by hand', () => {
    // E=0.95, OD=10, RTemp=25, ATemp=30, RH=80, PR1=17096.453, PR2=0.046642166, PB=1428, PF=1, PO=-7340:
    // τ = 0.968681 over √10 m, 36.9299 °C (Thermimage's two half paths: τ = 0.956885, 37.0097 °C).
    const object = { emissivity: 0.95, reflectedC: 25, atmosphereC: 30, distanceM: 10, humidityPct: 80 };
    expect(planckToCelsius(u16(11000), A640, object)[0]).toBeCloseTo(36.9299, 3);
    expect(atmosphericTransmission(A640.atmosphere, object)).toBeCloseTo(0.968681, 5);
    expect(planckToCelsius(u16(11000), A640, defaultObjectParameters)[0]).toBeCloseTo(36.5684, 3);
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

describe('FLIR atmosphere: decoding agrees with the published forward model', () => {
  // Written out here independently of the code under test: FLIR's published transmission and the
  // forward scene model raw = E·τ·obj + (1−E)·τ·refl + (1−τ)·atm (no window), counts rounded.
  const { alpha1: a1, alpha2: a2, beta1: b1, beta2: b2, X } = FLIR_STANDARD_ATMOSPHERE;
  const publishedTau = (d: number, t: number, rh: number) => {
    const h2o = (rh / 100) * Math.exp(1.5587 + 0.06939 * t - 0.00027816 * t ** 2 + 0.00000068455 * t ** 3);
    const k = Math.sqrt(d);
    return (
      X * Math.exp(-k * (a1 + b1 * Math.sqrt(h2o))) + (1 - X) * Math.exp(-k * (a2 + b2 * Math.sqrt(h2o)))
    );
  };
  const blackbodyRaw = (c: number) =>
    A640.R1 / (A640.R2 * (Math.exp(A640.B / (c + 273.15)) - A640.F)) - A640.O;

  for (const [distanceM, humidityPct, atmosphereC] of [
    [5, 50, 20],
    [10, 80, 30],
    [1, 30, 15],
    [25, 60, 22],
  ]) {
    it(`within 0.05 °C across 0–40 °C at ${distanceM} m, ${humidityPct} % RH, air ${atmosphereC} °C`, () => {
      const object = { emissivity: 0.98, reflectedC: 21, atmosphereC, distanceM, humidityPct };
      const tau = publishedTau(distanceM, atmosphereC, humidityPct);
      expect(atmosphericTransmission(FLIR_STANDARD_ATMOSPHERE, object)).toBeCloseTo(tau, 12);
      const truth: number[] = [];
      const raw = new Uint16Array(81);
      for (let i = 0; i <= 80; i++) {
        const c = i / 2;
        truth.push(c);
        const signal =
          0.98 * tau * blackbodyRaw(c) +
          0.02 * tau * blackbodyRaw(21) +
          (1 - tau) * blackbodyRaw(atmosphereC);
        raw[i] = Math.round(signal);
      }
      const decoded = planckToCelsius(raw, A640, object);
      let worst = 0;
      for (let i = 0; i < truth.length; i++) worst = Math.max(worst, Math.abs(decoded[i] - truth[i]));
      expect(worst).toBeLessThan(0.05);
    });
  }

  it('no longer shows the ≈ 0.1 °C error of two half paths at 4 and 36 °C (5 m, 20 °C air)', () => {
    const object = { emissivity: 0.98, reflectedC: 20, atmosphereC: 20, distanceM: 5, humidityPct: 50 };
    const tau = publishedTau(5, 20, 50);
    for (const c of [4, 20, 36]) {
      const signal =
        0.98 * tau * blackbodyRaw(c) + 0.02 * tau * blackbodyRaw(20) + (1 - tau) * blackbodyRaw(20);
      const decoded = planckToCelsius(u16(Math.round(signal)), A640, object)[0];
      expect(Math.abs(decoded - c)).toBeLessThan(0.02);
    }
  });

  it('an IR window at the lens: raw/(E·τ·IRT) − (1−IRT)/(E·τ·IRT)·wind is inverted exactly', () => {
    const window = { transmission: 0.8, temperatureC: 25 };
    const object = {
      emissivity: 0.97,
      reflectedC: 20,
      atmosphereC: 20,
      distanceM: 3,
      humidityPct: 50,
      window,
    };
    const tau = publishedTau(3, 20, 50);
    const c = 36;
    const atObject = 0.97 * blackbodyRaw(c) + 0.03 * blackbodyRaw(20);
    const signal = 0.8 * (tau * atObject + (1 - tau) * blackbodyRaw(20)) + 0.2 * blackbodyRaw(25);
    const decoded = planckToCelsius(u16(Math.round(signal)), A640, object)[0];
    expect(Math.abs(decoded - c)).toBeLessThan(0.02);
    // Without the window the same counts read colder by more than a degree: the window matters.
    expect(planckToCelsius(u16(Math.round(signal)), A640, { ...object, window: undefined })[0]).toBeLessThan(
      c - 1,
    );
  });

  it('Thermimage raw2temp is the window-free model with the path split half-way', () => {
    // raw2temp(11000, E=0.95, OD=10, RTemp=25, ATemp=30, RH=80, A640 constants) = 37.0097 °C.
    const object = {
      emissivity: 0.95,
      reflectedC: 25,
      atmosphereC: 30,
      distanceM: 10,
      humidityPct: 80,
      window: { transmission: 1, temperatureC: 30, distanceFromCameraM: 5 },
    };
    expect(planckToCelsius(u16(11000), A640, object)[0]).toBeCloseTo(37.0097, 3);
  });
});

describe('rawToCelsius', () => {
  it('dispatches on the radiometry kind', () => {
    expect(rawToCelsius(u16(30815), { kind: 'tlinear', resolutionK: 0.01 })[0]).toBeCloseTo(35, 4);
    expect(rawToCelsius(u16(3500), { kind: 'linear', gain: 0.1, offsetC: -273.15 })[0]).toBeCloseTo(76.85, 3);
    expect(rawToCelsius(u16(11000), A640)[0]).toBeCloseTo(36.5684, 3); // default: skin at 1 m
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
