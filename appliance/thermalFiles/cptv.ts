/**
 * CPTV (Cacophony Project thermal video, version 2) as the feverscreen kiosks wrote it, read without
 * third-party code. The whole file is one gzip stream; inside, little-endian:
 * - "CPTV", version byte (2);
 * - header section: 'H', field count, fields (each: length byte, code byte, that many bytes; unknown codes
 *   skipped by their length);
 * - frames to the end of the stream: 'F', field count, fields (`t` time on ms, `c` last flat-field ms,
 *   `w` bit width, `f` pixel-data bytes, `a`/`b` sensor temperatures), then the pixel data: an i32 first
 *   value and width·height − 1 signed `w`-bit numbers, MSB first. Their running sum is each pixel's change
 *   since the previous frame, pixels in snake order (even rows left → right, odd rows right → left).
 * There are no key frames: every frame is decoded from the one before it.
 */
import { gunzipSync } from 'node:zlib';
import { THERMAL_FILE_LIMITS } from './limits.ts';
import { ThermalFileError } from './types.ts';

export interface CptvHeader {
  version: number;
  width: number;
  height: number;
  /** Recording start, ms since the Unix epoch (null when the file has no `T`). */
  startedAtMs: number | null;
  compression: number;
  /** Frames per second the header states (the kiosks say 9; their real interval is ≈ 114 ms). */
  headerFps: number | null;
  deviceName: string | null;
  deviceId: number | null;
  cameraSerial: number | null;
  firmware: string | null;
  model: string | null;
  brand: string | null;
  previewSeconds: number | null;
  motionConfig: string | null;
}

export interface CptvFrame {
  index: number;
  /** Time since the camera powered on, ms. */
  timeOnMs: number;
  /** Time-on of the last flat-field correction, ms (0: none yet). */
  lastFfcMs: number;
  bitWidth: number;
  /** Sensor temperatures when the writer recorded them (newer writers), °C. */
  frameTempC: number | null;
  lastFfcTempC: number | null;
  /** Row-major counts, width × height. Reused between frames: copy it to keep it. */
  pixels: Uint16Array;
}

const MAGIC = [0x43, 0x50, 0x54, 0x56]; // "CPTV"

/**
 * A Lepton freezes for about a second during a flat-field correction and the scene steps a little after it;
 * the clips show the freeze as a ≈ 2 s gap in frame times. Frames within this long after the correction are
 * flagged: readings across an FFC are not valid.
 */
export const AFTER_FFC_MS = 2000;

/** True for a frame taken within AFTER_FFC_MS of a flat-field correction. */
export function isAfterFlatField(frame: Pick<CptvFrame, 'timeOnMs' | 'lastFfcMs'>): boolean {
  return frame.lastFfcMs > 0 && frame.timeOnMs - frame.lastFfcMs < AFTER_FFC_MS;
}

/**
 * Counts flat-field events as a clip goes by: a new correction time is an event, and so is one that ended
 * just before the clip's first frame. `next` returns true when the frame starts an event.
 */
export class FlatFieldEvents {
  private previous: number | null = null;
  next(frame: Pick<CptvFrame, 'timeOnMs' | 'lastFfcMs'>): boolean {
    let event = false;
    if (frame.lastFfcMs > 0 && frame.lastFfcMs !== this.previous) {
      event = this.previous !== null || isAfterFlatField(frame);
      this.previous = frame.lastFfcMs;
    }
    return event;
  }
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Unpacks the gzip stream, refusing more than the limit before it is allocated in full. */
export function gunzipCptv(file: string, compressed: Uint8Array, maxBytes: number): Uint8Array {
  try {
    return gunzipSync(compressed, { maxOutputLength: maxBytes });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new ThermalFileError(
        file,
        `CPTV unpacks to more than the limit of ${maxBytes} bytes (${Math.round(maxBytes / 2 ** 20)} MiB)`,
      );
    }
    throw new ThermalFileError(
      file,
      `CPTV is not a readable gzip stream (${(err as Error).message}); the file may be truncated`,
    );
  }
}

class Cursor {
  at = 0;
  private readonly view: DataView;
  constructor(
    readonly file: string,
    readonly bytes: Uint8Array,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number, what: string): void {
    if (this.at + n > this.bytes.length) {
      throw new ThermalFileError(this.file, `truncated CPTV: ${what} runs past the end of the data`);
    }
  }
  u8(): number {
    this.need(1, 'a field');
    return this.bytes[this.at++];
  }
  view32(at: number, kind: 'u32' | 'i32' | 'f32'): number {
    if (kind === 'u32') return this.view.getUint32(at, true);
    if (kind === 'i32') return this.view.getInt32(at, true);
    return this.view.getFloat32(at, true);
  }
  u64(at: number): number {
    return Number(this.view.getBigUint64(at, true));
  }
}

interface Field {
  code: string;
  at: number;
  length: number;
}

function readFields(c: Cursor, what: string): Field[] {
  const count = c.u8();
  const fields: Field[] = [];
  for (let i = 0; i < count; i++) {
    const length = c.u8();
    const code = String.fromCharCode(c.u8());
    c.need(length, `${what} field '${code}'`);
    fields.push({ code, at: c.at, length });
    c.at += length;
  }
  return fields;
}

function text(c: Cursor, f: Field): string {
  return new TextDecoder('utf-8').decode(c.bytes.subarray(f.at, f.at + f.length));
}

function numberField(c: Cursor, f: Field, what: string): number {
  const bad = () =>
    new ThermalFileError(
      c.file,
      `CPTV ${what} field '${f.code}' has ${f.length} bytes, which fits no number`,
    );
  switch (f.length) {
    case 1:
      return c.bytes[f.at];
    case 2:
      return c.bytes[f.at] | (c.bytes[f.at + 1] << 8);
    case 4:
      return c.view32(f.at, 'u32');
    case 8:
      return c.u64(f.at);
    default:
      throw bad();
  }
}

function parseHeader(c: Cursor): CptvHeader {
  c.need(5, 'the CPTV signature');
  if (!MAGIC.every((b, i) => c.bytes[i] === b)) {
    throw new ThermalFileError(c.file, 'not a CPTV file: the unpacked stream does not start with "CPTV"');
  }
  c.at = 4;
  const version = c.u8();
  if (version !== 2) {
    throw new ThermalFileError(c.file, `CPTV version ${version} is not supported; version 2 is`);
  }
  if (c.u8() !== 0x48)
    throw new ThermalFileError(c.file, "corrupt CPTV: the header section must start with 'H'");
  const header: CptvHeader = {
    version,
    width: 0,
    height: 0,
    startedAtMs: null,
    compression: 0,
    headerFps: null,
    deviceName: null,
    deviceId: null,
    cameraSerial: null,
    firmware: null,
    model: null,
    brand: null,
    previewSeconds: null,
    motionConfig: null,
  };
  for (const f of readFields(c, 'header')) {
    switch (f.code) {
      case 'T':
        header.startedAtMs = numberField(c, f, 'header') / 1000;
        break;
      case 'X':
        header.width = numberField(c, f, 'header');
        break;
      case 'Y':
        header.height = numberField(c, f, 'header');
        break;
      case 'C':
        header.compression = numberField(c, f, 'header');
        break;
      case 'Z':
        header.headerFps = numberField(c, f, 'header');
        break;
      case 'P':
        header.previewSeconds = numberField(c, f, 'header');
        break;
      case 'I':
        header.deviceId = numberField(c, f, 'header');
        break;
      case 'N':
        header.cameraSerial = numberField(c, f, 'header');
        break;
      case 'D':
        header.deviceName = text(c, f);
        break;
      case 'V':
        header.firmware = text(c, f);
        break;
      case 'E':
        header.model = text(c, f);
        break;
      case 'B':
        header.brand = text(c, f);
        break;
      case 'M':
        header.motionConfig = text(c, f);
        break;
      default:
        break; // location fields and codes newer than this reader: skipped by their length
    }
  }
  const { maxWidth, maxHeight } = THERMAL_FILE_LIMITS;
  if (!(header.width > 0 && header.height > 0)) {
    throw new ThermalFileError(c.file, 'CPTV header has no width and height (fields X and Y)');
  }
  if (header.width > maxWidth || header.height > maxHeight) {
    throw new ThermalFileError(
      c.file,
      `${header.width}×${header.height} pixels exceeds the limit of ${maxWidth}×${maxHeight}`,
    );
  }
  if (header.compression !== 1) {
    throw new ThermalFileError(
      c.file,
      `CPTV compression ${header.compression} is not supported; allowed: 1 (bit-packed frame deltas)`,
    );
  }
  return header;
}

/** Snake order → row-major index, per position in the packed stream. */
function snakeOrder(width: number, height: number): Uint32Array {
  const order = new Uint32Array(width * height);
  let i = 0;
  for (let y = 0; y < height; y++) {
    for (let k = 0; k < width; k++) order[i++] = y * width + (y % 2 === 0 ? k : width - 1 - k);
  }
  return order;
}

export interface CptvReadResult {
  header: CptvHeader;
  frameCount: number;
}

/**
 * Decodes `unpacked` (the gunzipped file) frame by frame, calling `onFrame` for each; returning false from
 * it stops early. The frame's `pixels` array is reused for the next frame.
 */
export function decodeCptv(
  file: string,
  unpacked: Uint8Array,
  onFrame: (frame: CptvFrame, header: CptvHeader) => boolean | undefined,
): CptvReadResult {
  const c = new Cursor(file, unpacked);
  const header = parseHeader(c);
  const { width, height } = header;
  const n = width * height;
  const order = snakeOrder(width, height);
  const current = new Int32Array(n);
  const pixels = new Uint16Array(n);
  let index = 0;
  while (c.at < unpacked.length) {
    const section = c.u8();
    if (section !== 0x46) {
      throw new ThermalFileError(
        file,
        `corrupt CPTV: frame ${index} must start with 'F', found byte ${section} at ${c.at - 1}`,
      );
    }
    const frame: Omit<CptvFrame, 'pixels'> = {
      index,
      timeOnMs: 0,
      lastFfcMs: 0,
      bitWidth: -1,
      frameTempC: null,
      lastFfcTempC: null,
    };
    let size = -1;
    for (const f of readFields(c, `frame ${index}`)) {
      if (f.code === 't') frame.timeOnMs = numberField(c, f, 'frame');
      else if (f.code === 'c') frame.lastFfcMs = numberField(c, f, 'frame');
      else if (f.code === 'w') frame.bitWidth = numberField(c, f, 'frame');
      else if (f.code === 'f') size = numberField(c, f, 'frame');
      else if (f.code === 'a' && f.length === 4) frame.frameTempC = c.view32(f.at, 'f32');
      else if (f.code === 'b' && f.length === 4) frame.lastFfcTempC = c.view32(f.at, 'f32');
    }
    const w = frame.bitWidth;
    if (!(w >= 1 && w <= 24)) {
      throw new ThermalFileError(file, `CPTV frame ${index} has bit width ${w}; allowed: 1 to 24`);
    }
    const needed = 4 + Math.ceil(((n - 1) * w) / 8);
    if (size < needed) {
      throw new ThermalFileError(
        file,
        `corrupt CPTV: frame ${index} says ${size} bytes of pixel data, ${width}×${height} at ${w} bits needs ${needed}`,
      );
    }
    c.need(size, `frame ${index}'s pixel data`);
    unpackDeltas(c.bytes, c.at, n, w, order, current);
    for (let i = 0; i < n; i++) {
      const v = current[i];
      if (v < 0 || v > 0xffff) {
        throw new ThermalFileError(
          file,
          `corrupt CPTV: frame ${index} decodes to ${v} at pixel ${i % width},${Math.floor(i / width)}; counts are 0..65535`,
        );
      }
      pixels[i] = v;
    }
    c.at += size;
    const more = onFrame({ ...frame, pixels }, header);
    index++;
    if (more === false) break;
  }
  return { header, frameCount: index };
}

/** Adds one packed frame of deltas to `current` (row-major). */
function unpackDeltas(
  bytes: Uint8Array,
  start: number,
  n: number,
  w: number,
  order: Uint32Array,
  current: Int32Array,
): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, 4);
  let sum = view.getInt32(0, true);
  current[order[0]] += sum;
  let pos = start + 4;
  let acc = 0;
  let bits = 0;
  const mask = w === 32 ? 0xffffffff : (1 << w) - 1;
  const sign = 1 << (w - 1);
  for (let i = 1; i < n; i++) {
    while (bits < w) {
      acc = ((acc << 8) | bytes[pos++]) >>> 0;
      bits += 8;
    }
    bits -= w;
    let delta = (acc >>> bits) & mask;
    acc &= (1 << bits) - 1;
    if (delta & sign) delta -= mask + 1;
    sum += delta;
    current[order[i]] += sum;
  }
}
