/**
 * One reading and one decision per person from the measurements of their track. Pure.
 *
 * Reading: the person's frames are ranked by quality (frames with any quality flag never count: the
 * reference was not stable, the face too far, turned, the eyes covered …); the best `windowFrames`
 * of them form the window (largest face, most frontal). The reading is the **median of the window's
 * canthus values**. Why the median and not the mean: single-frame errors are one-sided — a blink, a
 * slight turn, motion blur or a keypoint off the hot spot all read *lower*, nothing reads higher but
 * sensor noise — so a mean would average a fever down with the frames that missed the canthus; the
 * median ignores any minority of such frames. Why not a higher quantile (e.g. the median of the upper
 * half): each frame's value is already the warmest spot near the canthus (measure.ts locates the hot
 * spot and reads a noise-aware maximum there), so a second selection across frames only adds
 * upward noise bias (≈ +0.015 °C at NETD 50 mK in bench:accuracy) without protecting a fever any
 * better. Readings are never pulled toward normal: the model is an offset (slope 1), and nothing
 * here shrinks or clamps a reading.
 *
 * Decision: absolute mode → `decide()` (elevated at the threshold, retest in the band below it);
 * relative mode → baseline + delta (retest in the same band below the alarm level). Quality that is
 * only marginal (fewer good frames than `minGoodFrames`) turns a `normal` into `retest`, never an
 * `elevated` into anything lower. No good frame at all → `invalid` with the reasons, in words for the
 * person at the door.
 */
import { decide, fromCelsius, type TemperatureUnit } from '../../calibration/decision.ts';
import { estimateCoreC, type SkinCoreModel } from '../../calibration/skinCore.ts';
import type { PromptCode } from '../core/persons.ts';
import type { Decision, QualityFlag, ReferenceStateName } from '../core/types.ts';

/** A reason as a code (for the UI and the uplink) and in words (for the log and the CSV). */
export interface Reason {
  code: PromptCode;
  text: string;
}

/** One frame of a person, as the screening stage keeps it. */
export interface PersonSample {
  at: number;
  /** Inner-canthus skin temperature (reference- and emissivity-corrected), °C; null when not measured. */
  canthusC: number | null;
  faceMaxC: number | null;
  foreheadC: number | null;
  pixelsAcrossFace: number;
  yawDeg: number | null;
  flags: readonly QualityFlag[];
  referenceState: ReferenceStateName;
  /** The reference's reason when not stable ("blackbody partly covered …"). */
  referenceReason: string;
  referenceOffsetC: number;
  ambientC: number;
  /** The committed calibration the frame's reference ran on (null: the configuration's). */
  calibrationId?: string | null;
}

export interface ReadingRules {
  /** Frames in the best window. */
  windowFrames: number;
  /** Good frames for a full-confidence reading; fewer gives `retest` instead of `normal`. */
  minGoodFrames: number;
}

export const READING_DEFAULTS: ReadingRules = { windowFrames: 9, minGoodFrames: 3 };

export interface PersonReading {
  /** Canthus skin temperature, °C. */
  skinC: number;
  faceMaxC: number | null;
  foreheadC: number | null;
  ambientC: number;
  /** Good frames of the track, and how many formed the window. */
  goodFrames: number;
  windowFrames: number;
  /** Reference offset in use for the window's frames (median), °C. */
  referenceOffsetC: number;
  /** Time of the newest frame in the window. */
  at: number;
  /** The calibration in force for the window's newest frame (null: the configuration's). */
  calibrationId: string | null;
  /** Median pixels across the face over the window's frames (the measurement's resolution). */
  pixelsAcrossFace?: number;
}

/** A sample counts for the reading only when nothing is wrong with it. */
export function isGoodSample(sample: PersonSample): boolean {
  return (
    sample.flags.length === 0 &&
    sample.referenceState === 'stable' &&
    sample.canthusC !== null &&
    Number.isFinite(sample.canthusC)
  );
}

/** Larger faces and more frontal heads first (distance matters little, head turn a lot). */
export function sampleQuality(sample: PersonSample): number {
  const yaw = sample.yawDeg === null ? 10 : Math.abs(sample.yawDeg);
  return sample.pixelsAcrossFace * Math.max(0.05, 1 - yaw / 30);
}

/**
 * Glasses do not come off between two frames: when a good share of the frames where the person was
 * near enough show covered eyes, frames where the glasses test happened to pass read the cold glass
 * (or its rim), not a canthus. Such a person gets no reading.
 */
export const GLASSES_SHARE = 0.2;

export function wearsGlasses(samples: readonly PersonSample[]): boolean {
  const near = samples.filter((s) => !s.flags.includes('too-far'));
  if (near.length === 0) return false;
  return near.filter((s) => s.flags.includes('eyes-obstructed')).length >= GLASSES_SHARE * near.length;
}

export function personReading(
  samples: readonly PersonSample[],
  rules: ReadingRules = READING_DEFAULTS,
): PersonReading | null {
  if (wearsGlasses(samples)) return null;
  const good = samples.filter(isGoodSample);
  if (good.length === 0) return null;
  const window = [...good].sort((a, b) => sampleQuality(b) - sampleQuality(a)).slice(0, rules.windowFrames);
  return {
    skinC: median(window.map((s) => s.canthusC as number)),
    faceMaxC: medianOrNull(window.map((s) => s.faceMaxC)),
    foreheadC: medianOrNull(window.map((s) => s.foreheadC)),
    ambientC: median(window.map((s) => s.ambientC)),
    goodFrames: good.length,
    windowFrames: window.length,
    referenceOffsetC: median(window.map((s) => s.referenceOffsetC)),
    at: Math.max(...window.map((s) => s.at)),
    calibrationId: window.reduce((newest, s) => (s.at > newest.at ? s : newest)).calibrationId ?? null,
    pixelsAcrossFace: median(window.map((s) => s.pixelsAcrossFace)),
  };
}

export interface DecisionRulesConfig {
  mode: 'absolute' | 'relative';
  thresholdC: number;
  retestBandC: number;
  unit: TemperatureUnit;
  model: SkinCoreModel;
  /** Relative mode: alarm level (baseline + delta) before this person, °C of skin; null while the baseline is empty. */
  relativeAlarmAtC?: number | null;
}

export interface PersonDecision {
  decision: Decision;
  reasons: Reason[];
  skinC: number | null;
  estimatedCoreC: number | null;
}

/** The decision for a reading (null: no good frame; then `invalidReasons` say why). */
export function decideReading(
  reading: PersonReading | null,
  config: DecisionRulesConfig,
  rules: ReadingRules,
  invalidReasons: Reason[],
): PersonDecision {
  if (reading === null) {
    return { decision: 'invalid', reasons: invalidReasons, skinC: null, estimatedCoreC: null };
  }
  const estimatedCoreC = estimateCoreC(
    {
      canthusC: reading.skinC,
      faceMaxC: reading.faceMaxC,
      foreheadC: reading.foreheadC,
      ambientC: reading.ambientC,
    },
    config.model,
  ).estimatedCoreC;
  const reasons: Reason[] = [];
  const confirm = (text: string) => reasons.push({ code: 'confirm-with-thermometer', text });
  const again = (text: string) => reasons.push({ code: 'measure-again', text });
  let decision: Decision;
  if (config.mode === 'absolute') {
    decision = decide({ estimatedCoreC, thresholdC: config.thresholdC, retestBandC: config.retestBandC });
    if (decision === 'elevated') {
      confirm(
        `at or above ${formatTemperature(config.thresholdC, config.unit)}: confirm with a clinical thermometer`,
      );
    } else if (decision === 'retest') {
      again(`just below ${formatTemperature(config.thresholdC, config.unit)}: measure again`);
    }
  } else {
    const alarmAtC = config.relativeAlarmAtC ?? null;
    if (alarmAtC === null) {
      decision = 'normal';
      // Not a prompt for anyone: the reading is normal, the note says why no comparison was made.
      reasons.push({ code: 'measure-again', text: 'relative mode: first reading starts the baseline' });
    } else if (reading.skinC >= alarmAtC - 1e-9) {
      decision = 'elevated';
      confirm('well above the people before: confirm with a clinical thermometer');
    } else if (config.retestBandC > 0 && reading.skinC >= alarmAtC - config.retestBandC - 1e-9) {
      decision = 'retest';
      again('just below the alarm level of relative mode: measure again');
    } else {
      decision = 'normal';
    }
  }
  if (decision === 'normal' && reading.goodFrames < rules.minGoodFrames) {
    decision = 'retest';
    again(`only ${reading.goodFrames} good frame${reading.goodFrames === 1 ? '' : 's'}: measure again`);
  }
  return { decision, reasons, skinC: reading.skinC, estimatedCoreC };
}

/** In words for the person at the door (and staff), most common problem first. */
export const FLAG_REASONS: Record<QualityFlag, string> = {
  'too-far': 'too far: step closer to the mark',
  'not-frontal': 'not facing the camera: look at the camera',
  'eyes-obstructed': 'glasses: eyes not measurable (remove glasses)',
  'at-border': 'face at the edge of the picture: stand in the middle',
  'reference-not-stable': 'reference not stable',
  'faces-too-close': 'two faces too close: one person at a time',
  'flat-field': 'camera recalibrating: measure again',
  'no-canthus': 'eyes not found: look at the camera',
};

/** What the person at the door is asked to do about each quality flag. */
export const FLAG_PROMPTS: Record<QualityFlag, PromptCode> = {
  'too-far': 'come-closer',
  'not-frontal': 'look-at-camera',
  'eyes-obstructed': 'remove-glasses',
  'at-border': 'step-into-view',
  'reference-not-stable': 'reference-not-stable',
  'faces-too-close': 'one-at-a-time',
  'flat-field': 'camera-recalibrating',
  'no-canthus': 'eyes-not-found',
};

/** A flag of a frame as a reason (the reference's own state named in the words). */
export function flagReason(flag: QualityFlag, referenceState: ReferenceStateName): Reason {
  return {
    code: FLAG_PROMPTS[flag],
    text: flag === 'reference-not-stable' ? referenceReason(referenceState) : FLAG_REASONS[flag],
  };
}

const REFERENCE_REASONS: Record<ReferenceStateName, string> = {
  warming: 'camera warming up',
  stable: 'reference stable',
  occluded: 'blackbody occluded',
  moved: 'blackbody moved',
  drifting: 'blackbody reading drifting',
  ffc: 'camera recalibrating (shutter)',
  missing: 'blackbody not in view',
};

export function referenceReason(state: ReferenceStateName): string {
  return `reference not stable: ${REFERENCE_REASONS[state]}`;
}

export const NEVER_AT_MEASUREMENT_POINT: Reason = {
  code: 'never-at-measurement-point',
  text: 'never at the measurement point: step up to the mark',
};

/**
 * Why a person has no reading: the flags of the frames where they were close enough to be measured
 * (all frames when they never were), most frequent first; problems seen in fewer than a fifth of
 * those frames are left out unless nothing else is.
 */
export function invalidReasons(samples: readonly PersonSample[]): Reason[] {
  if (samples.length === 0) return [NEVER_AT_MEASUREMENT_POINT];
  const near = samples.filter((s) => !s.flags.includes('too-far'));
  if (near.length === 0) return [NEVER_AT_MEASUREMENT_POINT];
  const counts = new Map<string, { reason: Reason; frames: number }>();
  for (const sample of near) {
    const seen = new Map<string, Reason>();
    for (const flag of sample.flags) {
      const reason = flagReason(flag, sample.referenceState);
      seen.set(reason.text, reason);
    }
    if (sample.flags.length === 0 && sample.canthusC === null)
      seen.set(FLAG_REASONS['no-canthus'], flagReason('no-canthus', sample.referenceState));
    for (const reason of seen.values()) {
      const entry = counts.get(reason.text) ?? { reason, frames: 0 };
      entry.frames++;
      counts.set(reason.text, entry);
    }
  }
  if (wearsGlasses(samples)) {
    const glasses = flagReason('eyes-obstructed', 'stable');
    counts.set(glasses.text, { reason: glasses, frames: near.length });
  }
  const ranked = [...counts.values()].sort((a, b) => b.frames - a.frames);
  if (ranked.length === 0) return [NEVER_AT_MEASUREMENT_POINT];
  const common = ranked.filter(({ frames }) => frames >= near.length / 5);
  return (common.length > 0 ? common : ranked.slice(0, 1)).map(({ reason }) => reason);
}

export function formatTemperature(celsius: number, unit: TemperatureUnit): string {
  return `${fromCelsius(celsius, unit).toFixed(1)} °${unit}`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function medianOrNull(values: (number | null)[]): number | null {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return finite.length === 0 ? null : median(finite);
}
