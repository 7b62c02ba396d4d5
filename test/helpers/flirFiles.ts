/**
 * Writes small FLIR FFF records and FLIR radiometric JPEGs for tests, with the layout the reader expects
 * (exiftool's FLIR.pm offsets): a big-endian FFF header and directory, little-endian RawData and CameraInfo
 * records. Lets tests build files from a known model (or hostile ones) without third-party images.
 */
import { KELVIN_OFFSET } from '../../calibration/radiometry.ts';

export interface FffCamera {
  R1: number;
  R2: number;
  B: number;
  F: number;
  O: number;
  emissivity: number;
  distanceM: number;
  reflectedC: number;
  atmosphereC: number;
  humidityPct: number;
  windowC?: number;
  windowTransmission?: number;
}

const STANDARD_ATMOSPHERE = [0.006569, 0.01262, -0.002276, -0.00667, 1.9];

/** An FFF record holding `raw` (plain little-endian words) or, when given, `payload` (e.g. a PNG). */
export function buildFff(
  width: number,
  height: number,
  camera: FffCamera,
  image: { raw?: Uint16Array; payload?: Uint8Array },
): Uint8Array {
  const payload =
    image.payload ?? new Uint8Array(image.raw!.buffer, image.raw!.byteOffset, image.raw!.byteLength);
  const rawRecord = new Uint8Array(0x20 + payload.length);
  const rv = new DataView(rawRecord.buffer);
  rv.setUint16(0, 2, true);
  rv.setUint16(2, width, true);
  rv.setUint16(4, height, true);
  rawRecord.set(payload, 0x20);

  const cameraRecord = new Uint8Array(0x340);
  const cv = new DataView(cameraRecord.buffer);
  cv.setUint16(0, 2, true);
  cv.setFloat32(0x20, camera.emissivity, true);
  cv.setFloat32(0x24, camera.distanceM, true);
  cv.setFloat32(0x28, camera.reflectedC + KELVIN_OFFSET, true);
  cv.setFloat32(0x2c, camera.atmosphereC + KELVIN_OFFSET, true);
  cv.setFloat32(0x30, (camera.windowC ?? 20) + KELVIN_OFFSET, true);
  cv.setFloat32(0x34, camera.windowTransmission ?? 1, true);
  cv.setFloat32(0x3c, camera.humidityPct / 100, true);
  cv.setFloat32(0x58, camera.R1, true);
  cv.setFloat32(0x5c, camera.B, true);
  cv.setFloat32(0x60, camera.F, true);
  for (const [i, v] of STANDARD_ATMOSPHERE.entries()) cv.setFloat32(0x70 + i * 4, v, true);
  cv.setInt32(0x308, camera.O, true);
  cv.setFloat32(0x30c, camera.R2, true);

  const dirOffset = 64;
  const rawOffset = dirOffset + 2 * 32;
  const cameraOffset = rawOffset + rawRecord.length;
  const fff = new Uint8Array(cameraOffset + cameraRecord.length);
  const hv = new DataView(fff.buffer);
  fff.set([0x46, 0x46, 0x46, 0], 0);
  hv.setUint32(0x14, 100);
  hv.setUint32(0x18, dirOffset);
  hv.setUint32(0x1c, 2);
  const entry = (i: number, type: number, offset: number, length: number) => {
    const at = dirOffset + i * 32;
    hv.setUint16(at, type);
    hv.setUint32(at + 0x0c, offset);
    hv.setUint32(at + 0x10, length);
  };
  entry(0, 0x01, rawOffset, rawRecord.length);
  entry(1, 0x20, cameraOffset, cameraRecord.length);
  fff.set(rawRecord, rawOffset);
  fff.set(cameraRecord, cameraOffset);
  return fff;
}

/** A JPEG shell carrying `fff` in FLIR APP1 segments (no image data is needed by the reader). */
export function buildFlirJpeg(fff: Uint8Array): Uint8Array {
  const chunkSize = 65000;
  const chunks = Math.ceil(fff.length / chunkSize);
  const parts: Uint8Array[] = [Uint8Array.from([0xff, 0xd8])];
  for (let i = 0; i < chunks; i++) {
    const data = fff.subarray(i * chunkSize, (i + 1) * chunkSize);
    const segment = new Uint8Array(4 + 8 + data.length);
    const length = 2 + 8 + data.length;
    segment.set([0xff, 0xe1, length >> 8, length & 0xff], 0);
    segment.set([0x46, 0x4c, 0x49, 0x52, 0, 1, i, chunks - 1], 4);
    segment.set(data, 12);
    parts.push(segment);
  }
  parts.push(Uint8Array.from([0xff, 0xd9]));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
