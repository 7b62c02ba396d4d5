/**
 * Skin (inner canthus) → core (oral) temperature. Pure: the coefficients come in as a parameter
 * (the appliance loads them from firmware-config/skin-core-model.json, written by scripts/fit-skin-core.ts).
 *
 * The model is an offset model: the canthus enters with slope exactly 1, so a hot canthus always
 * gives an equally hot estimate. Ordinary least squares of oral on canthus has a slope well below 1
 * and pulls fevers toward the mean (Healy et al. 2021 found devices hiding fevers that way), so it is
 * not used. Covariates (ambient, humidity, distance, face max, forehead) may add small terms around
 * their training means; each term and their sum are bounded, so they cannot move a reading far.
 */

export type SkinCoreCovariateName =
  | 'ambientC'
  | 'humidityPct'
  | 'distanceM'
  | 'faceMaxAboveCanthusC'
  | 'foreheadBelowCanthusC';

export interface SkinCoreCovariate {
  name: SkinCoreCovariateName;
  /** Value at which the term is zero (the training mean); a missing input counts as this value. */
  centreValue: number;
  /** °C added to the estimate per unit of (value − centreValue). */
  coefficientCPerUnit: number;
  /** Inputs are clamped into this range before use, so an odd input cannot make a large term. */
  validRange: [number, number];
  /** Largest |term| in °C. */
  maxTermC: number;
}

export interface SkinCoreModel {
  kind: 'canthus-offset';
  /** Always 1: the model never compresses the canthus scale (see module comment). */
  canthusSlope: 1;
  /** °C added to the canthus reading at the covariates' centre values. */
  offsetC: number;
  covariates: SkinCoreCovariate[];
  /** Largest |sum of covariate terms| in °C. */
  maxCovariateSumC: number;
}

export interface SkinCoreInput {
  /** Maximum inner-canthus temperature, °C, after the reference correction. Required. */
  canthusC: number;
  /** Whole-face maximum, °C. */
  faceMaxC?: number | null;
  /** Forehead maximum, °C. */
  foreheadC?: number | null;
  ambientC?: number | null;
  humidityPct?: number | null;
  distanceM?: number | null;
}

export interface SkinCoreEstimate {
  estimatedCoreC: number;
  /** Each covariate's contribution in °C (after bounding), for audit. */
  termsC: Partial<Record<SkinCoreCovariateName, number>>;
  covariateSumC: number;
}

/** The constant-offset model (Wang et al. 2022): core = canthus + offsetC. */
export function constantOffsetModel(offsetC: number): SkinCoreModel {
  return { kind: 'canthus-offset', canthusSlope: 1, offsetC, covariates: [], maxCovariateSumC: 0 };
}

const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value));

/** The covariate's raw value from the input, or null when the input does not carry it. */
export function covariateValue(name: SkinCoreCovariateName, input: SkinCoreInput): number | null {
  const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);
  switch (name) {
    case 'ambientC':
      return finite(input.ambientC) ? input.ambientC : null;
    case 'humidityPct':
      return finite(input.humidityPct) ? input.humidityPct : null;
    case 'distanceM':
      return finite(input.distanceM) ? input.distanceM : null;
    case 'faceMaxAboveCanthusC':
      return finite(input.faceMaxC) ? Math.max(0, input.faceMaxC - input.canthusC) : null;
    case 'foreheadBelowCanthusC':
      return finite(input.foreheadC) ? input.canthusC - input.foreheadC : null;
  }
}

export function estimateCoreC(input: SkinCoreInput, model: SkinCoreModel): SkinCoreEstimate {
  if (!Number.isFinite(input.canthusC)) {
    throw new RangeError(`canthusC must be a finite temperature in °C, got ${input.canthusC}`);
  }
  if (model.canthusSlope !== 1) {
    throw new RangeError(
      `skin-core model canthusSlope must be 1 (an offset model never pulls readings toward normal), got ${model.canthusSlope}`,
    );
  }
  const termsC: Partial<Record<SkinCoreCovariateName, number>> = {};
  let sum = 0;
  for (const covariate of model.covariates) {
    const raw = covariateValue(covariate.name, input);
    if (raw === null) continue;
    const value = clamp(raw, covariate.validRange[0], covariate.validRange[1]);
    const term = clamp(
      covariate.coefficientCPerUnit * (value - covariate.centreValue),
      -covariate.maxTermC,
      covariate.maxTermC,
    );
    termsC[covariate.name] = term;
    sum += term;
  }
  const covariateSumC = clamp(sum, -model.maxCovariateSumC, model.maxCovariateSumC);
  return { estimatedCoreC: input.canthusC + model.offsetC + covariateSumC, termsC, covariateSumC };
}

/** Checks a parsed JSON object (firmware-config/skin-core-model.json `model`) and returns it typed. */
export function parseSkinCoreModel(value: unknown): SkinCoreModel {
  const fail = (what: string): never => {
    throw new TypeError(`skin-core model: ${what}`);
  };
  if (typeof value !== 'object' || value === null) return fail('expected an object');
  const m = value as Record<string, unknown>;
  if (m.kind !== 'canthus-offset') fail(`kind must be "canthus-offset", got ${JSON.stringify(m.kind)}`);
  if (m.canthusSlope !== 1) fail(`canthusSlope must be 1, got ${JSON.stringify(m.canthusSlope)}`);
  if (typeof m.offsetC !== 'number' || !Number.isFinite(m.offsetC) || Math.abs(m.offsetC) > 5) {
    fail(`offsetC must be a number between -5 and 5 °C, got ${JSON.stringify(m.offsetC)}`);
  }
  if (typeof m.maxCovariateSumC !== 'number' || m.maxCovariateSumC < 0 || m.maxCovariateSumC > 1) {
    fail(`maxCovariateSumC must be a number between 0 and 1 °C, got ${JSON.stringify(m.maxCovariateSumC)}`);
  }
  if (!Array.isArray(m.covariates)) return fail('covariates must be an array');
  const names: SkinCoreCovariateName[] = [
    'ambientC',
    'humidityPct',
    'distanceM',
    'faceMaxAboveCanthusC',
    'foreheadBelowCanthusC',
  ];
  for (const c of m.covariates as Record<string, unknown>[]) {
    if (!names.includes(c?.name as SkinCoreCovariateName)) {
      fail(`covariate name must be one of ${names.join(', ')}, got ${JSON.stringify(c?.name)}`);
    }
    for (const key of ['centreValue', 'coefficientCPerUnit', 'maxTermC'] as const) {
      if (typeof c[key] !== 'number' || !Number.isFinite(c[key])) {
        fail(`covariate ${String(c.name)}: ${key} must be a number`);
      }
    }
    const range = c.validRange;
    if (!Array.isArray(range) || range.length !== 2 || !(range[0] < range[1])) {
      fail(`covariate ${String(c.name)}: validRange must be [min, max] with min < max`);
    }
  }
  return m as unknown as SkinCoreModel;
}
