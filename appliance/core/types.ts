/**
 * Contracts between the stages of the frame path:
 * camera → radiometry → reference → detection → tracking → screening → events.
 * Temperatures are degrees Celsius unless a name says otherwise.
 */

/** A frame as the sensor delivered it: raw counts, before any radiometric conversion. */
export interface RawFrame {
  cameraId: string;
  /** Frame number from the source, counting from 0; gaps mean skipped frames. */
  seq: number;
  /** Milliseconds since the Unix epoch (wall clock for live sources, synthetic for replays). */
  capturedAt: number;
  width: number;
  height: number;
  /** Row-major, width × height counts. */
  data: Uint16Array;
  /** True while the sensor runs a flat-field correction (shutter closed): readings are not valid. */
  flatField?: boolean;
  /** Visible-light frame from a bi-spectrum camera, when present. */
  visible?: VisibleFrame;
}

export interface VisibleFrame {
  capturedAt: number;
  width: number;
  height: number;
  /** RGB, 8 bits per channel, row-major. */
  rgb: Uint8Array;
}

import type { ReferenceCorrection } from '../../calibration/reference.ts';
import type { ReferenceState, ReferenceStateName } from '../../calibration/referenceStateMachine.ts';
import type { PersonStateName, PromptCode } from './persons.ts';

// The reference contract is defined where it is computed (calibration/ depends on nothing of ours).
export type { ReferenceState, ReferenceStateName } from '../../calibration/referenceStateMachine.ts';

/** A radiometric frame in °C, corrected by the reference. */
export interface ThermalFrame {
  cameraId: string;
  seq: number;
  capturedAt: number;
  width: number;
  height: number;
  celsius: Float32Array;
  reference: ReferenceState;
  flatField: boolean;
  /** Temperature of what surfaces reflect (the room), estimated from the scene, °C. */
  reflectedC: number;
  /**
   * The reference correction applied to every pixel (apparent, emissivity-1 domain); absent means
   * none. `removeReference` gives back what the sensor read.
   */
  correction?: ReferenceCorrection;
  visible?: VisibleFrame;
  /** Where the blackbody is (never a face); null while unknown. */
  referenceRegion: Region | null;
  /** The committed calibration the reference runs on; null while it runs on the configuration. */
  calibrationId: string | null;
}

export type Region = { x: number; y: number; width: number; height: number };
export type Point = { x: number; y: number };
/** [x, y, width, height] in the thermal image's pixels. */
export type Box = [number, number, number, number];

export interface FaceKeypoints {
  rightEye: Point | null;
  leftEye: Point | null;
  nose: Point | null;
  mouth: Point | null;
  rightEar: Point | null;
  leftEar: Point | null;
  /** Inner canthi (tear-duct corners), when the detector locates them directly. */
  rightCanthus?: Point | null;
  leftCanthus?: Point | null;
}

export interface Face {
  box: Box;
  keypoints: FaceKeypoints;
  score: number;
  from: 'visible' | 'thermal';
  /** True when the face looks roughly at the camera, null when the detector cannot tell. */
  frontal: boolean | null;
}

export type QualityFlag =
  | 'too-far'
  | 'not-frontal'
  | 'eyes-obstructed'
  | 'at-border'
  | 'reference-not-stable'
  | 'faces-too-close'
  | 'flat-field'
  | 'no-canthus';

export interface Measurement {
  canthusC: number | null;
  faceMaxC: number | null;
  foreheadC: number | null;
  pixelsAcrossFace: number;
  /** Estimated head turn in degrees, null when unknown. */
  yawDeg: number | null;
  flags: QualityFlag[];
}

export type Decision = 'normal' | 'elevated' | 'retest' | 'invalid';

/** The calibration in force for a reading: what corrected it, so it can be proven later. */
export interface CalibrationSummary {
  referenceState: ReferenceStateName;
  /** Reference offset applied to the reading's frames (median), °C. */
  offsetC: number;
  /** Reference gain (two blackbodies), 1 with one. */
  gain: number;
  /** The committed calibration (calibration history id); null while the camera runs on its configuration. */
  calibrationId: string | null;
}

/** A radiometric crop of a person's best frame (°C, reference-corrected apparent temperatures). */
export interface ThermalCrop {
  /** Where the crop sits in the frame, thermal pixels. */
  x: number;
  y: number;
  width: number;
  height: number;
  celsius: Float32Array;
  /** The face's box in frame pixels. */
  faceBox: Box;
  seq: number;
  capturedAt: number;
}

/**
 * One person's screening as published on the bus: `new` when the tracker confirms them, `update`
 * when the decision, reasons or reading change (at most once a second, a first `elevated` at once),
 * `end` when they left with the final reading. One stable `personId`; the bus stamps `id` and `at`.
 */
export interface ScreeningEvent {
  id: string;
  kind: 'new' | 'update' | 'end';
  personId: string;
  at: number;
  /** The person's screening state and what they are asked to do right now (codes). */
  state: PersonStateName;
  prompts: PromptCode[];
  skinC: number | null;
  estimatedCoreC: number | null;
  decision: Decision;
  /** Why, as codes and in words (the catalogue's wording; decisions add their own sentences). */
  reasonCodes: PromptCode[];
  reasons: string[];
  calibration: CalibrationSummary;
  applianceId: string;
  cameraId: string;
  box: Box;
  /** Display unit of the site; the numbers stay in °C. */
  unit: 'C' | 'F';
  /** The estimated core temperature in the display unit, e.g. "37.9 °C"; null without a reading. */
  display: string | null;
  /** True on the one event that raises this person's alarm. */
  alert: boolean;
  /** Good frames behind the reading so far. */
  goodFrames: number;
  mode: 'absolute' | 'relative';
  /** Frame numbers of the person's first and last detection. */
  firstSeq: number;
  lastSeq: number;
  /**
   * With a reading: how finely it resolved the face and the canthus (pixels across each, the read
   * window, and a note when the face is small enough that the canthus may read low).
   */
  resolution?: { pixelsAcrossFace: number; canthusPx: number; windowPx: number; note: string | null };
  /** `end` only: where the person was, about once a second: [frame seq, x, y, width, height]. */
  trackBoxes?: [number, ...Box][];
  /** `end` and alerting events: the person's best frame so far, for snapshots. */
  crop?: ThermalCrop;
}

/** A person on one frame, as an overlay draws it. */
export interface TrackView {
  /** Null while the track is tentative (not yet a person). */
  personId: string | null;
  box: Box;
  state: PersonStateName;
  prompts: PromptCode[];
  decision: Decision | null;
  estimatedCoreC: number | null;
  display: string | null;
}

/** What happens to a corrected frame next (detection, tracking, screening): the persons on it. */
export interface FrameStage {
  process(frame: ThermalFrame): TrackView[];
  /** The source ended: close open tracks. */
  flush?(at: number): void;
  /** Tracks seen on several frames that never showed a face consistently: not persons, no events. */
  readonly unconfirmedCandidates?: number;
}
