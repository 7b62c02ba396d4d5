import { CanthusError } from '../core/errors.ts';

/** What a thermal file holds once read: temperatures when it is radiometric, grey levels always. */
export type ThermalFormat =
  | 'flir-jpeg'
  | 'flir-fff'
  | 'radiometric-tiff'
  | 'matrix-csv'
  | 'y16'
  | 'cptv'
  | 'image-8bit';

export interface ThermalImage {
  /** Path the image was read from. */
  file: string;
  format: ThermalFormat;
  width: number;
  height: number;
  /** True when `celsius` holds measured temperatures. */
  radiometric: boolean;
  /** Row-major °C, width × height; NaN where a pixel has no valid reading. Null for non-radiometric images. */
  celsius: Float32Array | null;
  /** Row-major grey levels for display and 8-bit face detection (temperatures stretched min → max). */
  gray8: Uint8Array | null;
  /** How the file was interpreted (camera, constants, units, scale …), for people and for audit. */
  meta: Record<string, unknown>;
}

/**
 * Everything that can be wrong with a thermal file (or the camera profile it needs). A CanthusError, so
 * the CLI prints it as a message a person can act on rather than as a crash.
 */
export class ThermalFileError extends CanthusError {
  readonly file: string;

  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(`${file}: ${message}`);
    this.name = 'ThermalFileError';
    this.file = file;
    if (options && 'cause' in options) this.cause = options.cause;
  }
}
