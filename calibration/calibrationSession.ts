/**
 * Calibration sessions, the pure part: measuring a blackbody on frames through candidate reference
 * values, the figures a session reports, the acceptance rule, and picking the blackbody among
 * candidate regions. No I/O; the appliance's calibration feature runs sessions on live frames.
 *
 * Every figure is computed from what the camera itself reads, not from the pipeline's corrected
 * output: frames carry the reference correction the pipeline applied (offset, and gain with two
 * references), and this removes it again (`removeReference` with the frame's `correction`), so a
 * session judges the raw sensor through the candidate values, independent of the calibration
 * currently in force.
 */
import {
  apparentTemperature,
  correctEmissivity,
  FIND_DEFAULTS,
  NO_CORRECTION,
  type ReferenceCorrection,
  ReferenceOffsetFilter,
  type Region,
  readRegion,
  removeReference,
} from './reference.ts';
import { STATE_MACHINE_DEFAULTS } from './referenceStateMachine.ts';

/** How much a blackbody's reading may change between the frames compared for a suggestion, °C. */
export const SUGGEST_MAX_RANGE_C = 0.3;

export type Suggestion =
  | { kind: 'one'; region: Region }
  | { kind: 'several'; regions: Region[] }
  | { kind: 'none' };

/** What a session needs of a frame (the appliance's ThermalFrame has all of it). */
export interface CalibrationFrame {
  capturedAt: number;
  width: number;
  height: number;
  /** Reference-corrected apparent temperatures, °C. */
  celsius: Float32Array;
  flatField: boolean;
  reflectedC: number;
  correction?: ReferenceCorrection;
}

/** The values a session measures through. */
export interface CandidateReference {
  region: Region;
  setpointC: number;
  emissivity: number;
  /** A second source at a known temperature: its error after correction checks the scale. */
  secondReference?: { region: Region; knownC: number; emissivity?: number } | null;
}

/** The acceptance rule's limits. */
export const ACCEPTANCE = {
  /** Spatial noise of the blackbody face (SD of its interior pixels, as the reference reports it), °C. */
  maxNoiseC: 0.1,
  /** Change of the raw reading over the window (least-squares slope × window), °C. */
  maxDriftC: 0.1,
  /** Default |corrected reading − set point|, °C. */
  toleranceC: 0.1,
  /** The running reference refuses a blackbody farther than this from its set point, °C. */
  maxOffsetC: STATE_MACHINE_DEFAULTS.setpointToleranceC,
  /** Laboratory accuracy required of a screening thermograph (IEC 80601-2-59), °C. */
  maxSecondReferenceErrorC: 0.5,
  minSamples: 5,
} as const;

export interface CalibrationFigures {
  /** Frames measured. */
  samples: number;
  /** Frames not measured: flat-field correction in progress, or the region gave no reading. */
  skipped: { flatField: number; noReading: number };
  /** Time between the first and the last sample, s. */
  windowS: number;
  /** Mean raw reading of the region (no reference offset), emissivity-corrected, °C. */
  readingC: number | null;
  /** Frame-to-frame SD of that reading about its trend, °C. */
  readingSdC: number | null;
  /** Mean spatial SD of the region's interior pixels (sensor noise + blackbody uniformity), °C. */
  noiseC: number | null;
  /** Change of the reading over the window from its least-squares slope, °C. */
  driftC: number | null;
  /** The offset the pipeline will apply with these values: set point − reading, °C. */
  offsetC: number | null;
  /** Mean reading after correction the way the pipeline corrects (filtered offset, frame by frame), °C. */
  correctedC: number | null;
  /** correctedC − set point, °C. */
  correctedErrorC: number | null;
  /** Largest |corrected − set point| of a single frame, °C. */
  correctedErrorMaxC: number | null;
  secondReference: {
    knownC: number;
    readingC: number | null;
    correctedC: number | null;
    /** Corrected reading − known temperature, °C. */
    errorC: number | null;
  } | null;
}

export interface Check {
  value: number | null;
  limit: number;
  /** How the value is compared with the limit. */
  rule: '≤' | '≥' | '|x| ≤';
  passed: boolean;
}

export interface Sample {
  t: number;
  readingC: number;
  spatialSdC: number;
  correctedC: number;
  second: { readingC: number; correctedC: number } | null;
}

/** What the sensor read at a pixel of this frame, before the pipeline's reference correction. */
export function uncorrectedC(frame: CalibrationFrame, correctedC: number): number {
  return removeReference(correctedC, frame.correction ?? NO_CORRECTION);
}

/** A blackbody measured frame by frame through candidate values; `figures()` sums it up. */
export class BlackbodyMeasurement {
  readonly samples: Sample[] = [];
  readonly skipped = { flatField: 0, noReading: 0 };
  /** The pipeline's own offset filter, fed with the candidate values: what the reference will do. */
  readonly filter = new ReferenceOffsetFilter();

  constructor(readonly request: CandidateReference) {}

  measure(frame: CalibrationFrame): void {
    if (frame.flatField) {
      this.skipped.flatField++;
      return;
    }
    const { region, setpointC, emissivity, secondReference } = this.request;
    const reading = readRegion(frame.celsius, frame.width, frame.height, region);
    if (!reading) {
      this.skipped.noReading++;
      return;
    }
    // Trimmed mean and SD shift with the frame, so removing the applied offset from the region's
    // reading is the same as reading the uncorrected frame.
    const reflectedC = frame.reflectedC;
    const apparentC = uncorrectedC(frame, reading.readingC);
    const readingC = correctEmissivity(apparentC, emissivity, reflectedC);
    const offsetTrueC = this.filter.update(frame.capturedAt, setpointC - readingC);
    const candidateApparentC =
      apparentTemperature(setpointC, emissivity, reflectedC) -
      apparentTemperature(setpointC - offsetTrueC, emissivity, reflectedC);
    const correctedC = correctEmissivity(apparentC + candidateApparentC, emissivity, reflectedC);
    let second: Sample['second'] = null;
    if (secondReference) {
      const r2 = readRegion(frame.celsius, frame.width, frame.height, secondReference.region);
      if (r2) {
        const e2 = secondReference.emissivity ?? emissivity;
        const apparent2C = uncorrectedC(frame, r2.readingC);
        second = {
          readingC: correctEmissivity(apparent2C, e2, reflectedC),
          correctedC: correctEmissivity(apparent2C + candidateApparentC, e2, reflectedC),
        };
      }
    }
    this.samples.push({ t: frame.capturedAt, readingC, spatialSdC: reading.noiseC, correctedC, second });
  }

  figures(): CalibrationFigures {
    const s = this.samples;
    const { setpointC, secondReference } = this.request;
    const n = s.length;
    const readingC = n ? mean(s.map((x) => x.readingC)) : null;
    const fit =
      n >= 3
        ? linearFit(
            s.map((x) => (x.t - s[0].t) / 1000),
            s.map((x) => x.readingC),
          )
        : null;
    const windowS = n ? (s[n - 1].t - s[0].t) / 1000 : 0;
    const correctedC = n ? mean(s.map((x) => x.correctedC)) : null;
    const seconds = s.flatMap((x) => (x.second ? [x.second] : []));
    const secondReadingC = seconds.length ? mean(seconds.map((x) => x.readingC)) : null;
    const secondCorrectedC = seconds.length ? mean(seconds.map((x) => x.correctedC)) : null;
    return {
      samples: n,
      skipped: { ...this.skipped },
      windowS: round(windowS, 2),
      readingC: round4(readingC),
      readingSdC: round4(fit ? fit.residualSd : null),
      noiseC: round4(n ? mean(s.map((x) => x.spatialSdC)) : null),
      driftC: round4(fit ? fit.slope * windowS : null),
      offsetC: round4(readingC === null ? null : setpointC - readingC),
      correctedC: round4(correctedC),
      correctedErrorC: round4(correctedC === null ? null : correctedC - setpointC),
      correctedErrorMaxC: round4(n ? Math.max(...s.map((x) => Math.abs(x.correctedC - setpointC))) : null),
      secondReference: secondReference
        ? {
            knownC: secondReference.knownC,
            readingC: round4(secondReadingC),
            correctedC: round4(secondCorrectedC),
            errorC: round4(secondCorrectedC === null ? null : secondCorrectedC - secondReference.knownC),
          }
        : null,
    };
  }
}

/** The acceptance rule on a session's figures. Pure. */
export function acceptanceChecks(figures: CalibrationFigures, toleranceC: number): Record<string, Check> {
  const atMost = (value: number | null, limit: number): Check => ({
    value,
    limit,
    rule: '≤',
    passed: value !== null && value <= limit,
  });
  const absAtMost = (value: number | null, limit: number): Check => ({
    value,
    limit,
    rule: '|x| ≤',
    passed: value !== null && Math.abs(value) <= limit,
  });
  const checks: Record<string, Check> = {
    samples: {
      value: figures.samples,
      limit: ACCEPTANCE.minSamples,
      rule: '≥',
      passed: figures.samples >= ACCEPTANCE.minSamples,
    },
    noiseC: atMost(figures.noiseC, ACCEPTANCE.maxNoiseC),
    driftC: absAtMost(figures.driftC, ACCEPTANCE.maxDriftC),
    correctedErrorC: absAtMost(figures.correctedErrorC, toleranceC),
    offsetC: absAtMost(figures.offsetC, ACCEPTANCE.maxOffsetC),
  };
  if (figures.secondReference) {
    checks.secondReferenceErrorC = absAtMost(
      figures.secondReference.errorC,
      ACCEPTANCE.maxSecondReferenceErrorC,
    );
  }
  return checks;
}

const CHECK_MEANING: Record<string, string> = {
  samples: 'frames measured',
  noiseC: 'noise of the blackbody region (°C)',
  driftC: 'drift of the raw reading over the window (°C)',
  correctedErrorC: 'reading after correction minus the set point (°C)',
  offsetC:
    'distance of the raw reading from the set point (°C): is the region really the blackbody at this set point?',
  secondReferenceErrorC: 'error at the second reference’s known temperature (°C)',
};

export function describeFailure(name: string, check: Check): string {
  const value = check.value === null ? 'no value' : String(check.value);
  return `${CHECK_MEANING[name] ?? name}: ${value}, allowed ${check.rule} ${check.limit}`;
}

/**
 * The blackbody among the regions found in the frames: uniform (interior SD within what
 * `findBlackbodyRegion` accepts) and steady (reading range ≤ SUGGEST_MAX_RANGE_C) in every frame.
 * Overlapping candidates are one place; the steadiest, most uniform of each place represents it.
 */
export function pickBlackbody(
  frames: { uncorrected: Float32Array; found: Region[] }[],
  width: number,
  height: number,
  trusted: Region | null | undefined,
): Suggestion {
  const candidates: Region[] = [];
  const add = (region: Region | null | undefined) => {
    if (!region || region.x + region.width > width || region.y + region.height > height) return;
    if (candidates.some((c) => sameRegion(c, region))) return;
    candidates.push({ ...region });
  };
  add(trusted);
  for (const f of frames) for (const region of f.found) add(region);
  const qualified: { region: Region; score: number }[] = [];
  for (const region of candidates) {
    const readings = frames.map((f) => readRegion(f.uncorrected, width, height, region));
    if (readings.some((r) => r === null)) continue;
    const levels = readings.map((r) => r!.readingC);
    const rangeC = Math.max(...levels) - Math.min(...levels);
    const noiseC = mean(readings.map((r) => r!.noiseC));
    if (rangeC > SUGGEST_MAX_RANGE_C || noiseC > FIND_DEFAULTS.maxNoiseC) continue;
    if (trusted && sameRegion(region, trusted)) return { kind: 'one', region };
    qualified.push({ region, score: rangeC + noiseC });
  }
  qualified.sort((a, b) => a.score - b.score);
  const places: Region[] = [];
  for (const { region } of qualified) if (!places.some((p) => overlaps(p, region))) places.push(region);
  if (places.length === 0) return { kind: 'none' };
  if (places.length === 1) return { kind: 'one', region: places[0] };
  return { kind: 'several', regions: places };
}

const sameRegion = (a: Region, b: Region) =>
  a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height;
const overlaps = (a: Region, b: Region) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/** Sets a region (and a 2-pixel margin) to NaN, which `findBlackbodyRegion` never takes. */
export function blank(values: Float32Array, width: number, height: number, region: Region): void {
  for (let y = Math.max(0, region.y - 2); y < Math.min(height, region.y + region.height + 2); y++) {
    for (let x = Math.max(0, region.x - 2); x < Math.min(width, region.x + region.width + 2); x++) {
      values[y * width + x] = Number.NaN;
    }
  }
}

function mean(values: number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Least-squares line through (x, y): slope and the SD of the residuals. */
function linearFit(x: number[], y: number[]): { slope: number; residualSd: number } {
  const n = x.length;
  const mx = mean(x);
  const my = mean(y);
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (x[i] - mx) * (y[i] - my);
    den += (x[i] - mx) ** 2;
  }
  const slope = den === 0 ? 0 : num / den;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (y[i] - my - slope * (x[i] - mx)) ** 2;
  return { slope, residualSd: n > 2 ? Math.sqrt(squares / (n - 2)) : 0 };
}

export const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
const round4 = (value: number | null) => (value === null || !Number.isFinite(value) ? null : round(value, 4));
