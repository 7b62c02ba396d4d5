/**
 * The screening stage of a camera's frame path: faces → measurements → persons → one reading and
 * decision per person → `screening` events on the bus (`new` → `update`… → `end`, one stable
 * `personId`).
 *
 * - Every frame: detect faces (never inside the blackbody region), measure each face (quality flags),
 *   give the faces to the person tracker, keep each person's samples.
 * - Flat-field frames are frozen repeats: no detection, no measurement; the tracker does not count
 *   them as unseen time, so an FFC neither ends nor splits a person.
 * - A sample is good only without any flag and with the reference `stable` in that very frame, so a
 *   reading never rests on a frame the blackbody did not vouch for.
 * - `new` when the tracker confirms a person; `update` when the decision, the reasons or the reading
 *   (by ≥ 0.1 °C) change, at most once per `updateIntervalMs` (a first `elevated` goes out at once);
 *   `end` when the person has left and not come back within the tracker's rejoin window (or the source
 *   ended) with the final reading, decision, reasons.
 * - Faces on the reference's housing (referenceHousing.ts) and colder boxes under a head (a person's
 *   body) never become persons.
 * - Alerts: the first event with `elevated` carries `alert: true`, and a person once announced as
 *   elevated stays elevated (a later, lower reading adds a reason instead): one alert per person, and
 *   a fever is never talked back to normal.
 * - Interim events (`new`, `update`) before `minGoodFrames` good frames say `invalid` with what is in
 *   the way right now ("too far …", "measuring: hold still"); the verdict is the `end` event.
 * - Each person has a state (personState.ts) and prompts as codes; `process` returns every person on
 *   the frame for the `frame` event, so an overlay needs nothing else.
 * - `alert` on the bus: once per person, with the first `elevated` event, or with the `end` event of
 *   a final `retest` (the person needs a second measurement).
 */
import { skinTemperatureC } from '../../calibration/reference.ts';
import { RelativeBaseline } from '../../calibration/relativeMode.ts';
import type { SkinCoreModel } from '../../calibration/skinCore.ts';
import type { ApplianceConfig } from '../config/load.ts';
import type { EventBus } from '../core/eventBus.ts';
import type { PersonStateName, PromptCode } from '../core/persons.ts';
import type { StageTimer } from '../core/stageTimer.ts';
import type {
  Box,
  Decision,
  Face,
  FrameStage,
  Measurement,
  QualityFlag,
  ScreeningEvent,
  ThermalCrop,
  ThermalFrame,
  TrackView,
} from '../core/types.ts';
import {
  PersonTracker,
  type PersonTrackerOptions,
  TRACKER_DEFAULTS,
  type Track,
} from '../tracking/personTracker.ts';
import {
  decideReading,
  flagReason,
  formatTemperature,
  invalidReasons,
  isGoodSample,
  type PersonDecision,
  type PersonSample,
  personReading,
  READING_DEFAULTS,
  type ReadingRules,
  type Reason,
  sampleQuality,
} from './decisionRules.ts';
import { measurementResolution } from './measure.ts';
import { currentPrompts, nextPersonState } from './personState.ts';
import { findReferenceHousing, onReferenceHousing, type ReferenceHousing } from './referenceHousing.ts';

export type ScreeningConfig = ApplianceConfig['screening'];

/**
 * Faces of a frame found elsewhere — a bi-spectrum camera's visible stream, mapped into thermal
 * pixels — not inside `exclude`; null when there are none to offer for this frame.
 */
export type FaceSource = (frame: ThermalFrame, exclude: Box[]) => Face[] | null;

export interface ScreeningStageOptions {
  cameraId: string;
  applianceId: string;
  bus: EventBus;
  screening: ScreeningConfig;
  model: SkinCoreModel;
  /** Faces of a frame, not inside `exclude` (the thermal detector). */
  detectFaces: (frame: ThermalFrame, exclude: Box[]) => Face[];
  /**
   * Configured zones that are never faces (camera `exclude`). Unlike the reference they get no
   * housing margin: a face is dropped when its centre, or a quarter of its box, lies in a zone.
   */
  excludeZones?: Box[];
  /** Faces from elsewhere first (bi-spectrum cameras); `detectFaces` when it answers null. */
  faceSource?: FaceSource | null;
  /**
   * Fewest pixels across a face the measurement reads (the camera profile's `minFacePx`): a track
   * becomes a person by staying in view only when its face is near this size (#faceEvidenced).
   */
  measurableFacePx: number;
  /** One face's measurement with quality flags; `faces` are all faces of the frame. */
  measure: (frame: ThermalFrame, face: Face, faces: readonly Face[]) => Measurement;
  tracker?: Partial<Omit<PersonTrackerOptions, 'cameraId'>>;
  reading?: Partial<ReadingRules>;
  /** Least time between two `update` events of a person, ms. */
  updateIntervalMs?: number;
  /** Per-stage times (detection, measurement, tracking = the rest); none by default. */
  timer?: StageTimer | null;
  /** Detection cadence: faces are detected and measured on every n-th frame (1, the default: all). */
  detectEvery?: number;
}

interface PersonState {
  track: Track;
  samples: PersonSample[];
  firstSeq: number;
  lastSeq: number;
  /**
   * Box of the best-quality frame so far (the `end` event's box), among the boxes borne out by the
   * track's boxes of the SHOWN_MS before them.
   */
  bestBox: Box;
  /** The track's face widths and times of the last SHOWN_MS (oldest first). */
  shownWidths: number[];
  shownTimes: number[];
  /**
   * The samples (flat-field frames aside) whose face was borne out by those of the SHOWN_MS before them,
   * judged once as each arrives (for `bestBox` and #faceEvidenced).
   */
  borne: WeakSet<PersonSample>;
  /** Latest box (the box of `new` and `update`, for the overlay). */
  box: Box;
  trackBoxes: [number, ...Box][];
  lastTrackBoxAt: number;
  bestQuality: number;
  announced: boolean;
  lastEmittedAt: number;
  lastEmitted: { decision: Decision; reasons: string; skinC: number | null } | null;
  alerted: boolean;
  alertCoreC: number | null;
  state: PersonStateName;
  /** The best-quality frame's crop around the face (for snapshots). */
  crop: ThermalCrop | null;
  /** Latest decision so far (for the overlay). */
  interim: PersonDecision | null;
  /**
   * For each frame this track was seen below a person's head (in their body column, #underHead): how
   * much colder its warmest skin read than that face's, °C.
   */
  underHead: number[];
  /** Frames this track was seen with a head in view but not under it. */
  besideHeads: number;
}

/** Flagged samples kept per person (for the reasons); good ones are kept apart and pruned by quality. */
const MAX_FLAGGED_SAMPLES = 600;
const MAX_GOOD_SAMPLES = 200;
/** A reading change that is worth an update, °C. */
const READING_CHANGE_C = 0.1;
/** How often the `end` event's track boxes sample the person's way, ms. */
const TRACK_BOX_INTERVAL_MS = 1000;
/** Frames with a face at the measurement point a track needs before it is a person (#faceEvidenced). */
const FACE_EVIDENCE_FRAMES = 4;
/** …of about the same size: within this factor of their median width. */
const FACE_EVIDENCE_SIZE_RATIO = 1.4;
/**
 * …each borne out by the track's boxes of this last half second, ms (their median within the size
 * ratio): a box at the mark's size among far boxes (a far figure boxed head and torso for a frame or
 * two) is the detector's box jumping — a face grows by well under the size ratio in that time.
 */
const SHOWN_MS = 500;
/**
 * …while stopped: moving sideways at most this many face widths a second (the tracker's smoothed
 * velocity). Someone standing at the mark sways well under that (≈ 0.2 m/s on a 15 cm face); someone
 * walking across close to the camera moves 3–10 widths a second (0.4–1.5 m/s).
 */
const STOPPED_WIDTHS_PER_S = 1.5;
/** A track seen this long (ms), on this share of the frames, at a steady size, is a person too. */
const PRESENCE_MS = 3000;
const PRESENCE_HIT_SHARE = 0.8;
const PRESENCE_SIZE_RATIO = 1.25;
/** …and stayed within this many face widths sideways (a passer-by walking across is not waiting). */
const PRESENCE_TRAVEL_WIDTHS = 2;
/**
 * …with a face (median width) at least this share of the measurable size: a step short of the mark
 * (a kiosk's faces at the mark are 29–37 px for 26 measurable, 0.75 is ≈ 20 px), not someone waiting
 * far behind (11–17 px on a kiosk clip: at twice the distance or more).
 */
const PRESENCE_NEAR_SHARE = 0.75;

/** A track under a head on at least this share of the frames it was seen with a head in view… */
const BODY_SEEN_SHARE = 0.5;
/** …reading at least this much colder than the face (median), °C, is that person's body. */
const BODY_COLDER_C = 0.5;

/**
 * Box `b` lies under head `a`: its top below a's chin (the lower fifth of a's box, where a face box
 * ends), its centre within 1.5 face widths of a's sideways (the shoulders), and not more than three
 * face heights lower.
 */
function underHead(b: Box, a: Box): boolean {
  const [ax, ay, aw, ah] = a;
  const [bx, by, bw] = b;
  return by >= ay + 0.8 * ah && by <= ay + 3 * ah && Math.abs(bx + bw / 2 - (ax + aw / 2)) <= 1.5 * aw;
}

/** How long after a failed search for the reference's housing it is looked for again, ms. */
const HOUSING_RETRY_MS = 1000;

/** A face continuing a person who just left reads within this of their recent warmest skin, °C. */
const REJOIN_WARMTH_C = 1;
/** …over this many of their latest frames. */
const REJOIN_RECENT_FRAMES = 10;

/**
 * Whether the latest of `widths` (a track's face widths at `times`, oldest first) is borne out by the
 * boxes of the SHOWN_MS before it: within `ratio` of the median of those widths and itself.
 */
function borneOut(widths: readonly number[], times: readonly number[], ratio: number): boolean {
  const last = widths.length - 1;
  const recent: number[] = [];
  for (let k = last; k >= 0 && times[last] - times[k] <= SHOWN_MS; k--) recent.push(widths[k]);
  recent.sort((a, b) => a - b);
  const median = recent[recent.length >> 1];
  return widths[last] <= median * ratio && widths[last] * ratio >= median;
}

/** How many of `widths` lie within `ratio` of their median. */
function steadyCount(widths: readonly number[], ratio: number): number {
  if (widths.length === 0) return 0;
  const median = [...widths].sort((a, b) => a - b)[widths.length >> 1];
  let n = 0;
  for (const w of widths) if (w <= median * ratio && w * ratio >= median) n++;
  return n;
}

export class ScreeningStage implements FrameStage {
  #o: ScreeningStageOptions;
  readonly #tracker: PersonTracker;
  readonly #rules: ReadingRules;
  readonly #updateIntervalMs: number;
  readonly #persons = new Map<number, PersonState>();
  readonly #baseline: RelativeBaseline | null;
  #lastFrame: ThermalFrame | null = null;
  readonly #faceSource: FaceSource | null;
  readonly #timer: StageTimer | null;
  /** Detection + measurement of the current frame, ms (tracking is the rest of `process`). */
  #timedMs = 0;
  readonly #cadence: DetectionCadence;
  /** Tracks seen often enough to be persons that never showed a face consistently (see #faceEvidenced). */
  #unconfirmedCandidates = 0;
  /** The reference's housing (referenceHousing.ts), found once per reference region; faces on it are dropped. */
  #housing: ReferenceHousing | null = null;
  /** The reference region the housing belongs to, and when it was last looked for (frame time). */
  #housingRegion = '';
  #housingTriedAt = Number.NEGATIVE_INFINITY;
  /** The current frame's samples, one per detection (for #sameWarmth while the tracker pairs). */
  #frameSamples: PersonSample[] = [];
  readonly #trackerConfirmHits: number;

  constructor(options: ScreeningStageOptions) {
    this.#o = options;
    this.#tracker = new PersonTracker({
      confirmWhen: (track) => this.#faceEvidenced(track),
      mayRejoin: (track, detection) => this.#sameWarmth(track, detection),
      ...options.tracker,
      cameraId: options.cameraId,
    });
    this.#trackerConfirmHits = options.tracker?.confirmAfterHits ?? TRACKER_DEFAULTS.confirmAfterHits;
    this.#rules = { ...READING_DEFAULTS, ...options.reading };
    this.#updateIntervalMs = options.updateIntervalMs ?? 1000;
    this.#faceSource = options.faceSource ?? null;
    this.#timer = options.timer ?? null;
    this.#cadence = new DetectionCadence(options.detectEvery ?? 1);
    this.#baseline =
      options.screening.mode === 'relative'
        ? new RelativeBaseline({
            baselineSize: options.screening.relative.baselineSize,
            deltaC: options.screening.relative.deltaC,
          })
        : null;
  }

  /**
   * Tracks that were seen on enough frames to be a person but never showed a face at the measurement
   * point consistently (hands, bodies, far passers-by, the detector's brief false faces). They never
   * became persons and produced no events; they are counted here instead.
   */
  get unconfirmedCandidates(): number {
    return this.#unconfirmedCandidates;
  }

  /**
   * A track becomes a person only on consistent evidence of a face, either
   * - at the measurement point: FACE_EVIDENCE_FRAMES frames not too far and not cut by the image's
   *   edge, with a face's structure — a
   *   canthus measured, or eyes covered by glasses — of about the same size (within
   *   FACE_EVIDENCE_SIZE_RATIO of their median), each borne out by the track's boxes of the SHOWN_MS
   *   before it (not a far figure's box jumping to the mark's size), while stopped there
   *   (STOPPED_WIDTHS_PER_S: not walking past); or
   * - by staying: seen on most frames (PRESENCE_HIT_SHARE) for PRESENCE_MS at a steady size and place,
   *   near the measurement point (a face of at least PRESENCE_NEAR_SHARE of the measurable size), e.g.
   *   someone waiting a step short of the mark (they are told so, and their `end` says "never at the
   *   measurement point"). A passer-by walking across, or someone waiting far behind the visitor, is
   *   not a person to screen: entrance staff want no event for someone who never came near (they stay
   *   a track, and become a person once they step up to the mark).
   * A false face on a hand, a body or a passer-by comes and goes, jumps in size, or never shows the
   * structure; a person stepping up to the camera shows it frame after frame.
   */
  #faceEvidenced(track: Track): boolean {
    const state = this.#persons.get(track.trackNumber);
    if (!state || state.samples.length === 0) return false;
    if (this.#bodyOfAnother(state)) return false;
    const atPoint: number[] = [];
    const all: number[] = [];
    for (const s of state.samples) {
      if (s.flags.includes('flat-field')) continue;
      all.push(s.pixelsAcrossFace);
      if (s.flags.includes('too-far') || s.flags.includes('at-border')) continue;
      if (s.canthusC === null && !s.flags.includes('eyes-obstructed')) continue;
      // The face the track has been showing, not a box that jumped to the mark's size for a frame or two
      // (a far figure boxed with its shoulders): a face does not grow by the size gate between frames.
      if (!state.borne.has(s)) continue;
      atPoint.push(s.pixelsAcrossFace);
    }
    if (steadyCount(atPoint, FACE_EVIDENCE_SIZE_RATIO) >= FACE_EVIDENCE_FRAMES) {
      // Stopped at the mark, not walking past it: someone crossing the view close to the camera shows
      // a face at the mark's size for a few frames too.
      return (Math.abs(track.velocity.x) * 1000) / track.box[2] <= STOPPED_WIDTHS_PER_S;
    }
    const spanMs = state.samples[state.samples.length - 1].at - state.samples[0].at;
    const frames = state.lastSeq - state.firstSeq + 1;
    if (spanMs < PRESENCE_MS || all.length < PRESENCE_HIT_SHARE * frames) return false;
    if (steadyCount(all, PRESENCE_SIZE_RATIO) < PRESENCE_HIT_SHARE * all.length) return false;
    const medianWidth = [...all].sort((a, b) => a - b)[all.length >> 1];
    if (medianWidth < PRESENCE_NEAR_SHARE * this.#o.measurableFacePx) return false;
    // Waiting, not walking past: the face stayed about where it was (sampled once a second).
    const centres = [...state.trackBoxes.map((b) => b[1] + b[3] / 2), state.box[0] + state.box[2] / 2];
    const travel = Math.max(...centres) - Math.min(...centres);
    return travel <= PRESENCE_TRAVEL_WIDTHS * medianWidth;
  }

  /**
   * Notes, for each track that is not a person yet, whether it lies under a head in this frame (a person,
   * or a face with a canthus at the measurement point) and how much colder it reads (#bodyOfAnother).
   */
  #noteBodies(tracks: readonly Track[], faces: readonly Face[]): void {
    tracks.forEach((track, i) => {
      if (track.personId !== null) return;
      const state = this.#persons.get(track.trackNumber);
      const warmest = this.#frameSamples[i]?.faceMaxC ?? null;
      if (!state || warmest === null) return;
      let headSeen = false;
      for (let j = 0; j < tracks.length; j++) {
        const head = this.#frameSamples[j];
        const headC = head?.faceMaxC ?? null;
        if (j === i || headC === null) continue;
        // A head: a person, or a face at the measurement point showing a canthus in this frame.
        const face = head.canthusC !== null && !head.flags.includes('too-far');
        if (tracks[j].personId === null && !face) continue;
        headSeen = true;
        if (!underHead(faces[i].box, faces[j].box)) continue;
        state.underHead.push(headC - warmest);
        return;
      }
      if (headSeen) state.besideHeads++;
    });
  }

  /**
   * A track that keeps lying under a person's head — below their chin, within their shoulders' reach —
   * and reads clearly colder than that face is the person's body: a shoulder, the chest, a hand (a
   * kiosk clip's 41–46 px "faces" on a shoulder read 0.8 °C below the face above, median). It never
   * becomes a person of its own. A child standing in front of a parent lies there too, but is a face:
   * its warmest skin — the inner canthi — is as warm as the parent's, so it stays a person.
   */
  #bodyOfAnother(state: PersonState): boolean {
    // Of the frames with a head in view (a head missed by the detector tells nothing either way).
    const withHead = state.underHead.length + state.besideHeads;
    if (withHead === 0 || state.underHead.length < BODY_SEEN_SHARE * withHead) return false;
    const colder = [...state.underHead].sort((a, b) => a - b);
    return colder[colder.length >> 1] >= BODY_COLDER_C;
  }

  /**
   * Whether detection `detection` of the current frame may continue a person who just left (the
   * tracker has checked place and size): its warmest skin is within REJOIN_WARMTH_C of the person's
   * recent frames. Two visitors' faces differ by about that much or more; the same face a few seconds
   * later does not. Unknown either way (no skin read): allowed.
   */
  #sameWarmth(track: Track, detection: number): boolean {
    const now = this.#frameSamples[detection]?.faceMaxC ?? null;
    const state = this.#persons.get(track.trackNumber);
    if (now === null || !state) return true;
    const recent: number[] = [];
    for (let k = state.samples.length - 1; k >= 0 && recent.length < REJOIN_RECENT_FRAMES; k--) {
      const c = state.samples[k].faceMaxC;
      if (c !== null) recent.push(c);
    }
    if (recent.length === 0) return true;
    recent.sort((a, b) => a - b);
    return Math.abs(now - recent[recent.length >> 1]) <= REJOIN_WARMTH_C;
  }

  /**
   * New decision settings from the next decision on (settings page): threshold, retest band, unit
   * and the relative delta. The mode and the baseline size stay as started — the relative baseline
   * is built for them — and wait for a restart. Constant work: safe inline on the frame path.
   */
  setScreening(next: ScreeningConfig): void {
    const { mode, relative } = this.#o.screening;
    this.#o = {
      ...this.#o,
      screening: {
        ...next,
        mode,
        relative: { baselineSize: relative.baselineSize, deltaC: next.relative.deltaC },
      },
    };
  }

  process(frame: ThermalFrame): TrackView[] {
    const timer = this.#timer;
    if (timer === null) return this.#process(frame, null);
    const started = performance.now();
    this.#timedMs = 0;
    const views = this.#process(frame, timer);
    timer.record('tracking', performance.now() - started - this.#timedMs);
    return views;
  }

  #process(frame: ThermalFrame, timer: StageTimer | null): TrackView[] {
    this.#lastFrame = frame;
    // Frames between two detections (the cadence hook) are handled like flat-field frames: no
    // detection, no measurement, the tracks held as they are without counting the time as unseen.
    if (frame.flatField || !this.#cadence.detectNow()) {
      this.#tracker.update(frame.capturedAt, [], { frozen: true });
      return this.#views();
    }
    const region = frame.referenceRegion;
    const exclude: Box[] = region ? [[region.x, region.y, region.width, region.height]] : [];
    const t0 = timer ? performance.now() : 0;
    const found = this.#faceSource?.(frame, exclude) ?? this.#o.detectFaces(frame, exclude);
    const zones = this.#o.excludeZones ?? [];
    const housing = this.#referenceHousing(frame);
    const faces =
      zones.length || housing
        ? found.filter(
            (face) =>
              !inExcludeZone(face.box, zones) && !(housing !== null && onReferenceHousing(face.box, housing)),
          )
        : found;
    const t1 = timer ? performance.now() : 0;
    const measurements = faces.map((face) => this.#o.measure(frame, face, faces));
    if (timer) {
      const t2 = performance.now();
      timer.record('detection', t1 - t0);
      timer.record('measurement', t2 - t1);
      this.#timedMs = t2 - t0;
    }
    this.#frameSamples = measurements.map((m) => this.#sample(frame, m));
    const update = this.#tracker.update(
      frame.capturedAt,
      faces.map((face) => face.box),
      { imageWidth: frame.width },
    );

    const touched = new Set<PersonState>();
    update.tracks.forEach((track, i) => {
      let state = this.#persons.get(track.trackNumber);
      if (!state) {
        state = {
          track,
          samples: [],
          firstSeq: frame.seq,
          lastSeq: frame.seq,
          bestBox: faces[i].box,
          shownWidths: [],
          shownTimes: [],
          borne: new WeakSet(),
          box: faces[i].box,
          trackBoxes: [],
          lastTrackBoxAt: Number.NEGATIVE_INFINITY,
          bestQuality: Number.NEGATIVE_INFINITY,
          announced: false,
          lastEmittedAt: Number.NEGATIVE_INFINITY,
          lastEmitted: null,
          alerted: false,
          alertCoreC: null,
          state: 'approaching',
          crop: null,
          interim: null,
          underHead: [],
          besideHeads: 0,
        };
        this.#persons.set(track.trackNumber, state);
      }
      state.lastSeq = frame.seq;
      state.box = faces[i].box;
      if (frame.capturedAt - state.lastTrackBoxAt >= TRACK_BOX_INTERVAL_MS) {
        state.lastTrackBoxAt = frame.capturedAt;
        state.trackBoxes.push([frame.seq, ...roundBox(faces[i].box)]);
      }
      const sample = this.#frameSamples[i];
      this.#keep(state, sample);
      const quality = sampleQuality(sample) * (isGoodSample(sample) ? 2 : 1);
      // The best frame is the largest face, so a box that jumped for a frame (head and shoulders: half
      // as wide again as the face before and after it) would become the `end` box and the snapshot:
      // only a box borne out by the track's boxes of the last half second can be the best one.
      if (!sample.flags.includes('flat-field')) {
        state.shownWidths.push(sample.pixelsAcrossFace);
        state.shownTimes.push(sample.at);
        while (sample.at - state.shownTimes[0] > SHOWN_MS) {
          state.shownWidths.shift();
          state.shownTimes.shift();
        }
      }
      const shown =
        state.shownWidths.length === 0 ||
        borneOut(state.shownWidths, state.shownTimes, FACE_EVIDENCE_SIZE_RATIO);
      if (shown && !sample.flags.includes('flat-field')) state.borne.add(sample);
      if (shown && quality >= state.bestQuality) {
        state.bestQuality = quality;
        state.bestBox = faces[i].box;
        state.crop = cropAround(frame, faces[i].box);
      }
      touched.add(state);
    });

    this.#noteBodies(update.tracks, faces);
    for (const track of update.confirmed) {
      const state = this.#persons.get(track.trackNumber);
      if (state) this.#emit(state, 'new', frame.capturedAt, this.#interim(state));
    }
    for (const state of touched) {
      if (!state.announced || update.confirmed.includes(state.track)) continue;
      this.#maybeUpdate(state, frame.capturedAt);
    }
    for (const track of update.ended) this.#end(track, frame.capturedAt);
    // Tentative tracks the tracker dropped never became persons: forget them.
    const open = new Set(this.#tracker.tracks.map((t) => t.trackNumber));
    for (const [number, state] of this.#persons)
      if (!open.has(number) && !state.announced) {
        if (state.track.hits >= this.#trackerConfirmHits) this.#unconfirmedCandidates++;
        this.#persons.delete(number);
      }
    return this.#views();
  }

  /**
   * The housing around the reference region, looked for on a frame with the reference stable (the disc
   * at its set point, nobody in front of it) and kept while the region stays; not found yet (a person
   * touching the housing, or no contrast), it is looked for again HOUSING_RETRY_MS later.
   */
  #referenceHousing(frame: ThermalFrame): ReferenceHousing | null {
    const region = frame.referenceRegion;
    if (!region) return null;
    const key = `${region.x},${region.y},${region.width},${region.height}`;
    if (key !== this.#housingRegion) {
      this.#housingRegion = key;
      this.#housing = null;
      this.#housingTriedAt = Number.NEGATIVE_INFINITY;
    }
    if (
      this.#housing === null &&
      frame.reference.state === 'stable' &&
      frame.capturedAt - this.#housingTriedAt >= HOUSING_RETRY_MS
    ) {
      this.#housingTriedAt = frame.capturedAt;
      this.#housing = findReferenceHousing(frame.celsius, frame.width, frame.height, region).found;
    }
    return this.#housing;
  }

  /** Every person in view, as the overlay draws them (not the closing ones: they are gone from view). */
  #views(): TrackView[] {
    const views: TrackView[] = [];
    const unit = this.#o.screening.unit;
    const closing = this.#tracker.closing;
    for (const state of this.#persons.values()) {
      if (closing.includes(state.track)) continue;
      const latest = state.samples[state.samples.length - 1] ?? null;
      this.#advance(state, null);
      const decision = state.interim;
      const measured = state.state === 'measured' && decision !== null;
      views.push({
        personId: state.track.personId,
        box: roundBox(state.box),
        state: state.state,
        prompts: this.#prompts(state, latest, decision),
        decision: measured ? decision.decision : null,
        estimatedCoreC: measured ? round2(decision.estimatedCoreC) : null,
        display:
          measured && decision.estimatedCoreC !== null
            ? formatTemperature(decision.estimatedCoreC, unit)
            : null,
      });
    }
    return views;
  }

  #prompts(state: PersonState, latest: PersonSample | null, decision: PersonDecision | null): PromptCode[] {
    const prompts = currentPrompts(state.state, latest);
    if ((state.state === 'measured' || state.state === 'left' || state.state === 'invalid') && decision) {
      for (const reason of decision.reasons) if (!prompts.includes(reason.code)) prompts.push(reason.code);
    }
    return prompts;
  }

  /** Moves the person's state machine on what is known now (`ended`: the final decision). */
  #advance(state: PersonState, ended: Decision | null): void {
    const reading = ended === null ? personReading(state.samples, this.#rules) : null;
    state.state = nextPersonState(state.state, {
      confirmed: state.track.personId !== null,
      latest: state.samples[state.samples.length - 1] ?? null,
      measured: reading !== null && reading.goodFrames >= this.#rules.minGoodFrames,
      ended,
    });
  }

  flush(at: number): void {
    for (const track of this.#tracker.flush()) this.#end(track, at);
    for (const state of this.#persons.values())
      if (!state.announced && state.track.hits >= this.#trackerConfirmHits) this.#unconfirmedCandidates++;
    this.#persons.clear();
  }

  #sample(frame: ThermalFrame, m: Measurement): PersonSample {
    const flags: QualityFlag[] = [...m.flags];
    // The gate does not depend on the measurement code remembering it.
    if (frame.reference.state !== 'stable' && !flags.includes('reference-not-stable'))
      flags.push('reference-not-stable');
    // Frames hold reference-corrected *apparent* temperatures (emissivity 1); the skin-core model was
    // fitted on emissivity-corrected skin temperatures, so skin emissivity is applied here, once.
    const skin = (apparentC: number | null) =>
      apparentC === null || !Number.isFinite(apparentC)
        ? null
        : skinTemperatureC(apparentC, frame.reflectedC, this.#o.screening.skinEmissivity);
    return {
      at: frame.capturedAt,
      canthusC: skin(m.canthusC),
      faceMaxC: skin(m.faceMaxC),
      foreheadC: skin(m.foreheadC),
      pixelsAcrossFace: m.pixelsAcrossFace,
      yawDeg: m.yawDeg,
      flags,
      referenceState: frame.reference.state,
      referenceReason: frame.reference.reason,
      referenceOffsetC: frame.reference.offsetC,
      ambientC: frame.reflectedC,
      calibrationId: frame.calibrationId,
    };
  }

  #keep(state: PersonState, sample: PersonSample): void {
    state.samples.push(sample);
    if (state.samples.length <= MAX_FLAGGED_SAMPLES + MAX_GOOD_SAMPLES) return;
    // Someone standing in view for minutes: keep the best good frames and the recent flagged ones.
    const good = state.samples
      .filter(isGoodSample)
      .sort((a, b) => sampleQuality(b) - sampleQuality(a))
      .slice(0, MAX_GOOD_SAMPLES);
    const flagged = state.samples.filter((s) => !isGoodSample(s)).slice(-MAX_FLAGGED_SAMPLES);
    state.samples = [...good, ...flagged].sort((a, b) => a.at - b.at);
  }

  #relativeAlarmAtC(): number | null {
    const baselineC = this.#baseline?.baselineC ?? null;
    return baselineC === null ? null : baselineC + this.#o.screening.relative.deltaC;
  }

  #decisionConfig() {
    const s = this.#o.screening;
    return {
      mode: s.mode,
      thresholdC: s.thresholdC,
      retestBandC: s.retestBandC,
      unit: s.unit,
      model: this.#o.model,
      relativeAlarmAtC: this.#relativeAlarmAtC(),
    };
  }

  /** The state so far, for `new` and `update`. */
  #interim(state: PersonState): PersonDecision {
    const reading = personReading(state.samples, this.#rules);
    if (reading && reading.goodFrames >= this.#rules.minGoodFrames) {
      state.interim = decideReading(reading, this.#decisionConfig(), this.#rules, []);
      return state.interim;
    }
    const latest = state.samples[state.samples.length - 1];
    let reasons: Reason[];
    if (reading || !latest) reasons = [HOLD_STILL];
    else reasons = frameReasons(latest);
    state.interim = { decision: 'invalid', reasons, skinC: null, estimatedCoreC: null };
    return state.interim;
  }

  #maybeUpdate(state: PersonState, at: number): void {
    const next = this.#sticky(state, this.#interim(state));
    const last = state.lastEmitted;
    const changed =
      last === null ||
      last.decision !== next.decision ||
      last.reasons !== reasonKey(next.reasons) ||
      (last.skinC === null) !== (next.skinC === null) ||
      (last.skinC !== null && next.skinC !== null && Math.abs(last.skinC - next.skinC) >= READING_CHANGE_C);
    if (!changed) return;
    const firstAlert = next.decision === 'elevated' && !state.alerted;
    if (!firstAlert && at - state.lastEmittedAt < this.#updateIntervalMs) return;
    this.#emit(state, 'update', at, next);
  }

  #end(track: Track, at: number): void {
    const state = this.#persons.get(track.trackNumber);
    if (!state) return;
    this.#persons.delete(track.trackNumber);
    const reading = personReading(state.samples, this.#rules);
    const decision = decideReading(
      reading,
      this.#decisionConfig(),
      this.#rules,
      invalidReasons(state.samples),
    );
    // Relative mode learns from complete, good readings only (elevated ones never enter the baseline).
    if (this.#baseline && reading && reading.goodFrames >= this.#rules.minGoodFrames)
      this.#baseline.assess(reading.skinC);
    if (!state.announced) this.#emit(state, 'new', at, this.#interim(state));
    this.#advance(state, decision.decision);
    this.#emit(state, 'end', at, decision);
  }

  /** A person once announced elevated stays elevated. */
  #sticky(state: PersonState, decision: PersonDecision): PersonDecision {
    if (!state.alerted || decision.decision === 'elevated') return decision;
    const earlier =
      state.alertCoreC === null ? '' : ` (${formatTemperature(state.alertCoreC, this.#o.screening.unit)})`;
    return {
      ...decision,
      decision: 'elevated',
      reasons: [
        {
          code: 'confirm-with-thermometer',
          text: `elevated reading earlier${earlier}: confirm with a clinical thermometer`,
        },
        ...decision.reasons,
      ],
    };
  }

  #emit(state: PersonState, kind: ScreeningEvent['kind'], at: number, rawDecision: PersonDecision): void {
    const decision = this.#sticky(state, rawDecision);
    const personId = state.track.personId;
    if (personId === null) return;
    if (kind !== 'end') this.#advance(state, null);
    // Elevated raises the alarm at once; a final retest needs a second measurement too.
    const alert =
      !state.alerted &&
      (decision.decision === 'elevated' || (kind === 'end' && decision.decision === 'retest'));
    if (alert) {
      state.alerted = true;
      state.alertCoreC = decision.estimatedCoreC;
    }
    state.announced = true;
    state.lastEmittedAt = at;
    state.lastEmitted = {
      decision: decision.decision,
      reasons: reasonKey(decision.reasons),
      skinC: decision.skinC,
    };
    const frame = this.#lastFrame;
    const unit = this.#o.screening.unit;
    const reading = personReading(state.samples, this.#rules);
    const latest = state.samples[state.samples.length - 1] ?? null;
    const event: Omit<ScreeningEvent, 'id'> = {
      kind,
      personId,
      at,
      state: state.state,
      prompts: this.#prompts(state, latest, decision),
      skinC: round2(decision.skinC),
      estimatedCoreC: round2(decision.estimatedCoreC),
      decision: decision.decision,
      reasonCodes: decision.reasons.map((r) => r.code),
      reasons: decision.reasons.map((r) => r.text),
      calibration: {
        referenceState: frame?.reference.state ?? 'missing',
        offsetC: round2(reading?.referenceOffsetC ?? frame?.reference.offsetC ?? 0) ?? 0,
        gain: frame?.reference.gain ?? 1,
        calibrationId: reading?.calibrationId ?? frame?.calibrationId ?? null,
      },
      applianceId: this.#o.applianceId,
      cameraId: this.#o.cameraId,
      box: roundBox(kind === 'end' ? state.bestBox : state.box),
      unit,
      display: decision.estimatedCoreC === null ? null : formatTemperature(decision.estimatedCoreC, unit),
      alert,
      goodFrames: reading?.goodFrames ?? 0,
      mode: this.#o.screening.mode,
      firstSeq: state.firstSeq,
      lastSeq: state.lastSeq,
    };
    if (reading?.pixelsAcrossFace !== undefined && decision.skinC !== null)
      event.resolution = measurementResolution(reading.pixelsAcrossFace);
    if (kind === 'end') {
      const last = state.trackBoxes.at(-1);
      if (last && last[0] !== state.lastSeq) state.trackBoxes.push([state.lastSeq, ...roundBox(state.box)]);
      event.trackBoxes = state.trackBoxes;
    }
    if ((kind === 'end' || alert) && state.crop) event.crop = state.crop;
    const published = this.#o.bus.emit('screening', event);
    if (alert) this.#o.bus.emit('alert', { screening: published, screeningEventId: published.id, at });
  }
}

/**
 * Detection at a lower cadence than capture: faces are detected and measured on every n-th frame,
 * counted in frames (never wall time), so a fast replay gives the same persons and readings as the
 * same recording in real time.
 */
export class DetectionCadence {
  readonly every: number;
  #frame = 0;

  constructor(every: number) {
    if (!(Number.isInteger(every) && every >= 1)) {
      throw new RangeError(`detection cadence must be a whole number of frames ≥ 1, got ${every}`);
    }
    this.every = every;
  }

  /** Whether this frame is one to detect on (the first frame always is). */
  detectNow(): boolean {
    const now = this.#frame % this.every === 0;
    this.#frame++;
    return now;
  }
}

const HOLD_STILL: Reason = { code: 'hold-still', text: 'measuring: hold still' };

const reasonKey = (reasons: readonly Reason[]) => reasons.map((r) => r.text).join('\n');

/** What is in the way in one frame. */
function frameReasons(sample: PersonSample): Reason[] {
  if (sample.flags.length === 0)
    return sample.canthusC === null ? [flagReason('no-canthus', sample.referenceState)] : [HOLD_STILL];
  return sample.flags.map((flag) => flagReason(flag, sample.referenceState));
}

/** A copy of the frame around a face (a quarter of the box's size on each side), for snapshots. */
function cropAround(frame: ThermalFrame, box: Box): ThermalCrop {
  const [bx, by, bw, bh] = box;
  const x0 = Math.max(0, Math.floor(bx - bw / 4));
  const y0 = Math.max(0, Math.floor(by - bh / 4));
  const x1 = Math.min(frame.width, Math.ceil(bx + bw + bw / 4));
  const y1 = Math.min(frame.height, Math.ceil(by + bh + bh / 4));
  const width = Math.max(1, x1 - x0);
  const height = Math.max(1, y1 - y0);
  const celsius = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const from = (y0 + y) * frame.width + x0;
    celsius.set(frame.celsius.subarray(from, from + width), y * width);
  }
  return {
    x: x0,
    y: y0,
    width,
    height,
    celsius,
    faceBox: roundBox(box),
    seq: frame.seq,
    capturedAt: frame.capturedAt,
  };
}

function roundBox(box: Box): Box {
  return box.map((v) => Math.round(v * 10) / 10) as Box;
}

function round2(value: number | null): number | null {
  return value === null ? null : Math.round(value * 100) / 100;
}

/** A face box whose centre, or a quarter of whose area, lies in a configured exclusion zone. */
export function inExcludeZone(box: Box, zones: readonly Box[]): boolean {
  const [x, y, w, h] = box;
  const cx = x + w / 2;
  const cy = y + h / 2;
  for (const [zx, zy, zw, zh] of zones) {
    if (cx >= zx && cx < zx + zw && cy >= zy && cy < zy + zh) return true;
    const ix = Math.min(x + w, zx + zw) - Math.max(x, zx);
    const iy = Math.min(y + h, zy + zh) - Math.max(y, zy);
    if (ix > 0 && iy > 0 && ix * iy >= 0.25 * w * h) return true;
  }
  return false;
}
