/**
 * One camera's frame path after capture: raw counts → °C (profile radiometry) → blackbody
 * reference (offset, state) → the screening stage → `frame` (and `reference.state`) on the bus.
 * The frame carries where the blackbody is and which calibration corrected it.
 */
import { CountsToCelsius, type ObjectParameters } from '../../calibration/radiometry.ts';
import { apparentTemperature } from '../../calibration/reference.ts';
import { ReferenceTracker } from '../../calibration/referenceStateMachine.ts';
import { selectKth } from '../../calibration/selection.ts';
import type { ReferenceConfig } from '../config/load.ts';
import type { CameraProfile } from '../core/cameraProfile.ts';
import type { EventBus } from '../core/eventBus.ts';
import type { StageTimer } from '../core/stageTimer.ts';
import type { FrameStage, RawFrame, ReferenceState, ThermalFrame } from '../core/types.ts';
import { RateMeter } from './rateMeter.ts';

export interface CameraPipelineOptions {
  cameraId: string;
  profile: CameraProfile;
  reference: ReferenceConfig;
  bus: EventBus;
  stage?: FrameStage;
  /** The committed calibration `reference` comes from; null when it is the configuration's. */
  calibrationId?: string | null;
  now?: () => number;
  /**
   * `off`: no blackbody offset correction and the reference is treated as stable. Only for the
   * accuracy benchmark (what the blackbody buys); deliberately not reachable from the configuration.
   */
  referenceMode?: 'blackbody' | 'off';
  /** Radiometry and reference times per frame (the benchmark suite); none by default. */
  timer?: StageTimer | null;
}

/** Radiometric conversion of the sensor itself: the reference and emissivity corrections come later. */
export const SENSOR_OBJECT: ObjectParameters = {
  emissivity: 1,
  reflectedC: 20,
  atmosphereC: 20,
  distanceM: 0,
  humidityPct: 50,
};

export class CameraPipeline {
  readonly cameraId: string;
  readonly #profile: CameraProfile;
  #reference: ReferenceConfig;
  #tracker: ReferenceTracker;
  readonly #bus: EventBus;
  readonly #stage: FrameStage | null;
  readonly #now: () => number;
  readonly #referenceMode: 'blackbody' | 'off';
  readonly #timer: StageTimer | null;
  readonly #toCelsius: CountsToCelsius;
  #sensorC = new Float32Array(0);
  #previousRaw: Uint16Array | null = null;
  #referenceState: ReferenceState | null = null;
  #calibrationId: string | null;
  readonly processed = new RateMeter();
  readonly flatFieldFrames = new RateMeter();
  lastProcessingMs = 0;

  constructor(options: CameraPipelineOptions) {
    this.cameraId = options.cameraId;
    this.#profile = options.profile;
    this.#reference = options.reference;
    this.#bus = options.bus;
    this.#stage = options.stage ?? null;
    this.#now = options.now ?? Date.now;
    this.#referenceMode = options.referenceMode ?? 'blackbody';
    this.#timer = options.timer ?? null;
    this.#toCelsius = new CountsToCelsius(options.profile.radiometry, SENSOR_OBJECT);
    this.#tracker = createTracker(options.reference);
    this.#calibrationId = options.calibrationId ?? null;
  }

  get calibrationId(): string | null {
    return this.#calibrationId;
  }

  get referenceConfig(): ReferenceConfig {
    return this.#reference;
  }

  /**
   * Applies a new blackbody configuration (a committed calibration). The reference starts over:
   * screening stays blocked until the new reference has been stable for its configured time.
   * The camera is already warm, so warm-up is not repeated.
   */
  setReference(reference: ReferenceConfig, calibrationId: string | null): void {
    this.#reference = reference;
    this.#calibrationId = calibrationId;
    this.#tracker = createTracker({ ...reference, warmupS: 0 });
  }

  get reference(): ReferenceState | null {
    return this.#referenceState;
  }

  /** Tracks that never became persons (hands, bodies, passers-by, brief false faces), since start. */
  get tracksNotPersons(): number {
    return this.#stage?.unconfirmedCandidates ?? 0;
  }

  get referenceRegion() {
    return this.#tracker.region;
  }

  /**
   * `output`: memory for the corrected frame (width × height floats), which the frame keeps; fresh
   * memory when not given or of another size. The camera's worker gets it from the main thread with
   * its pages already touched, so this thread does not pay their page faults.
   */
  process(raw: RawFrame, output?: Float32Array): ThermalFrame {
    const started = performance.now();
    const timer = this.#timer;
    // A core in flat-field correction repeats its last image exactly; live sensor noise never does.
    const flatField =
      raw.flatField === true || (this.#previousRaw !== null && sameCounts(this.#previousRaw, raw.data));
    this.#previousRaw = raw.data;
    // One pass over the frame, not two: the reference needs the sensor's °C only where it reads
    // (the blackbody's interior, a few hundred pixels) and the room estimate a sample, so only those
    // are converted first — into a buffer reused every frame, whose other pixels are stale and never
    // read. The whole frame is converted once, at the end, with the correction (convertCorrected:
    // the same values as converting and then applyReference). Only while the blackbody is searched
    // for is the whole frame converted first.
    const n = raw.data.length;
    if (this.#sensorC.length !== n) this.#sensorC = new Float32Array(n);
    const sensorC = this.#sensorC;
    const toCelsius = this.#toCelsius;
    const regions = this.#tracker.regionsRead(flatField);
    if (regions === null) toCelsius.convert(raw.data, sensorC);
    else for (const region of regions) toCelsius.convertRegion(raw.data, raw.width, region, sensorC);
    const reflectedC = roomTemperatureC(raw.data, toCelsius);
    const radiometryDone = timer ? performance.now() : 0;
    if (timer) timer.record('radiometry', radiometryDone - started);
    const update = this.#tracker.update({
      capturedAt: raw.capturedAt,
      width: raw.width,
      height: raw.height,
      celsius: sensorC,
      flatField,
      reflectedC,
    });
    const reference: ReferenceState =
      this.#referenceMode === 'off'
        ? {
            ...update.reference,
            state: 'stable',
            reason: 'reference correction off (benchmark)',
            offsetC: 0,
            gain: 1,
          }
        : update.reference;
    // The tracker's offset is between true temperatures; the frame holds apparent ones. Apply the
    // difference of the blackbody's apparent temperatures, so the frame's emissivity-1 values are
    // corrected exactly and skin emissivity is applied once, at measurement.
    // The gain likewise: it rotates about the primary's reading (the pivot), and in apparent terms is
    // the ratio of the two blackbodies' apparent set points' span to their apparent readings' span.
    const measuredTrueC = reference.setpointC - reference.offsetC;
    const pivotApparentC = apparentTemperature(measuredTrueC, this.#reference.emissivity, reflectedC);
    const setpointApparentC = apparentTemperature(
      reference.setpointC,
      this.#reference.emissivity,
      reflectedC,
    );
    const offsetApparentC = setpointApparentC - pivotApparentC;
    let gainApparent = 1;
    const secondary = this.#reference.secondary;
    if (reference.gain !== 1 && secondary) {
      // The tracker's gain is between true temperatures: the secondary's measured reading follows.
      const secondaryMeasuredC = measuredTrueC + (secondary.setpointC - reference.setpointC) / reference.gain;
      gainApparent =
        (apparentTemperature(secondary.setpointC, secondary.emissivity, reflectedC) - setpointApparentC) /
        (apparentTemperature(secondaryMeasuredC, secondary.emissivity, reflectedC) - pivotApparentC);
    }
    // The corrected frame is handed on (bus listeners, another thread) and must not change later:
    // memory of its own, written once.
    const celsius = toCelsius.convertCorrected(
      raw.data,
      offsetApparentC,
      gainApparent,
      pivotApparentC,
      output?.length === n ? output : frameBuffer(n),
    );
    if (timer) timer.record('reference', performance.now() - radiometryDone);

    const previous = this.#referenceState;
    this.#referenceState = reference;
    if (update.changed || previous === null) {
      this.#bus.emit('reference.state', {
        cameraId: this.cameraId,
        previous,
        current: reference,
        at: raw.capturedAt,
      });
    }
    const frame: ThermalFrame = {
      cameraId: this.cameraId,
      seq: raw.seq,
      capturedAt: raw.capturedAt,
      width: raw.width,
      height: raw.height,
      celsius,
      reference,
      flatField,
      reflectedC,
      correction: { offsetC: offsetApparentC, gain: gainApparent, pivotC: pivotApparentC },
      visible: raw.visible,
      referenceRegion: this.#tracker.region,
      calibrationId: this.#calibrationId,
    };
    const tracks = this.#stage?.process(frame) ?? [];
    this.#bus.emit('frame', {
      cameraId: this.cameraId,
      seq: frame.seq,
      capturedAt: frame.capturedAt,
      thermal: frame,
      reference,
      tracks,
    });
    const now = this.#now();
    this.processed.add(now);
    if (flatField) this.flatFieldFrames.add(now);
    this.lastProcessingMs = performance.now() - started;
    return frame;
  }

  flush(at: number): void {
    this.#stage?.flush?.(at);
  }
}

/** The reference tracker a pipeline keeps for a blackbody configuration. */
export function createTracker(r: ReferenceConfig): ReferenceTracker {
  return new ReferenceTracker({
    setpointC: r.setpointC,
    region: r.region,
    disc: r.disc ?? null,
    blackbodyEmissivity: r.emissivity,
    warmupMs: r.warmupS * 1000,
    stableForMs: r.stableForS * 1000,
    maxDriftCPerMin: r.maxDriftCPerMin,
    ffcSettleMs: r.ffcSettleS * 1000,
    secondary: r.secondary ?? null,
  });
}

/**
 * Memory for one corrected frame. Not zeroed (every pixel is written next): a fresh zeroed array of a
 * 640×512 frame cost more than the conversion itself. Its own ArrayBuffer, so it can be transferred.
 * `touched`: one write per memory page, so the system maps the pages now (on the thread that
 * allocates) rather than on the first write of the conversion.
 */
export function frameBuffer(n: number, touched = false): Float32Array {
  const frame = new Float32Array(Buffer.allocUnsafeSlow(n * 4).buffer, 0, n);
  if (touched) for (let i = 0; i < n; i += PAGE_FLOATS) frame[i] = 0;
  return frame;
}

/** Floats in a 4 KiB memory page. */
const PAGE_FLOATS = 1024;

function sameCounts(a: Uint16Array, b: Uint16Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * What skin reflects is the room: the median of the scene (walls, floor) is a good, robust
 * estimate, and errors in it matter little (2 % of the difference for skin at ε = 0.98).
 * Taken from the counts of every n-th pixel (≈ 2 048 of them), converted on the way.
 */
export function roomTemperatureC(counts: Uint16Array, toCelsius: CountsToCelsius): number {
  const step = Math.max(1, Math.floor(counts.length / ROOM_SAMPLES));
  let n = 0;
  for (let i = 0; i < counts.length && n < roomSample.length; i += step) {
    const v = toCelsius.at(counts[i]);
    // Pixels outside the sensor's calibration (NaN) say nothing about the room.
    if (Number.isFinite(v)) roomSample[n++] = v;
  }
  return n === 0 ? Number.NaN : selectKth(roomSample, n >> 1, n);
}

const ROOM_SAMPLES = 2048;
// Reused every frame (one per thread): the sample is taken and its median selected without allocating.
// ceil(n / floor(n / 2048)) < 2 × 2048 + 1 for any frame size.
const roomSample = new Float32Array(2 * ROOM_SAMPLES + 1);
