/** What a thermal file holds once read: temperatures when it is radiometric, grey levels always. */
export type ThermalFormat =
  | 'flir-jpeg'
  | 'flir-fff'
  | 'radiometric-tiff'
  | 'matrix-csv'
  | 'y16'
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

/** One error type for everything that can be wrong with a thermal file. */
export class ThermalFileError extends Error {
  readonly file: string;

  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(`${file}: ${message}`, options);
    this.name = 'ThermalFileError';
    this.file = file;
  }
}
