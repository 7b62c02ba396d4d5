/**
 * Committed records that several parts exchange (on the bus, in the stores, over the API): the
 * calibration of a camera's blackbody reference and the visible → thermal registration of a
 * bi-spectrum camera.
 */
import type { Homography } from '../../calibration/homography.ts';
import type { Point } from './types.ts';

export interface CalibrationRegion {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface CalibrationRecord {
  id: string;
  cameraId: string;
  committedBy: string;
  committedAt: string;
  /** What is applied to the camera's reference. */
  values: { region: CalibrationRegion; setpointC: number; emissivity: number };
  /** What the session measured (see calibrationSessions.ts for each figure's meaning). */
  figures: Record<string, unknown>;
  /** The acceptance rule's verdict with every figure and its limit. */
  verification: Record<string, unknown>;
}

export interface RegistrationPair {
  /** Visible-image pixel (the profile's visible size). */
  visible: Point;
  /** Thermal-image pixel. */
  thermal: Point;
}

export interface RegistrationFigures {
  pairs: number;
  /** Pairs beyond the 4 a homography needs: with none the fit is exact and the error proves nothing. */
  redundantPairs: number;
  rmsPx: number;
  maxPx: number;
  /** Distance for each pair, in the order given, thermal pixels. */
  perPointPx: number[];
}

export interface RegistrationRecord {
  id: string;
  cameraId: string;
  committedBy: string;
  committedAt: string;
  /** Image sizes the points refer to. */
  visibleSize: { width: number; height: number };
  thermalSize: { width: number; height: number };
  pairs: RegistrationPair[];
  homography: Homography;
  figures: RegistrationFigures;
  limits: { maxRmsPx: number; maxPointPx: number };
  /** Committed although over the limits (`force`), with the failures it had. */
  forced: boolean;
  failures: string[];
}
