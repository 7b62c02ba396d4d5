/**
 * Cameras mounted rotated (the feverscreen kiosks hang their Lepton in portrait): the frame is turned
 * upright right after capture, before radiometry, the reference, detection, snapshots and the UI, so
 * nothing downstream has to know. Profiles keep the sensor's native size; an upright frame of a camera
 * turned 90° or 270° is height × width. Regions in the configuration (blackbody, exclusion zones) are
 * in these upright coordinates, as the live view shows them.
 */
import type { RawFrame } from '../core/types.ts';

export const ROTATIONS = [0, 90, 180, 270] as const;
export type Rotation = (typeof ROTATIONS)[number];

/** The upright frame's size for a sensor of `width` × `height` turned by `rotate`. */
export function rotatedSize(
  width: number,
  height: number,
  rotate: Rotation,
): { width: number; height: number } {
  return rotate === 90 || rotate === 270 ? { width: height, height: width } : { width, height };
}

/**
 * The image turned clockwise by `rotate` degrees: with 90, the stored image's left column becomes the
 * top row (a head at the left of a portrait-mounted sensor ends up at the top).
 */
export function rotateCounts(
  data: Uint16Array,
  width: number,
  height: number,
  rotate: Rotation,
): Uint16Array {
  if (data.length !== width * height)
    throw new RangeError(`frame has ${data.length} pixels, expected ${width}×${height}`);
  if (rotate === 0) return data;
  const out = new Uint16Array(data.length);
  if (rotate === 180) {
    for (let i = 0, n = data.length; i < n; i++) out[i] = data[n - 1 - i];
    return out;
  }
  // 90 / 270: the output is `height` wide and `width` tall.
  const ow = height;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      // 90° clockwise: source (x, y) → (height − 1 − y, x); 270°: → (y, width − 1 − x).
      const o = rotate === 90 ? x * ow + (height - 1 - y) : (width - 1 - x) * ow + y;
      out[o] = data[row + x];
    }
  }
  return out;
}

/** The frame upright: counts turned, width and height the upright ones, everything else kept. */
export function rotateFrame(frame: RawFrame, rotate: Rotation): RawFrame {
  if (rotate === 0) return frame;
  const size = rotatedSize(frame.width, frame.height, rotate);
  return { ...frame, ...size, data: rotateCounts(frame.data, frame.width, frame.height, rotate) };
}
