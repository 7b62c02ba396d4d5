/** A camera model described as data (firmware-config/cameras/*.json): geometry, timing, radiometry. */
export type Radiometry =
  /** Lepton-style TLinear: counts are kelvin × 1/resolutionK (0.01 K or 0.1 K per count). */
  | { kind: 'tlinear'; resolutionK: 0.01 | 0.1 }
  /** Linear: °C = counts × gain + offsetC (e.g. InfiRay raw/64 = K → gain 1/64, offset −273.15). */
  | { kind: 'linear'; gain: number; offsetC: number }
  /** FLIR Planck model on the raw signal with object parameters (emissivity, reflected, atmosphere). */
  | {
      kind: 'planck';
      R1: number;
      R2: number;
      B: number;
      F: number;
      O: number;
      atmosphere?: { alpha1: number; alpha2: number; beta1: number; beta2: number; X: number };
    };

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
