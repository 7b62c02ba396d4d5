/**
 * FLIR radiometric JPEG and FFF files, parsed without exiftool.
 *
 * A FLIR JPEG carries an FFF record split over APP1 segments that start with "FLIR\0"; concatenated
 * in chunk order they form the same structure an .fff file holds directly:
 * - header (64 bytes): "FFF\0", creator, format version (100..199, which also tells the byte order),
 *   offset and count of the record directory;
 * - directory of 32-byte entries (type, subtype, version, id, offset, length, …);
 * - record 0x01 RawData: width, height, then the 16-bit image (PNG, TIFF, or plain words);
 * - record 0x20 CameraInfo: emissivity, distances, temperatures (K), Planck and atmosphere constants.
 * Offsets follow exiftool's FLIR.pm tables.
 */
import {
  type AtmosphereConstants,
  KELVIN_OFFSET,
  type ObjectParameters,
  type PlanckConstants,
} from '../../calibration/radiometry.ts';
import { dimensionProblem } from './limits.ts';
import { decodeTiff } from './tiff.ts';
import { ThermalFileError } from './types.ts';

const RECORD_RAW_DATA = 0x01;
const RECORD_CAMERA_INFO = 0x20;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A FLIR file whose FFF record holds no raw thermal image (non-radiometric cameras, stripped exports). */
export class FlirNotRadiometricError extends ThermalFileError {}

export interface FlirRecord {
  width: number;
  height: number;
  /** Raw counts as the detector delivered them, byte order already resolved. */
  raw: Uint16Array;
  planck: PlanckConstants & { atmosphere: AtmosphereConstants };
  object: ObjectParameters;
  meta: Record<string, unknown>;
}

class Reader {
  readonly bytes: Uint8Array;
  littleEndian: boolean;
  private readonly view: DataView;
  constructor(bytes: Uint8Array, littleEndian: boolean) {
    this.bytes = bytes;
    this.littleEndian = littleEndian;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u16(at: number): number {
    return this.view.getUint16(at, this.littleEndian);
  }
  u32(at: number): number {
    return this.view.getUint32(at, this.littleEndian);
  }
  i32(at: number): number {
    return this.view.getInt32(at, this.littleEndian);
  }
  f32(at: number): number {
    return this.view.getFloat32(at, this.littleEndian);
  }
  text(at: number, length: number): string {
    const end = Math.min(at + length, this.bytes.length);
    let s = '';
    for (let i = at; i < end && this.bytes[i] !== 0; i++) s += String.fromCharCode(this.bytes[i]);
    return s.trim();
  }
}

export function isFlirFff(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 &&
    (bytes[0] === 0x46 || bytes[0] === 0x41) && // 'F' or 'A' (AFF)
    bytes[1] === 0x46 &&
    bytes[2] === 0x46 &&
    bytes[3] === 0
  );
}

/** The FFF record hidden in a JPEG's FLIR APP1 segments, or null when the JPEG has none. */
export function extractFffFromJpeg(file: string, bytes: Uint8Array): Uint8Array | null {
  const chunks = new Map<number, Uint8Array>();
  let lastIndex = -1;
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) {
      throw new ThermalFileError(file, `corrupt JPEG: expected a marker at byte ${pos}`);
    }
    const marker = bytes[pos + 1];
    if (marker === 0xff) {
      pos++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += 2;
      continue;
    }
    // Start of scan or end of image: the metadata segments all come before.
    if (marker === 0xda || marker === 0xd9) break;
    const length = (bytes[pos + 2] << 8) | bytes[pos + 3];
    const end = pos + 2 + length;
    if (length < 2 || end > bytes.length) {
      throw new ThermalFileError(
        file,
        `truncated JPEG: segment at byte ${pos} runs past the end of the file`,
      );
    }
    if (
      marker === 0xe1 &&
      length >= 10 &&
      bytes[pos + 4] === 0x46 && // F
      bytes[pos + 5] === 0x4c && // L
      bytes[pos + 6] === 0x49 && // I
      bytes[pos + 7] === 0x52 && // R
      bytes[pos + 8] === 0
    ) {
      const index = bytes[pos + 10];
      lastIndex = bytes[pos + 11];
      chunks.set(index, bytes.subarray(pos + 12, end));
    }
    pos = end;
  }
  if (chunks.size === 0) return null;
  const parts: Uint8Array[] = [];
  for (let i = 0; i <= lastIndex; i++) {
    const part = chunks.get(i);
    if (!part) {
      throw new ThermalFileError(
        file,
        `truncated FLIR JPEG: FLIR segment ${i} of ${lastIndex + 1} is missing (the file was cut or re-saved by an editor that drops metadata)`,
      );
    }
    parts.push(part);
  }
  const total = parts.reduce((sum, p) => sum + p.length, 0);
  const fff = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    fff.set(p, at);
    at += p.length;
  }
  return fff;
}

/** Byte order of a record from its first word, which is 2 in the record's own order. */
function recordReader(bytes: Uint8Array, headerLittleEndian: boolean): Reader {
  const r = new Reader(bytes, headerLittleEndian);
  if (bytes.length >= 2 && r.u16(0) >= 0x100) r.littleEndian = !r.littleEndian;
  return r;
}

export interface FffParseOptions {
  /** Decodes a 16-bit grey PNG into big-endian-interpreted words (PNG's own order). */
  decodePng16: (png: Uint8Array) => Promise<{ width: number; height: number; data: Uint16Array }>;
}

export async function parseFff(file: string, fff: Uint8Array, opts: FffParseOptions): Promise<FlirRecord> {
  if (fff.length < 64 || !isFlirFff(fff)) {
    throw new ThermalFileError(
      file,
      'not a FLIR FFF record: it must start with "FFF\\0" and a 64-byte header',
    );
  }
  const header = new Reader(fff, false);
  let version = header.u32(0x14);
  if (version < 100 || version >= 200) {
    header.littleEndian = true;
    version = header.u32(0x14);
    if (version < 100 || version >= 200) {
      throw new ThermalFileError(
        file,
        `unsupported FLIR FFF version ${version}; versions 100..199 are supported`,
      );
    }
  }
  const dirOffset = header.u32(0x18);
  const dirCount = header.u32(0x1c);
  if (dirOffset + dirCount * 32 > fff.length) {
    throw new ThermalFileError(
      file,
      'truncated FLIR record: the record directory runs past the end of the data',
    );
  }
  let rawRecord: Uint8Array | null = null;
  let cameraRecord: Uint8Array | null = null;
  for (let i = 0; i < dirCount; i++) {
    const entry = dirOffset + i * 32;
    const type = header.u16(entry);
    if (type !== RECORD_RAW_DATA && type !== RECORD_CAMERA_INFO) continue;
    const offset = header.u32(entry + 0x0c);
    const length = header.u32(entry + 0x10);
    if (offset + length > fff.length) {
      throw new ThermalFileError(
        file,
        `truncated FLIR record: ${type === RECORD_RAW_DATA ? 'RawData' : 'CameraInfo'} needs bytes ${offset}..${offset + length}, the data has ${fff.length}`,
      );
    }
    const record = fff.subarray(offset, offset + length);
    if (type === RECORD_RAW_DATA && !rawRecord) rawRecord = record;
    if (type === RECORD_CAMERA_INFO && !cameraRecord) cameraRecord = record;
  }
  if (!rawRecord)
    throw new FlirNotRadiometricError(file, 'FLIR file has no RawData record: it is not radiometric');
  if (!cameraRecord) {
    throw new ThermalFileError(file, 'FLIR file has no CameraInfo record: the Planck constants are missing');
  }
  const camera = parseCameraInfo(file, cameraRecord, header.littleEndian);
  const image = await parseRawData(file, rawRecord, header.littleEndian, camera.planck, opts);
  return {
    width: image.width,
    height: image.height,
    raw: image.raw,
    planck: camera.planck,
    object: camera.object,
    meta: { ...camera.meta, ...image.meta, fffVersion: version },
  };
}

function parseCameraInfo(
  file: string,
  record: Uint8Array,
  headerLittleEndian: boolean,
): { planck: FlirRecord['planck']; object: ObjectParameters; meta: Record<string, unknown> } {
  if (record.length < 0x314) {
    throw new ThermalFileError(
      file,
      `FLIR CameraInfo record is ${record.length} bytes, expected at least 788`,
    );
  }
  const r = recordReader(record, headerLittleEndian);
  const kelvinToC = (k: number) => k - KELVIN_OFFSET;
  let humidity = r.f32(0x3c);
  // Stored as a fraction by most cameras, as percent by a few (exiftool does the same check).
  if (humidity <= 2) humidity *= 100;
  const planck = {
    R1: r.f32(0x58),
    B: r.f32(0x5c),
    F: r.f32(0x60),
    O: r.i32(0x308),
    R2: r.f32(0x30c),
    atmosphere: {
      alpha1: r.f32(0x70),
      alpha2: r.f32(0x74),
      beta1: r.f32(0x78),
      beta2: r.f32(0x7c),
      X: r.f32(0x80),
    },
  };
  const object: ObjectParameters = {
    emissivity: r.f32(0x20),
    distanceM: r.f32(0x24),
    reflectedC: kelvinToC(r.f32(0x28)),
    atmosphereC: kelvinToC(r.f32(0x2c)),
    humidityPct: humidity,
  };
  // External optics / protective window: FLIR applies it when its transmission is below 1. Values outside
  // (0, 1) mean "no window" (1.0 in almost every file; 0 in some stripped exports).
  const windowTransmission = r.f32(0x34);
  if (windowTransmission > 0 && windowTransmission < 1) {
    object.window = { transmission: windowTransmission, temperatureC: kelvinToC(r.f32(0x30)) };
  }
  for (const [name, value] of Object.entries({ ...planck, ...planck.atmosphere, ...object })) {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new ThermalFileError(file, `FLIR CameraInfo has a non-numeric ${name}: the record is corrupt`);
    }
  }
  if (!(planck.R1 > 0 && planck.R2 > 0 && planck.B > 0)) {
    throw new ThermalFileError(
      file,
      'FLIR CameraInfo has no usable Planck constants (R1, R2, B must be > 0)',
    );
  }
  const meta = {
    cameraModel: r.text(0xd4, 32),
    cameraPartNumber: r.text(0xf4, 16),
    cameraSerialNumber: r.text(0x104, 16),
    cameraSoftware: r.text(0x114, 16),
    lensModel: r.text(0x170, 32),
    irWindowC: kelvinToC(r.f32(0x30)),
    irWindowTransmission: r.f32(0x34),
    rawValueRange: { min: r.u16(0x310), max: r.u16(0x312) },
    rawValueMedian: record.length >= 0x33a ? r.u16(0x338) : null,
  };
  return { planck, object, meta };
}

async function parseRawData(
  file: string,
  record: Uint8Array,
  headerLittleEndian: boolean,
  planck: PlanckConstants,
  opts: FffParseOptions,
): Promise<{ width: number; height: number; raw: Uint16Array; meta: Record<string, unknown> }> {
  if (record.length < 0x20) throw new ThermalFileError(file, 'FLIR RawData record is too short');
  const r = recordReader(record, headerLittleEndian);
  const width = r.u16(2);
  const height = r.u16(4);
  if (width === 0 || height === 0)
    throw new ThermalFileError(file, 'FLIR RawData record has zero width or height');
  const tooLarge = dimensionProblem(width, height);
  if (tooLarge) throw new ThermalFileError(file, `FLIR raw thermal image: ${tooLarge}`);
  const payload = record.subarray(0x20);
  const n = width * height;
  if (PNG_SIGNATURE.every((b, i) => payload[i] === b)) {
    // The PNG's own header (IHDR) is checked before it is inflated: it may declare far more than the record.
    if (payload.length >= 24) {
      const ihdr = new DataView(payload.buffer, payload.byteOffset + 16, 8);
      const pngWidth = ihdr.getUint32(0);
      const pngHeight = ihdr.getUint32(4);
      const pngTooLarge = dimensionProblem(pngWidth, pngHeight);
      if (pngTooLarge) throw new ThermalFileError(file, `FLIR raw thermal PNG: ${pngTooLarge}`);
    }
    let png: { width: number; height: number; data: Uint16Array };
    try {
      png = await opts.decodePng16(payload);
    } catch (err) {
      throw new ThermalFileError(file, `FLIR raw thermal PNG cannot be decoded (${(err as Error).message})`, {
        cause: err,
      });
    }
    if (png.width !== width || png.height !== height) {
      throw new ThermalFileError(
        file,
        `FLIR raw thermal PNG is ${png.width}×${png.height}, the record says ${width}×${height}`,
      );
    }
    const swapped = chooseByteOrder(png.data, width, planck);
    return { width, height, raw: png.data, meta: { rawImageType: 'PNG', rawByteSwapped: swapped } };
  }
  if ((payload[0] === 0x49 && payload[1] === 0x49) || (payload[0] === 0x4d && payload[1] === 0x4d)) {
    const tiff = decodeTiff(file, payload);
    if (tiff.bitsPerSample !== 16 || tiff.sampleFormat === 3) {
      throw new ThermalFileError(file, 'FLIR raw thermal TIFF must be 16-bit unsigned');
    }
    return { width, height, raw: tiff.data as Uint16Array, meta: { rawImageType: 'TIFF' } };
  }
  // Plain words in the record's byte order (FFF files from FLIR cores and many FLIR JPEGs).
  if (payload.length < n * 2) {
    throw new ThermalFileError(
      file,
      `truncated FLIR raw image: ${width}×${height} needs ${n * 2} bytes, the record has ${payload.length}`,
    );
  }
  const raw = new Uint16Array(n);
  const view = new DataView(payload.buffer, payload.byteOffset, n * 2);
  for (let i = 0; i < n; i++) raw[i] = view.getUint16(i * 2, r.littleEndian);
  return { width, height, raw, meta: { rawImageType: 'words', rawLittleEndian: r.littleEndian } };
}

/**
 * FLIR writes the PNG's 16-bit words little-endian although PNG is big-endian (old cameras such as the
 * EX320 do not). Decide per image: the right byte order gives a smooth image whose values sit on the
 * calibrated part of the Planck curve; the wrong one puts the noisy low byte on top and jumps by
 * hundreds of counts between neighbours. Swaps in place when needed; returns whether it did.
 */
function chooseByteOrder(words: Uint16Array, width: number, planck: PlanckConstants): boolean {
  let roughAsIs = 0;
  let roughSwapped = 0;
  let validAsIs = 0;
  let validSwapped = 0;
  const swap = (v: number) => ((v & 0xff) << 8) | (v >> 8);
  const step = Math.max(1, Math.floor(words.length / 20000));
  for (let i = 0; i + 1 < words.length; i += step) {
    if ((i + 1) % width === 0) continue;
    const a = words[i];
    const b = words[i + 1];
    roughAsIs += Math.abs(a - b);
    roughSwapped += Math.abs(swap(a) - swap(b));
    if (a + planck.O > 0) validAsIs++;
    if (swap(a) + planck.O > 0) validSwapped++;
  }
  const swapped =
    validSwapped > validAsIs * 1.5 || (validSwapped * 1.5 >= validAsIs && roughSwapped < roughAsIs);
  if (swapped) for (let i = 0; i < words.length; i++) words[i] = swap(words[i]);
  return swapped;
}
