/**
 * Calibration sessions: an admin points the appliance at the blackbody (region, set point,
 * emissivity), the appliance measures it on the live frames for a while, the acceptance rule is
 * applied, and a passing session is committed to the history (the audit trail) and to the running
 * camera pipeline.
 *
 * Every figure is computed from what the camera itself reads, not from the pipeline's corrected
 * output: the frames on the bus carry the reference correction the pipeline applied (offset, and
 * gain with two references), and this removes it again (`removeReference` with the frame's
 * `correction`), so a session judges the raw sensor through the candidate values, independent of
 * the calibration currently in force.
 */
import { randomUUID } from 'node:crypto';
import {
  apparentTemperature,
  correctEmissivity,
  FIND_DEFAULTS,
  findBlackbodyRegion,
  NO_CORRECTION,
  ReferenceOffsetFilter,
  type Region,
  readRegion,
  removeReference,
} from '../calibration/reference.ts';
import { STATE_MACHINE_DEFAULTS } from '../calibration/referenceStateMachine.ts';
import type { ReferenceConfig } from './config/load.ts';
import { CanthusError } from './core/errors.ts';
import type { EventBus } from './core/eventBus.ts';
import { log } from './core/log.ts';
import type { ThermalFrame } from './core/types.ts';
import type { CalibrationHistory, CalibrationRecord } from './store/calibrations.ts';

/** What a session needs of a camera pipeline (CameraPipeline has all of it). */
export interface ReferenceTarget {
  readonly referenceConfig: ReferenceConfig;
  /** The region the running reference reads, a candidate when suggesting one. */
  readonly referenceRegion?: Region | null;
  /** The running reference's state: a `stable` reference's region is trusted when suggesting. */
  readonly reference?: { state: string } | null;
  setReference(reference: ReferenceConfig): void;
}

/** Region suggestion: frames compared (at least, spaced, observed at most) and what qualifies. */
const SUGGEST_MIN_FRAMES = 4;
const SUGGEST_GAP_MS = 250;
const SUGGEST_MAX_MS = 8_000;
/** How much a blackbody's reading may change between the compared frames, °C. */
const SUGGEST_MAX_RANGE_C = 0.3;
const SUGGEST_SEARCHES_PER_FRAME = 3;

type Suggestion = { kind: 'one'; region: Region } | { kind: 'several'; regions: Region[] } | { kind: 'none' };

export interface SessionRequest {
  cameraId: string;
  /** The blackbody's face in thermal pixels; omitted → found in the next live frame. */
  region?: Region;
  setpointC: number;
  emissivity: number;
  durationS: number;
  /** Largest |corrected reading − set point| accepted; 0.1 °C by default. */
  toleranceC?: number;
  /** A second source at a known temperature: its error after correction checks the scale. */
  secondReference?: { region: Region; knownC: number; emissivity?: number };
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

export const DURATION_LIMITS_S = { min: 5, max: 600 } as const;

export type SessionState = 'measuring' | 'measured' | 'verified' | 'committed' | 'discarded';

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

export interface Verification {
  passed: boolean;
  verifiedAt: string;
  verifiedBy: string;
  checks: Record<string, Check>;
  /** One sentence per failed check, for people. */
  failures: string[];
}

export interface SessionView {
  id: string;
  cameraId: string;
  state: SessionState;
  startedBy: string;
  startedAt: string;
  endsAt: string;
  durationS: number;
  elapsedS: number;
  /** 0 … 1 of the measuring window. */
  progress: number;
  values: { region: Region; setpointC: number; emissivity: number };
  /** True when the region was found automatically (check it on the live view). */
  regionSuggested: boolean;
  toleranceC: number;
  secondReference: SessionRequest['secondReference'] | null;
  figures: CalibrationFigures;
  verification: Verification | null;
  /** Set once committed. */
  calibrationId: string | null;
  endedBy: string | null;
}

export type SessionErrorKind = 'invalid' | 'not-found' | 'conflict' | 'unavailable' | 'unprocessable';

export class CalibrationSessionError extends CanthusError {
  constructor(
    readonly kind: SessionErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'CalibrationSessionError';
  }
}

interface Sample {
  t: number;
  readingC: number;
  spatialSdC: number;
  correctedC: number;
  second: { readingC: number; correctedC: number } | null;
}

/** What the sensor read at a pixel of this frame, before the pipeline's reference correction. */
function uncorrectedC(frame: ThermalFrame, correctedC: number): number {
  return removeReference(correctedC, frame.correction ?? NO_CORRECTION);
}

class Session {
  readonly id = randomUUID();
  state: SessionState = 'measuring';
  readonly samples: Sample[] = [];
  readonly skipped = { flatField: 0, noReading: 0 };
  verification: Verification | null = null;
  calibrationId: string | null = null;
  endedBy: string | null = null;
  endedAt: number | null = null;
  /** The pipeline's own offset filter, fed with the candidate values: what the reference will do. */
  readonly filter = new ReferenceOffsetFilter();
  unsubscribe: (() => void) | null = null;
  timer: NodeJS.Timeout | null = null;

  constructor(
    readonly request: Required<
      Pick<SessionRequest, 'cameraId' | 'setpointC' | 'emissivity' | 'durationS' | 'toleranceC'>
    > & {
      region: Region;
      secondReference: SessionRequest['secondReference'] | null;
    },
    readonly regionSuggested: boolean,
    readonly startedBy: string,
    readonly startedAt: number,
  ) {}

  get endsAt(): number {
    return this.startedAt + this.request.durationS * 1000;
  }

  measure(frame: ThermalFrame): void {
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

  view(now: number): SessionView {
    const until = this.state === 'measuring' ? now : Math.min(this.endedAt ?? now, this.endsAt);
    const elapsedS = Math.max(0, Math.min(this.request.durationS, (until - this.startedAt) / 1000));
    return {
      id: this.id,
      cameraId: this.request.cameraId,
      state: this.state,
      startedBy: this.startedBy,
      startedAt: new Date(this.startedAt).toISOString(),
      endsAt: new Date(this.endsAt).toISOString(),
      durationS: this.request.durationS,
      elapsedS: round(elapsedS, 1),
      progress: round(elapsedS / this.request.durationS, 3),
      values: {
        region: this.request.region,
        setpointC: this.request.setpointC,
        emissivity: this.request.emissivity,
      },
      regionSuggested: this.regionSuggested,
      toleranceC: this.request.toleranceC,
      secondReference: this.request.secondReference,
      figures: this.figures(),
      verification: this.verification,
      calibrationId: this.calibrationId,
      endedBy: this.endedBy,
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

function describeFailure(name: string, check: Check): string {
  const value = check.value === null ? 'no value' : String(check.value);
  return `${CHECK_MEANING[name] ?? name}: ${value}, allowed ${check.rule} ${check.limit}`;
}

export interface CalibrationSessionsOptions {
  bus: EventBus;
  history: CalibrationHistory;
  /** Camera id → its pipeline. */
  cameras: ReadonlyMap<string, ReferenceTarget>;
  now?: () => number;
  /** How long to wait for a live frame when a session starts. */
  firstFrameTimeoutMs?: number;
  /** Finished sessions are forgotten after this long. */
  keepFinishedMs?: number;
}

export class CalibrationSessions {
  readonly #bus: EventBus;
  readonly #history: CalibrationHistory;
  readonly #cameras: ReadonlyMap<string, ReferenceTarget>;
  readonly #now: () => number;
  readonly #firstFrameTimeoutMs: number;
  readonly #keepFinishedMs: number;
  readonly #sessions = new Map<string, Session>();
  /** Cameras with a session starting or measuring: one at a time per camera. */
  readonly #busy = new Set<string>();

  constructor(options: CalibrationSessionsOptions) {
    this.#bus = options.bus;
    this.#history = options.history;
    this.#cameras = options.cameras;
    this.#now = options.now ?? Date.now;
    this.#firstFrameTimeoutMs = options.firstFrameTimeoutMs ?? 5_000;
    this.#keepFinishedMs = options.keepFinishedMs ?? 3600_000;
  }

  get cameraIds(): string[] {
    return [...this.#cameras.keys()];
  }

  /** The calibration in force for a camera (the latest commit), or null when it runs on its configuration. */
  active(cameraId: string): CalibrationRecord | null {
    return this.#history.latest(cameraId);
  }

  history(cameraId?: string): readonly CalibrationRecord[] {
    return this.#history.list(cameraId);
  }

  /** Starts measuring; resolves once the first live frame fixed (or found) the region. */
  async start(request: SessionRequest, startedBy: string): Promise<SessionView> {
    this.#forgetOld();
    const target = this.#cameras.get(request.cameraId);
    if (!target) {
      throw new CalibrationSessionError(
        'invalid',
        `cameraId: unknown camera "${request.cameraId}" (allowed: ${this.cameraIds.join(', ')})`,
      );
    }
    if (!(request.durationS >= DURATION_LIMITS_S.min && request.durationS <= DURATION_LIMITS_S.max)) {
      throw new CalibrationSessionError(
        'invalid',
        `durationS: must be ${DURATION_LIMITS_S.min}–${DURATION_LIMITS_S.max} s (got ${request.durationS})`,
      );
    }
    if (this.#busy.has(request.cameraId)) {
      const running = [...this.#sessions.values()].find(
        (s) => s.request.cameraId === request.cameraId && s.state === 'measuring',
      );
      throw new CalibrationSessionError(
        'conflict',
        `camera "${request.cameraId}" is already being calibrated${running ? ` (session ${running.id})` : ''}: wait for it to end or discard it`,
      );
    }
    this.#busy.add(request.cameraId);
    try {
      let region: Region;
      let frame: ThermalFrame;
      if (request.region) {
        const frames = await this.#liveFrames(request.cameraId, () => true, this.#firstFrameTimeoutMs);
        region = request.region;
        frame = frames[0];
      } else {
        ({ region, frame } = await this.#suggestRegion(request.cameraId, target, request.setpointC));
      }
      checkInside('region', region, frame);
      if (request.secondReference)
        checkInside('secondReference.region', request.secondReference.region, frame);
      const session = new Session(
        {
          cameraId: request.cameraId,
          region,
          setpointC: request.setpointC,
          emissivity: request.emissivity,
          durationS: request.durationS,
          toleranceC: request.toleranceC ?? ACCEPTANCE.toleranceC,
          secondReference: request.secondReference ?? null,
        },
        request.region === undefined,
        startedBy,
        this.#now(),
      );
      this.#sessions.set(session.id, session);
      session.unsubscribe = this.#bus.on('frame.thermal', (next) => {
        if (next.cameraId !== session.request.cameraId) return;
        if (this.#now() >= session.endsAt) {
          this.#finish(session, 'measured');
          return;
        }
        session.measure(next);
      });
      session.timer = setTimeout(
        () => this.#finish(session, 'measured'),
        session.request.durationS * 1000 + 50,
      );
      session.timer.unref?.();
      log.info(
        { session: session.id, camera: request.cameraId, region, setpointC: request.setpointC, startedBy },
        'calibration session started',
      );
      return session.view(this.#now());
    } catch (error) {
      this.#busy.delete(request.cameraId);
      throw error;
    }
  }

  list(): SessionView[] {
    this.#forgetOld();
    const now = this.#now();
    return [...this.#sessions.values()].map((session) => session.view(now));
  }

  get(id: string): SessionView {
    return this.#session(id).view(this.#now());
  }

  /** Applies the acceptance rule; a session can be verified again (the last verdict counts). */
  verify(id: string, verifiedBy: string): SessionView {
    const session = this.#session(id);
    if (session.state === 'measuring') {
      const elapsedS = (this.#now() - session.startedAt) / 1000;
      throw new CalibrationSessionError(
        'conflict',
        `session ${id} is still measuring (${elapsedS.toFixed(1)} of ${session.request.durationS} s): verify when it has ended`,
      );
    }
    if (session.state === 'committed' || session.state === 'discarded') {
      throw new CalibrationSessionError('conflict', `session ${id} is ${session.state}: start a new session`);
    }
    const checks = acceptanceChecks(session.figures(), session.request.toleranceC);
    const failures = Object.entries(checks)
      .filter(([, check]) => !check.passed)
      .map(([name, check]) => describeFailure(name, check));
    session.verification = {
      passed: failures.length === 0,
      verifiedAt: new Date(this.#now()).toISOString(),
      verifiedBy,
      checks,
      failures,
    };
    session.state = 'verified';
    log.info({ session: id, passed: failures.length === 0, failures }, 'calibration session verified');
    return session.view(this.#now());
  }

  /** Appends a passing session to the history and applies it to the camera's running reference. */
  async commit(id: string, committedBy: string): Promise<CalibrationRecord> {
    const session = this.#session(id);
    if (session.state !== 'verified' || !session.verification?.passed) {
      const why =
        session.state === 'verified'
          ? `its verification failed (${session.verification?.failures.join('; ')})`
          : `it is ${session.state}`;
      throw new CalibrationSessionError(
        'conflict',
        `session ${id} cannot be committed: ${why}; only a passing verify can be committed`,
      );
    }
    const { cameraId, region, setpointC, emissivity, durationS } = session.request;
    const target = this.#cameras.get(cameraId)!;
    const record: CalibrationRecord = {
      id: randomUUID(),
      cameraId,
      committedBy,
      committedAt: new Date(this.#now()).toISOString(),
      values: { region: { ...region }, setpointC, emissivity },
      figures: {
        ...session.figures(),
        session: {
          id: session.id,
          startedBy: session.startedBy,
          startedAt: new Date(session.startedAt).toISOString(),
          durationS,
          regionSuggested: session.regionSuggested,
          toleranceC: session.request.toleranceC,
        },
      },
      verification: { ...session.verification },
    };
    // Claimed before the write, so a second commit of the same session is refused.
    session.state = 'committed';
    try {
      await this.#history.append(record, (history) => {
        const newer = history.find(
          (r) => r.cameraId === cameraId && Date.parse(r.committedAt) >= session.startedAt,
        );
        if (newer) {
          throw new CalibrationSessionError(
            'conflict',
            `calibration ${newer.id} was committed for camera "${cameraId}" by ${newer.committedBy} after this session started: start a new session`,
          );
        }
      });
    } catch (error) {
      session.state = 'verified';
      throw error;
    }
    session.calibrationId = record.id;
    session.endedBy = committedBy;
    session.endedAt ??= this.#now();
    target.setReference(referenceWithCalibration(target.referenceConfig, record));
    log.info(
      { calibration: record.id, camera: cameraId, values: record.values, committedBy },
      'calibration committed and applied',
    );
    return record;
  }

  discard(id: string, discardedBy: string): SessionView {
    const session = this.#session(id);
    if (session.state === 'committed') {
      throw new CalibrationSessionError(
        'conflict',
        `session ${id} is committed: it cannot be discarded (the history keeps it)`,
      );
    }
    if (session.state !== 'discarded') {
      this.#finish(session, 'discarded');
      session.endedBy = discardedBy;
      log.info({ session: id, discardedBy }, 'calibration session discarded');
    }
    return session.view(this.#now());
  }

  /** Ends every session's subscription and timer (appliance stop). */
  stop(): void {
    for (const session of this.#sessions.values()) {
      if (session.state === 'measuring') this.#finish(session, 'discarded');
    }
  }

  #finish(session: Session, state: 'measured' | 'discarded'): void {
    session.unsubscribe?.();
    session.unsubscribe = null;
    if (session.timer) clearTimeout(session.timer);
    session.timer = null;
    if (session.state === 'measuring') {
      this.#busy.delete(session.request.cameraId);
      session.endedAt = this.#now();
    }
    if (session.state === 'measuring' || state === 'discarded') session.state = state;
  }

  #session(id: string): Session {
    const session = this.#sessions.get(id);
    if (!session)
      throw new CalibrationSessionError(
        'not-found',
        `no calibration session ${id} (sessions are kept 1 h after they end)`,
      );
    return session;
  }

  /**
   * Collects live frames at least `SUGGEST_GAP_MS` apart (by capture time), until `enough` says so or the time runs out (then it resolves with
   * what it has). Refuses when not even one frame came.
   */
  #liveFrames(
    cameraId: string,
    enough: (frames: ThermalFrame[]) => boolean,
    timeoutMs: number,
  ): Promise<ThermalFrame[]> {
    return new Promise((resolve, reject) => {
      const frames: ThermalFrame[] = [];
      const finish = () => {
        off();
        clearTimeout(timer);
        resolve(frames);
      };
      const off = this.#bus.on('frame.thermal', (frame) => {
        if (frame.cameraId !== cameraId || frame.flatField) return;
        const last = frames[frames.length - 1];
        if (last && frame.capturedAt - last.capturedAt < SUGGEST_GAP_MS) return;
        frames.push(frame);
        if (enough(frames)) finish();
      });
      const timer = setTimeout(() => {
        if (frames.length > 0) {
          finish();
          return;
        }
        off();
        reject(
          new CalibrationSessionError(
            'unavailable',
            `camera "${cameraId}" delivered no usable frame for ${this.#firstFrameTimeoutMs / 1000} s: calibration needs a live camera (see GET /api/health)`,
          ),
        );
      }, timeoutMs);
    });
  }

  /**
   * Finds the blackbody over several live frames. `findBlackbodyRegion` looks at one frame, where a
   * person standing at the measurement point can look as flat; so every region it finds (three
   * searches per frame, each blanking the previous find) and the one the running reference tracks
   * become candidates, and a candidate must stay uniform and steady in every frame. People leave,
   * the blackbody stays: observation goes on (up to `SUGGEST_MAX_MS`) until one place is left. A
   * running reference that is stable on a qualifying region settles it at once. Still ambiguous at
   * the end → refused with the candidates, so the admin chooses.
   */
  async #suggestRegion(
    cameraId: string,
    target: ReferenceTarget,
    setpointC: number,
  ): Promise<{ region: Region; frame: ThermalFrame }> {
    const searched: { uncorrected: Float32Array; found: Region[] }[] = [];
    let verdict = { kind: 'none' } as Suggestion;
    const enough = (frames: ThermalFrame[]): boolean => {
      const frame = frames[frames.length - 1];
      const uncorrected = new Float32Array(frame.celsius.length);
      for (let i = 0; i < uncorrected.length; i++) uncorrected[i] = uncorrectedC(frame, frame.celsius[i]);
      const masked = Float32Array.from(uncorrected);
      const found: Region[] = [];
      for (let i = 0; i < SUGGEST_SEARCHES_PER_FRAME; i++) {
        const region = findBlackbodyRegion(masked, frame.width, frame.height, setpointC);
        if (!region) break;
        found.push(region);
        blank(masked, frame.width, frame.height, region);
      }
      searched.push({ uncorrected, found });
      if (frames.length < SUGGEST_MIN_FRAMES) return false;
      const trusted = target.reference?.state === 'stable' ? target.referenceRegion : null;
      verdict = pickBlackbody(searched, frame.width, frame.height, trusted);
      const observedMs = frame.capturedAt - frames[0].capturedAt;
      return verdict.kind === 'one' || observedMs >= SUGGEST_MAX_MS;
    };
    const frames = await this.#liveFrames(cameraId, enough, this.#firstFrameTimeoutMs + SUGGEST_MAX_MS);
    const frame = frames[frames.length - 1];
    if (verdict.kind === 'one') return { region: verdict.region, frame };
    if (verdict.kind === 'several') {
      const list = verdict.regions
        .map((r) => `{x: ${r.x}, y: ${r.y}, width: ${r.width}, height: ${r.height}}`)
        .join(', ');
      throw new CalibrationSessionError(
        'unprocessable',
        `region: several steady, uniform regions near ${setpointC} °C in camera "${cameraId}" (${list}): give the blackbody's region`,
      );
    }
    throw new CalibrationSessionError(
      'unprocessable',
      `region: no steady, uniform blackbody found near ${setpointC} °C in the live frames of camera "${cameraId}": ` +
        'check it is in view and at its set point, or give the region {x, y, width, height}',
    );
  }

  #forgetOld(): void {
    const now = this.#now();
    for (const [id, session] of this.#sessions) {
      if (
        session.state !== 'measuring' &&
        session.endedAt !== null &&
        now - session.endedAt > this.#keepFinishedMs
      ) {
        this.#sessions.delete(id);
      }
    }
  }
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
function blank(values: Float32Array, width: number, height: number, region: Region): void {
  for (let y = Math.max(0, region.y - 2); y < Math.min(height, region.y + region.height + 2); y++) {
    for (let x = Math.max(0, region.x - 2); x < Math.min(width, region.x + region.width + 2); x++) {
      values[y * width + x] = Number.NaN;
    }
  }
}

function checkInside(field: string, region: Region, frame: ThermalFrame): void {
  if (region.x + region.width > frame.width || region.y + region.height > frame.height) {
    throw new CalibrationSessionError(
      'invalid',
      `${field}: ${region.width}×${region.height} at (${region.x}, ${region.y}) does not fit the ${frame.width}×${frame.height} frame of camera "${frame.cameraId}"`,
    );
  }
}

/** The latest committed calibration of each camera: main applies these over the configured references. */
export function activeCalibrations(store: {
  calibrations: CalibrationHistory;
}): Map<string, CalibrationRecord> {
  const active = new Map<string, CalibrationRecord>();
  for (const record of store.calibrations.list()) active.set(record.cameraId, record);
  return active;
}

/** A reference configuration with a committed calibration's values on top. */
export function referenceWithCalibration(
  reference: ReferenceConfig,
  record: CalibrationRecord | null | undefined,
): ReferenceConfig {
  if (!record) return reference;
  const { region, setpointC, emissivity } = record.values;
  return { ...reference, region: { ...region }, setpointC, emissivity };
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

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
const round4 = (value: number | null) => (value === null || !Number.isFinite(value) ? null : round(value, 4));
