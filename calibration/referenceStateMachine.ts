/**
 * The blackbody reference's state, one observation per frame. Screening is allowed only while the
 * state is `stable`: the appliance blocks it when the reference is missing, moved, occluded, drifting,
 * in a flat-field event, or the camera is warming up (as FevIR Scan2 and feverscreen do).
 *
 * Hysteresis: entering a blocking state takes one bad frame (safe side); leaving one takes good
 * frames for `stableForMs` without interruption, so the state does not flap.
 */

export type ReferenceStateName = 'warming' | 'stable' | 'occluded' | 'moved' | 'drifting' | 'ffc' | 'missing';

/** What the blackbody reference says about the current frame (the appliance's contract too). */
export interface ReferenceState {
  state: ReferenceStateName;
  /** Why the state is what it is, for people ("blackbody reading 33.1 °C, 1.9 °C from the set point"). */
  reason: string;
  /** Robust reading of the blackbody region, after emissivity correction; null when not visible. */
  measuredC: number | null;
  setpointC: number;
  /** Smoothed `setpoint − measured` applied to the frame. */
  offsetC: number;
  /** Standard deviation of the reference region's interior pixels. */
  noiseC: number | null;
  /** Gain applied when two references or set points are configured (1 otherwise). */
  gain: number;
}

import {
  correctEmissivity,
  type DiscRegion,
  discBounds,
  discReadArea,
  type FindBlackbodyOptions,
  findBlackbodyRegion,
  type OffsetFilterOptions,
  ReferenceOffsetFilter,
  type Region,
  type RegionReadingOptions,
  readDisc,
  readRegion,
  regionReadArea,
  twoPointGain,
} from './reference.ts';

export interface ReferenceObservation {
  /** Frame time, ms (monotonic within a camera). */
  timeMs: number;
  /** Robust reading of the reference region (emissivity-corrected), °C; null when no region / no frame. */
  readingC: number | null;
  /** Standard deviation of the region's interior, °C. */
  noiseC: number | null;
  /** 90th − 10th percentile of the region's interior, °C. */
  spreadC: number | null;
  /** Fraction of region pixels far from the rest (partial cover). */
  farFraction: number | null;
  /** The sensor is in a flat-field (shutter) event. */
  flatField: boolean;
}

export interface ReferenceStateMachineOptions {
  setpointC: number;
  /** Camera warm-up from the first observation, ms (microbolometers need ≥ 30 min). */
  warmupMs?: number;
  /** Good frames needed, uninterrupted, to become stable (and to recover), ms. */
  stableForMs?: number;
  /** Largest max − min of the reading over `stableForMs` that counts as steady, °C. */
  steadyRangeC?: number;
  /** How far the uncorrected reading may sit from the set point (absolute accuracy of the core), °C. */
  setpointToleranceC?: number;
  /** A shift of the reading this large (°C) from the level learnt while stable is a fault. */
  levelShiftC?: number;
  /**
   * A moved blackbody that sits steady, uniform and near the set point at a new level for this long is
   * accepted at that level (it was put back elsewhere), ms. Until then screening stays blocked.
   */
  relevelAfterMs?: number;
  /** Fraction of far pixels that means something covers part of the region. */
  occludedFarFraction?: number;
  /** Largest interior SD (°C) / spread of a usable blackbody. */
  maxNoiseC?: number;
  maxSpreadC?: number;
  /** A level or uniformity fault lasting this long is a moved (not briefly occluded) blackbody, ms. */
  movedAfterMs?: number;
  /**
   * Fastest acceptable change of the reading, °C per minute, measured over `driftWindowMs`. Drift
   * itself is what the blackbody corrects; this limit is about the correction keeping up (see
   * STATE_MACHINE_DEFAULTS).
   */
  maxDriftCPerMin?: number;
  driftWindowMs?: number;
  /** Readings stay blocked this long after a flat-field event ends, ms. */
  ffcSettleMs?: number;
  /** Time constant of the level the shift test compares against, ms (follows slow drift). */
  levelTimeConstantMs?: number;
}

/**
 * `maxDriftCPerMin`: the blackbody exists to correct drift, so drift alone is no reason to block; the
 * block is for an offset changing faster than the per-frame correction can follow. The offset filter
 * (median of 5 frames, then exponential, τ = 5 s; reference.ts) trails a ramp of r °C/s by
 * r × (τ + ≈ 0.2 s median delay) ≈ r × 5.2 s. At 0.6 °C/min (0.01 °C/s) that is ≈ 0.05 °C, the bias
 * budget of a screening reading (±0.05 °C) and a quarter of its p95 budget (0.2 °C); faster, the lag
 * alone would use the budget. A warmed-up core drifts a few hundredths of a °C per minute; 0.6 °C/min
 * means warm-up, a draft or sun on the camera, or a failing blackbody. The slope is a least-squares
 * fit over 30 s of blackbody readings (each a mean of ≈ 200 pixels, ≈ 0.004 °C noise at 50 mK), so
 * its own noise (≈ 0.002 °C/min) is far below the limit. A flat-field event re-zeroes the offset in
 * one step: that step is not drift (the correction restarts at the new level, ReferenceTracker), so it
 * is taken out of the history before the slope is fitted.
 */
export const STATE_MACHINE_DEFAULTS = {
  warmupMs: 30 * 60_000,
  stableForMs: 10_000,
  steadyRangeC: 0.2,
  setpointToleranceC: 5,
  levelShiftC: 0.5,
  relevelAfterMs: 30_000,
  occludedFarFraction: 0.1,
  maxNoiseC: 0.3,
  maxSpreadC: 0.6,
  movedAfterMs: 3_000,
  maxDriftCPerMin: 0.6,
  driftWindowMs: 30_000,
  ffcSettleMs: 2_000,
  levelTimeConstantMs: 30_000,
} as const;

export interface ReferenceTransition {
  state: ReferenceStateName;
  reason: string;
  changed: boolean;
  previous: ReferenceStateName | null;
  /** True only while `stable`. */
  screeningAllowed: boolean;
}

type Fault = { state: ReferenceStateName; reason: string };
/** partial: part of the region covered; level/uniformity: the whole region changed (moved if it lasts). */
type FrameFault = { kind: 'partial' | 'level' | 'level-shift' | 'uniformity'; reason: string };

const f2 = (v: number): string => v.toFixed(2);

export class ReferenceStateMachine {
  readonly #o: Required<ReferenceStateMachineOptions>;
  #state: ReferenceStateName = 'warming';
  #startMs: number | null = null;
  #lastTimeMs: number | null = null;
  /** Start of the current uninterrupted run of good frames. */
  #goodSinceMs: number | null = null;
  #faultSinceMs: number | null = null;
  #flatFieldEndedMs: number | null = null;
  #inFlatField = false;
  /** State before the flat-field event, to resume without a new stability wait. */
  #beforeFlatField: ReferenceStateName | null = null;
  /** Level of the reading learnt from good frames; shifts from it are faults. */
  #levelC: number | null = null;
  #frameGood = false;
  /** A steady run at a new level while moved: since when, and its range. */
  #relevelRun: { sinceMs: number; minC: number; maxC: number } | null = null;
  readonly #history: { timeMs: number; readingC: number }[] = [];
  /** A flat-field event ended since the last good frame: the next one re-bases the history. */
  #rebaseHistory = false;

  constructor(options: ReferenceStateMachineOptions) {
    this.#o = { ...STATE_MACHINE_DEFAULTS, ...options };
    if (!Number.isFinite(this.#o.setpointC)) {
      throw new RangeError(`setpointC must be a temperature in °C, got ${options.setpointC}`);
    }
  }

  /** Whether the last observation was free of faults (the offset may learn from it). */
  get frameGood(): boolean {
    return this.#frameGood;
  }

  get state(): ReferenceStateName {
    return this.#state;
  }

  /** Level the reading is compared with (°C), null before the first good frame. */
  get levelC(): number | null {
    return this.#levelC;
  }

  update(obs: ReferenceObservation): ReferenceTransition {
    if (this.#lastTimeMs !== null && obs.timeMs < this.#lastTimeMs) {
      throw new RangeError(`observation time went backwards: ${obs.timeMs} ms after ${this.#lastTimeMs} ms`);
    }
    const dt = this.#lastTimeMs === null ? 0 : obs.timeMs - this.#lastTimeMs;
    this.#lastTimeMs = obs.timeMs;
    this.#startMs ??= obs.timeMs;

    const previous = this.#state;
    const { state, reason } = this.#decide(obs, dt);
    this.#state = state;
    return { state, reason, changed: state !== previous, previous, screeningAllowed: state === 'stable' };
  }

  #decide(obs: ReferenceObservation, dt: number): Fault {
    const o = this.#o;
    const t = obs.timeMs;

    // Flat-field: hold through the event and for the settle time after it.
    this.#frameGood = false;
    if (obs.flatField) {
      if (!this.#inFlatField)
        this.#beforeFlatField = this.#state === 'ffc' ? this.#beforeFlatField : this.#state;
      this.#inFlatField = true;
      this.#goodSinceMs = null;
      return { state: 'ffc', reason: 'flat-field correction in progress: readings held' };
    }
    if (this.#inFlatField) {
      this.#inFlatField = false;
      this.#flatFieldEndedMs = t;
    }
    if (this.#flatFieldEndedMs !== null && t - this.#flatFieldEndedMs < o.ffcSettleMs) {
      return {
        state: 'ffc',
        reason: `settling after flat-field correction (${((t - this.#flatFieldEndedMs) / 1000).toFixed(1)} of ${(o.ffcSettleMs / 1000).toFixed(1)} s)`,
      };
    }
    const resumeAfterFlatField = this.#flatFieldEndedMs !== null && this.#beforeFlatField === 'stable';
    if (this.#flatFieldEndedMs !== null) this.#rebaseHistory = true;
    if (this.#state === 'ffc') this.#state = this.#beforeFlatField ?? 'warming';
    this.#flatFieldEndedMs = null;
    this.#beforeFlatField = null;

    if (obs.readingC === null || !Number.isFinite(obs.readingC)) {
      this.#goodSinceMs = null;
      this.#faultSinceMs ??= t;
      this.#history.length = 0;
      return { state: 'missing', reason: 'no blackbody region found in the frame' };
    }
    const reading = obs.readingC;
    const fault = this.#frameFault(obs, reading);
    this.#frameGood = fault === null;
    if (fault) {
      this.#goodSinceMs = null;
      this.#faultSinceMs ??= t;
      // A level or uniformity fault that persists is a moved blackbody; a partial cover stays "occluded".
      const persisted = t - this.#faultSinceMs >= o.movedAfterMs;
      const uniform = (obs.noiseC ?? 0) <= o.maxNoiseC && (obs.spreadC ?? 0) <= o.maxSpreadC;
      if (fault.kind !== 'level-shift' || !uniform) this.#relevelRun = null;
      else if (this.#state === 'moved' && this.#relevel(t, reading)) {
        return {
          state: 'moved',
          reason: `blackbody steady at a new level ${f2(reading)} °C: accepted, recovering`,
        };
      }
      if (fault.kind !== 'partial' && persisted) {
        // Readings before and after a move are not one time series: drift starts afresh.
        this.#history.length = 0;
        return {
          state: 'moved',
          reason: `for ${((t - this.#faultSinceMs) / 1000).toFixed(1)} s: ${fault.reason}`,
        };
      }
      return { state: this.#state === 'moved' ? 'moved' : 'occluded', reason: fault.reason };
    }
    this.#faultSinceMs = null;
    this.#relevelRun = null;
    this.#goodSinceMs ??= t;
    // The shutter re-zeroed the offset: readings before it are moved by the step, so the step (which
    // the offset correction takes at once) does not count as drift, while drift across it still does.
    if (this.#rebaseHistory && this.#history.length > 0) {
      const stepC = reading - this.#history[this.#history.length - 1].readingC;
      for (const p of this.#history) p.readingC += stepC;
    }
    this.#rebaseHistory = false;
    // Only good frames enter the drift and steadiness history: a cover is not a drift.
    this.#history.push({ timeMs: t, readingC: reading });
    while (this.#history.length > 0 && this.#history[0].timeMs < t - o.driftWindowMs) this.#history.shift();

    // Only good frames teach the level, so a shift is never absorbed; slow drift is followed.
    if (this.#levelC === null) this.#levelC = reading;
    else {
      const alpha = 1 - Math.exp(-dt / o.levelTimeConstantMs);
      this.#levelC += alpha * (reading - this.#levelC);
    }

    const drift = this.#driftCPerMin();
    const warm = t - this.#startMs! >= o.warmupMs;
    if (drift !== null && Math.abs(drift) > o.maxDriftCPerMin) {
      this.#goodSinceMs = t;
      return {
        state: 'drifting',
        reason: `blackbody reading changing ${f2(drift)} °C/min (allowed ±${f2(o.maxDriftCPerMin)})`,
      };
    }
    if (resumeAfterFlatField && warm) {
      return { state: 'stable', reason: 'flat-field correction over, reading unchanged' };
    }
    if (this.#state === 'stable') return { state: 'stable', reason: this.#stableReason(reading) };

    const goodForMs = t - this.#goodSinceMs;
    const steady = this.#steady(t);
    if (!warm) {
      return {
        state: 'warming',
        reason: `camera warming up (${Math.floor((t - this.#startMs!) / 1000)} of ${Math.round(o.warmupMs / 1000)} s)`,
      };
    }
    if (goodForMs >= o.stableForMs && steady) {
      // Re-anchor the level on recovery: a blackbody put back slightly elsewhere is fine once steady.
      this.#levelC = reading;
      return { state: 'stable', reason: this.#stableReason(reading) };
    }
    const waiting = `reading steady for ${(goodForMs / 1000).toFixed(1)} of ${(o.stableForMs / 1000).toFixed(1)} s`;
    return { state: this.#state, reason: this.#state === 'warming' ? waiting : `recovering: ${waiting}` };
  }

  /** Tracks a steady run at a new level; true (and re-anchors the level) once it lasted relevelAfterMs. */
  #relevel(t: number, reading: number): boolean {
    const run = this.#relevelRun;
    if (!run || Math.max(run.maxC, reading) - Math.min(run.minC, reading) > this.#o.steadyRangeC) {
      this.#relevelRun = { sinceMs: t, minC: reading, maxC: reading };
      return false;
    }
    run.minC = Math.min(run.minC, reading);
    run.maxC = Math.max(run.maxC, reading);
    if (t - run.sinceMs < this.#o.relevelAfterMs) return false;
    this.#levelC = reading;
    this.#relevelRun = null;
    this.#history.length = 0;
    return true;
  }

  /** Faults visible in this frame alone. */
  #frameFault(obs: ReferenceObservation, reading: number): FrameFault | null {
    const o = this.#o;
    if (obs.farFraction !== null && obs.farFraction >= o.occludedFarFraction) {
      return {
        kind: 'partial',
        reason: `${Math.round(obs.farFraction * 100)} % of the blackbody region differs from the rest: something covers it`,
      };
    }
    const fromSetpoint = reading - o.setpointC;
    if (Math.abs(fromSetpoint) > o.setpointToleranceC) {
      return {
        kind: 'level',
        reason: `reading ${f2(reading)} °C is ${f2(Math.abs(fromSetpoint))} °C from the set point ${f2(o.setpointC)} °C (allowed ${f2(o.setpointToleranceC)})`,
      };
    }
    if (this.#levelC !== null && Math.abs(reading - this.#levelC) > o.levelShiftC) {
      return {
        kind: 'level-shift',
        reason: `reading ${f2(reading)} °C jumped ${f2(reading - this.#levelC)} °C from the blackbody level ${f2(this.#levelC)} °C`,
      };
    }
    if (
      (obs.noiseC !== null && obs.noiseC > o.maxNoiseC) ||
      (obs.spreadC !== null && obs.spreadC > o.maxSpreadC)
    ) {
      return {
        kind: 'uniformity',
        reason: `reading region is not uniform (SD ${f2(obs.noiseC ?? 0)} °C, spread ${f2(obs.spreadC ?? 0)} °C; allowed ${f2(o.maxNoiseC)} / ${f2(o.maxSpreadC)})`,
      };
    }
    return null;
  }

  /** Least-squares slope of the reading over the drift window, °C/min; null until half the window is seen. */
  #driftCPerMin(): number | null {
    const h = this.#history;
    if (h.length < 3 || h[h.length - 1].timeMs - h[0].timeMs < this.#o.driftWindowMs / 2) return null;
    const n = h.length;
    let mt = 0;
    let mr = 0;
    for (const p of h) {
      mt += p.timeMs;
      mr += p.readingC;
    }
    mt /= n;
    mr /= n;
    let num = 0;
    let den = 0;
    for (const p of h) {
      num += (p.timeMs - mt) * (p.readingC - mr);
      den += (p.timeMs - mt) ** 2;
    }
    return den === 0 ? 0 : (num / den) * 60_000;
  }

  /** The reading stayed within `steadyRangeC` over the last `stableForMs`. */
  #steady(nowMs: number): boolean {
    const since = nowMs - this.#o.stableForMs;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const p of this.#history) {
      if (p.timeMs < since) continue;
      min = Math.min(min, p.readingC);
      max = Math.max(max, p.readingC);
    }
    return max - min <= this.#o.steadyRangeC;
  }

  #stableReason(reading: number): string {
    return `blackbody reading ${f2(reading)} °C, ${f2(this.#o.setpointC - reading)} °C from the set point ${f2(this.#o.setpointC)} °C`;
  }
}

export interface ReferenceTrackerOptions extends ReferenceStateMachineOptions {
  /** Configured blackbody region; when absent (and no disc) it is searched with `findBlackbodyRegion`. */
  region?: Region | null;
  /**
   * A circular blackbody (centre, radius), read from its interior. It wins over `region`; the
   * tracker's `region` is then the disc's bounding box (what the UI draws and detection excludes).
   */
  disc?: DiscRegion | null;
  /** Emissivity of the blackbody's surface (≥ 0.98 class; 0.97 for cheaper sources). */
  blackbodyEmissivity?: number;
  /** Temperature of what the blackbody reflects (the room), °C. */
  reflectedC?: number;
  reading?: RegionReadingOptions;
  find?: FindBlackbodyOptions;
  offsetFilter?: OffsetFilterOptions;
  /**
   * A second blackbody (or set point) in a configured region: its own smoothed offset and the
   * primary's give a gain (`twoPointGain`, pivot = the primary's smoothed measured reading
   * `setpointC − offsetC`). It never blocks screening: when it is unreadable or the gain implausible
   * the gain stays 1 and the reason says so.
   */
  secondary?: SecondaryReferenceOptions | null;
}

export interface SecondaryReferenceOptions {
  region: Region;
  setpointC: number;
  /** Emissivity of the second blackbody's surface; 1 when absent. */
  emissivity?: number;
}

/** How long a secondary that became unreadable keeps its last gain, ms. */
export const SECONDARY_HOLD_MS = 10_000;

/** A two-point gain outside this range means a wrong region or set point, not a camera. */
export const SECONDARY_GAIN_RANGE = { min: 0.8, max: 1.25 } as const;

export interface ReferenceFrameInput {
  capturedAt: number;
  width: number;
  height: number;
  celsius: Float32Array;
  flatField?: boolean;
  /** What the blackbody reflects (the room) in this frame, °C; overrides the configured value. */
  reflectedC?: number;
}

export interface ReferenceUpdate {
  reference: ReferenceState;
  changed: boolean;
  previous: ReferenceStateName | null;
  region: Region | null;
}

/**
 * Reads the blackbody in each frame, runs the state machine and keeps the smoothed offset.
 * The offset learns only from frames without faults (not during occlusion, movement or FFC), and
 * keeps its last value while blocked so the UI can show it.
 */
export class ReferenceTracker {
  readonly #options: ReferenceTrackerOptions;
  readonly #machine: ReferenceStateMachine;
  readonly #filter: ReferenceOffsetFilter;
  #region: Region | null;
  /** A flat-field event happened since the offset last learnt. */
  #flatFieldSinceLearn = false;
  readonly #secondaryFilter: ReferenceOffsetFilter | null;
  #secondaryFlatFieldSinceLearn = false;
  /** Last gain given, held through flat-field events (the shutter re-zeroes offset, not gain). */
  #gain = 1;
  /** When the last gain was learnt from a readable secondary, ms; null before. */
  #gainLearntAtMs: number | null = null;

  constructor(options: ReferenceTrackerOptions) {
    this.#options = options;
    this.#machine = new ReferenceStateMachine(options);
    this.#filter = new ReferenceOffsetFilter(options.offsetFilter);
    this.#region = options.disc ? discBounds(options.disc) : (options.region ?? null);
    const secondary = options.secondary;
    if (secondary) {
      if (!Number.isFinite(secondary.setpointC)) {
        throw new RangeError(`secondary setpointC must be a temperature in °C, got ${secondary.setpointC}`);
      }
      this.#secondaryFilter = new ReferenceOffsetFilter(options.offsetFilter);
    } else this.#secondaryFilter = null;
  }

  get region(): Region | null {
    return this.#region;
  }

  /**
   * The rectangles whose pixels the next `update` reads (its frame need hold valid °C only there),
   * or null when it searches the whole frame for the blackbody. Nothing when a flat-field frame.
   */
  regionsRead(flatField: boolean): Region[] | null {
    if (flatField) return [];
    if (this.#searches(flatField)) return null;
    const o = this.#options;
    const regions: Region[] = [];
    if (o.disc) regions.push(discReadArea(o.disc, o.reading));
    else if (this.#region) regions.push(regionReadArea(this.#region, o.reading));
    if (o.secondary) regions.push(regionReadArea(o.secondary.region, o.reading));
    return regions;
  }

  /** The blackbody is not configured and not (or no longer) where it was found: look for it. */
  #searches(flatField: boolean): boolean {
    const o = this.#options;
    return (
      !o.region &&
      !o.disc &&
      !flatField &&
      (this.#region === null || ['missing', 'moved'].includes(this.#machine.state))
    );
  }

  update(frame: ReferenceFrameInput): ReferenceUpdate {
    const o = this.#options;
    const flatField = frame.flatField === true;
    if (this.#searches(flatField)) {
      this.#region = findBlackbodyRegion(frame.celsius, frame.width, frame.height, o.setpointC, o.find);
    }
    const raw = flatField
      ? null
      : o.disc
        ? readDisc(frame.celsius, frame.width, frame.height, o.disc, o.reading)
        : this.#region
          ? readRegion(frame.celsius, frame.width, frame.height, this.#region, o.reading)
          : null;
    const reflectedC = frame.reflectedC ?? o.reflectedC ?? 22;
    const measuredC =
      raw === null ? null : correctEmissivity(raw.readingC, o.blackbodyEmissivity ?? 1, reflectedC);
    const transition = this.#machine.update({
      timeMs: frame.capturedAt,
      readingC: flatField ? null : measuredC,
      noiseC: raw?.noiseC ?? null,
      spreadC: raw?.spreadC ?? null,
      farFraction: raw?.farFraction ?? null,
      flatField,
    });
    if (flatField) this.#flatFieldSinceLearn = true;
    const learn = measuredC !== null && this.#machine.frameGood;
    if (learn) {
      // A flat-field event re-zeroes the core's offset in one step: restart the filter at the new
      // level instead of trailing the step for several time constants with the old one.
      if (this.#flatFieldSinceLearn) this.#filter.reset();
      this.#flatFieldSinceLearn = false;
      this.#filter.update(frame.capturedAt, o.setpointC - measuredC);
    }
    const secondary = this.#updateSecondary(frame, flatField, learn, reflectedC);
    return {
      reference: {
        state: transition.state,
        reason: secondary ? `${transition.reason}; ${secondary.note}` : transition.reason,
        measuredC: flatField ? null : measuredC,
        setpointC: o.setpointC,
        offsetC: this.#filter.offsetC ?? 0,
        noiseC: raw?.noiseC ?? null,
        gain: secondary?.gain ?? 1,
      },
      changed: transition.changed,
      previous: transition.previous,
      region: this.#region,
    };
  }
  /**
   * Reads the second reference and gives the gain, or null when none is configured. It learns only
   * in frames where the primary learns too, so both offsets describe the same moments (and both
   * restart after a flat-field event); a fault of its own only drops the gain to 1.
   */
  #updateSecondary(
    frame: ReferenceFrameInput,
    flatField: boolean,
    primaryLearnt: boolean,
    reflectedC: number,
  ): { gain: number; note: string } | null {
    const o = this.#options;
    const s = o.secondary;
    const filter = this.#secondaryFilter;
    if (!s || !filter) return null;
    if (flatField) {
      this.#secondaryFlatFieldSinceLearn = true;
      return {
        gain: this.#gain,
        note: `second reference held during flat-field correction (gain ${this.#gain.toFixed(3)})`,
      };
    }
    const m = { ...STATE_MACHINE_DEFAULTS, ...o };
    const raw = readRegion(frame.celsius, frame.width, frame.height, s.region, o.reading);
    let fault: string | null = null;
    let measuredC: number | null = null;
    if (raw === null) fault = 'its region is outside the frame';
    else {
      measuredC = correctEmissivity(raw.readingC, s.emissivity ?? 1, reflectedC);
      if (raw.farFraction >= m.occludedFarFraction) {
        fault = `${Math.round(raw.farFraction * 100)} % of its region differs from the rest: something covers it`;
      } else if (Math.abs(measuredC - s.setpointC) > m.setpointToleranceC) {
        fault = `reading ${f2(measuredC)} °C is ${f2(Math.abs(measuredC - s.setpointC))} °C from its set point ${f2(s.setpointC)} °C (allowed ${f2(m.setpointToleranceC)})`;
      } else if (raw.noiseC > m.maxNoiseC || raw.spreadC > m.maxSpreadC) {
        fault = `its region is not uniform (SD ${f2(raw.noiseC)} °C, spread ${f2(raw.spreadC)} °C)`;
      }
    }
    if (fault !== null || measuredC === null) {
      // Someone passing in front of it for a moment: keep the gain it just gave rather than jump
      // every reading; a longer fault drops the gain to 1.
      const heldForMs = this.#gainLearntAtMs === null ? null : frame.capturedAt - this.#gainLearntAtMs;
      if (heldForMs !== null && heldForMs <= SECONDARY_HOLD_MS && this.#gain !== 1) {
        return {
          gain: this.#gain,
          note: `second reference unusable, gain ${this.#gain.toFixed(3)} held: ${fault}`,
        };
      }
      this.#gain = 1;
      this.#gainLearntAtMs = null;
      return { gain: 1, note: `second reference unusable, gain 1: ${fault}` };
    }
    if (primaryLearnt) {
      if (this.#secondaryFlatFieldSinceLearn) filter.reset();
      this.#secondaryFlatFieldSinceLearn = false;
      filter.update(frame.capturedAt, s.setpointC - measuredC);
    }
    const primaryOffsetC = this.#filter.offsetC;
    const secondaryOffsetC = filter.offsetC;
    if (primaryOffsetC === null || secondaryOffsetC === null) {
      this.#gain = 1;
      return { gain: 1, note: 'second reference waiting for the primary, gain 1' };
    }
    let gain: number;
    try {
      gain = twoPointGain({
        measuredPrimaryC: o.setpointC - primaryOffsetC,
        setpointPrimaryC: o.setpointC,
        measuredSecondaryC: s.setpointC - secondaryOffsetC,
        setpointSecondaryC: s.setpointC,
      }).gain;
    } catch (error) {
      this.#gain = 1;
      return { gain: 1, note: `second reference implausible, gain 1: ${(error as Error).message}` };
    }
    if (!(gain >= SECONDARY_GAIN_RANGE.min && gain <= SECONDARY_GAIN_RANGE.max)) {
      this.#gain = 1;
      return {
        gain: 1,
        note: `second reference implausible, gain 1: two-point gain ${gain.toFixed(3)} is outside ${SECONDARY_GAIN_RANGE.min}–${SECONDARY_GAIN_RANGE.max} (check its region and set point)`,
      };
    }
    this.#gain = gain;
    this.#gainLearntAtMs = frame.capturedAt;
    return {
      gain,
      note: `second reference ${f2(s.setpointC - secondaryOffsetC)} °C at set point ${f2(s.setpointC)} °C, gain ${gain.toFixed(3)}`,
    };
  }
}
