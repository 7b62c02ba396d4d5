/**
 * Relative screening mode (FLIR "screening mode"): compare each person with the people just before.
 * Baseline = mean of the last N normal readings with the highest and lowest dropped; alarm at
 * baseline + delta. Useful where the absolute calibration is weak (no blackbody). Pure state, no I/O.
 *
 * Before N readings exist:
 * - the first reading seeds the baseline and is `normal` (there is nothing to compare it with), so
 *   the operator should start the mode with a person known to be well;
 * - with 1–2 readings the baseline is their plain mean; from 3 on, the highest and lowest are dropped;
 * - `baselineComplete` stays false until N normal readings are held, for the UI to show
 *   "baseline forming (k of N)".
 * Elevated readings never enter the baseline, so a queue of fevers cannot raise it.
 */

export interface RelativeModeOptions {
  /** Normal readings kept for the baseline. */
  baselineSize?: number;
  /** Alarm when a reading is this far above the baseline, °C. */
  deltaC?: number;
}

export const RELATIVE_DEFAULTS = { baselineSize: 10, deltaC: 1.0 } as const;

export interface RelativeAssessment {
  decision: 'normal' | 'elevated';
  /** Baseline before this reading, °C (null for the seeding reading). */
  baselineC: number | null;
  /** The alarm level this reading was compared with, °C (null for the seeding reading). */
  alarmAtC: number | null;
  /** Normal readings in the baseline after this reading. */
  readingsInBaseline: number;
  baselineComplete: boolean;
}

export class RelativeBaseline {
  readonly #size: number;
  readonly #deltaC: number;
  readonly #normals: number[] = [];

  constructor(options: RelativeModeOptions = {}) {
    const { baselineSize, deltaC } = { ...RELATIVE_DEFAULTS, ...options };
    if (!(Number.isInteger(baselineSize) && baselineSize >= 3)) {
      throw new RangeError(
        `baselineSize must be an integer ≥ 3 (highest and lowest are dropped), got ${baselineSize}`,
      );
    }
    if (!(deltaC > 0 && deltaC <= 3))
      throw new RangeError(`deltaC must be between 0 and 3 °C, got ${deltaC}`);
    this.#size = baselineSize;
    this.#deltaC = deltaC;
  }

  /** Current baseline, °C, or null before the first reading. */
  get baselineC(): number | null {
    const n = this.#normals.length;
    if (n === 0) return null;
    const sorted = [...this.#normals].sort((a, b) => a - b);
    const kept = n >= 3 ? sorted.slice(1, -1) : sorted;
    return kept.reduce((a, b) => a + b, 0) / kept.length;
  }

  assess(readingC: number): RelativeAssessment {
    if (!Number.isFinite(readingC))
      throw new RangeError(`reading must be a finite temperature in °C, got ${readingC}`);
    const baselineC = this.baselineC;
    const alarmAtC = baselineC === null ? null : baselineC + this.#deltaC;
    const decision = alarmAtC !== null && readingC >= alarmAtC - 1e-9 ? 'elevated' : 'normal';
    if (decision === 'normal') {
      this.#normals.push(readingC);
      if (this.#normals.length > this.#size) this.#normals.shift();
    }
    return {
      decision,
      baselineC,
      alarmAtC,
      readingsInBaseline: this.#normals.length,
      baselineComplete: this.#normals.length >= this.#size,
    };
  }

  reset(): void {
    this.#normals.length = 0;
  }
}
