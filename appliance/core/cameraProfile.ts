import type { Radiometry } from '../../calibration/radiometry.ts';

/** A camera model described as data (firmware-config/cameras/*.json): geometry, timing, radiometry. */
export interface CameraProfile {
  id: string;
  name: string;
  width: number;
  height: number;
  /** Nominal frames per second. */
  fps: number;
  /** GStreamer raw format of the thermal stream. */
  pixelFormat: 'GRAY16_LE' | 'GRAY16_BE';
  radiometry: Radiometry;
  /** Noise-equivalent temperature difference in °C. */
  netdC: number;
  /** Absolute accuracy of the core alone, without a reference, ± °C. */
  accuracyC: number;
  /** Periodic shutter (flat-field) events, when the core has them. */
  flatField: { intervalS: number; durationS: number } | null;
  /** Fewest pixels across a face for a valid canthus reading at this resolution. */
  minFacePx: number;
  /** Visible stream of a bi-spectrum camera. */
  visible: { width: number; height: number; fps: number } | null;
  /** How a source of this camera is opened when none is configured. */
  defaultSource: string;
  notes?: string;
}
