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
}

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

export interface CalibrationSummary {
  referenceState: ReferenceStateName;
  offsetC: number;
  calibrationId: string | null;
}

export interface ScreeningEvent {
  id: string;
  kind: 'new' | 'update' | 'end';
  personId: string;
  at: number;
  skinC: number | null;
  estimatedCoreC: number | null;
  decision: Decision;
  reasons: string[];
  calibration: CalibrationSummary;
  snapshot?: string;
  applianceId: string;
  cameraId: string;
  box?: Box;
}
