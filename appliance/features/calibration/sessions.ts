/**
 * Calibration sessions: an admin points the appliance at the blackbody (region, set point,
 * emissivity), the appliance measures it on the live frames for a while, the acceptance rule is
 * applied, and a passing session is committed to the history (the audit trail) and published as
 * `calibration.committed`, which the camera applies. The figures and the rule are pure
 * (calibration/calibrationSession.ts); this is the part with time, frames and storage.
 */
import { randomUUID } from 'node:crypto';
import {
  ACCEPTANCE,
  acceptanceChecks,
  BlackbodyMeasurement,
  blank,
  type CalibrationFigures,
  type Check,
  describeFailure,
  pickBlackbody,
  round,
  type Suggestion,
  uncorrectedC,
} from '../../../calibration/calibrationSession.ts';
import { findBlackbodyRegion, type Region } from '../../../calibration/reference.ts';
import { ServiceError, type ServiceErrorKind } from '../../core/errors.ts';
import type { EventBus } from '../../core/eventBus.ts';
import { log } from '../../core/log.ts';
import type { CalibrationRecord } from '../../core/records.ts';
import type { ThermalFrame } from '../../core/types.ts';
import type { CalibrationHistory } from '../../store/calibrations.ts';

export { ACCEPTANCE } from '../../../calibration/calibrationSession.ts';

/** Region suggestion: frames compared (at least, spaced, observed at most) and what qualifies. */
const SUGGEST_MIN_FRAMES = 4;
const SUGGEST_GAP_MS = 250;
const SUGGEST_MAX_MS = 8_000;
const SUGGEST_SEARCHES_PER_FRAME = 3;

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

export const DURATION_LIMITS_S = { min: 5, max: 600 } as const;

export type SessionState = 'measuring' | 'measured' | 'verified' | 'committed' | 'discarded';

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

export type SessionErrorKind = Extract<
  ServiceErrorKind,
  'invalid' | 'not-found' | 'conflict' | 'unavailable' | 'unprocessable'
>;

export class CalibrationSessionError extends ServiceError {
  constructor(kind: SessionErrorKind, message: string) {
    super(kind, message);
    this.name = 'CalibrationSessionError';
  }
}

class Session extends BlackbodyMeasurement {
  readonly id = randomUUID();
  state: SessionState = 'measuring';
  verification: Verification | null = null;
  calibrationId: string | null = null;
  endedBy: string | null = null;
  endedAt: number | null = null;
  unsubscribe: (() => void) | null = null;
  timer: NodeJS.Timeout | null = null;

  constructor(
    override readonly request: Required<
      Pick<SessionRequest, 'cameraId' | 'setpointC' | 'emissivity' | 'durationS' | 'toleranceC'>
    > & {
      region: Region;
      secondReference: SessionRequest['secondReference'] | null;
    },
    readonly regionSuggested: boolean,
    readonly startedBy: string,
    readonly startedAt: number,
  ) {
    super(request);
  }

  get endsAt(): number {
    return this.startedAt + this.request.durationS * 1000;
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

export interface CalibrationSessionsOptions {
  bus: EventBus;
  history: CalibrationHistory;
  /** The cameras that can be calibrated. */
  cameraIds: readonly string[];
  now?: () => number;
  /** How long to wait for a live frame when a session starts. */
  firstFrameTimeoutMs?: number;
  /** Finished sessions are forgotten after this long. */
  keepFinishedMs?: number;
}

export class CalibrationSessions {
  readonly #bus: EventBus;
  readonly #history: CalibrationHistory;
  readonly #cameraIds: readonly string[];
  /** The latest frame's reference state and region per camera: a stable region is trusted when suggesting. */
  readonly #running = new Map<string, { state: string; region: Region | null }>();
  readonly #unsubscribe: () => void;
  readonly #now: () => number;
  readonly #firstFrameTimeoutMs: number;
  readonly #keepFinishedMs: number;
  readonly #sessions = new Map<string, Session>();
  /** Cameras with a session starting or measuring: one at a time per camera. */
  readonly #busy = new Set<string>();

  constructor(options: CalibrationSessionsOptions) {
    this.#bus = options.bus;
    this.#history = options.history;
    this.#cameraIds = options.cameraIds;
    this.#unsubscribe = this.#bus.on(
      'frame',
      (frame) =>
        this.#running.set(frame.cameraId, {
          state: frame.reference.state,
          region: frame.thermal.referenceRegion,
        }),
      { name: 'calibration.reference', delivery: 'inline' },
    );
    this.#now = options.now ?? Date.now;
    this.#firstFrameTimeoutMs = options.firstFrameTimeoutMs ?? 5_000;
    this.#keepFinishedMs = options.keepFinishedMs ?? 3600_000;
  }

  get cameraIds(): string[] {
    return [...this.#cameraIds];
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
    if (!this.#cameraIds.includes(request.cameraId)) {
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
        ({ region, frame } = await this.#suggestRegion(request.cameraId, request.setpointC));
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
      // Inline: reading the blackbody's region is constant work, and a session must see every frame.
      session.unsubscribe = this.#bus.on(
        'frame',
        (next) => {
          if (next.cameraId !== session.request.cameraId) return;
          if (this.#now() >= session.endsAt) {
            this.#finish(session, 'measured');
            return;
          }
          session.measure(next.thermal);
        },
        { name: 'calibration.session', delivery: 'inline' },
      );
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
    this.#bus.emit('calibration.committed', { record });
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
    this.#unsubscribe();
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
      // Queued: a suggestion searches whole frames, which is not constant work.
      const off = this.#bus.on(
        'frame',
        ({ cameraId: from, thermal: frame }) => {
          if (from !== cameraId || frame.flatField) return;
          const last = frames[frames.length - 1];
          if (last && frame.capturedAt - last.capturedAt < SUGGEST_GAP_MS) return;
          frames.push(frame);
          if (enough(frames)) finish();
        },
        { name: 'calibration.suggest' },
      );
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
      const running = this.#running.get(cameraId);
      const trusted = running?.state === 'stable' ? running.region : null;
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

function checkInside(field: string, region: Region, frame: ThermalFrame): void {
  if (region.x + region.width > frame.width || region.y + region.height > frame.height) {
    throw new CalibrationSessionError(
      'invalid',
      `${field}: ${region.width}×${region.height} at (${region.x}, ${region.y}) does not fit the ${frame.width}×${frame.height} frame of camera "${frame.cameraId}"`,
    );
  }
}
