/**
 * Reads thermal images from files: FLIR radiometric JPEG and FFF, radiometric TIFF, temperature-matrix
 * text exports, raw .y16 frames (with a camera profile), and ordinary 8-bit images (faces only).
 * The format is decided from the content (magic bytes), the extension only for headerless .y16.
 */
import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import {
  defaultObjectParameters,
  KELVIN_OFFSET,
  type ObjectParameters,
  planckToCelsius,
  rawToCelsius,
} from '../../calibration/radiometry.ts';
import { loadProfiles } from '../config/load.ts';
import type { CameraProfile } from '../core/cameraProfile.ts';
import { type CptvFrame, type CptvHeader, decodeCptv, gunzipCptv, isGzip } from './cptv.ts';
import { extractFffFromJpeg, FlirNotRadiometricError, isFlirFff, parseFff } from './flir.ts';
import { dimensionProblem, jsonNestingDepth, THERMAL_FILE_LIMITS } from './limits.ts';
import { looksLikeText, parseTemperatureMatrix } from './matrix.ts';
import { invertPalette } from './palettes.ts';
import { checkCameraProfile, loadCameraProfile, profileForFrame } from './profiles.ts';
import { decodeTiff, isTiff, readTiffTags } from './tiff.ts';
import { ThermalFileError, type ThermalFormat, type ThermalImage } from './types.ts';

export { AFTER_FFC_MS, type CptvFrame, type CptvHeader, FlatFieldEvents, isAfterFlatField } from './cptv.ts';
export { THERMAL_FILE_LIMITS } from './limits.ts';
export { loadCameraProfile } from './profiles.ts';
export { ThermalFileError, type ThermalFormat, type ThermalImage } from './types.ts';

export interface ReadThermalFileOptions {
  /** Geometry and radiometry for .y16 raw frames (otherwise taken from a recording.json beside the file). */
  profile?: CameraProfile;
  /** Which frame of a multi-frame .y16 file to read (0 = first). */
  frame?: number;
}

const SUPPORTED =
  'FLIR radiometric JPEG, FLIR .fff, radiometric TIFF (16-bit or float), temperature-matrix CSV/TXT, ' +
  'raw .y16 with a camera profile, or an 8-bit PNG/JPEG';

export async function readThermalFile(
  file: string,
  opts: ReadThermalFileOptions = {},
): Promise<ThermalImage> {
  const size = await fileSize(file);
  if (size === 0) throw new ThermalFileError(file, `file is empty; expected ${SUPPORTED}`);
  // .y16 recordings can be long: only the wanted frame is read.
  if (path.extname(file).toLowerCase() === '.y16') return readY16(file, size, opts);
  const bytes = await readWholeFile(file, size);
  if (isGzip(bytes)) return readCptvImage(file, bytes, opts);
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    const fff = extractFffFromJpeg(file, bytes);
    if (!fff) return readImage8(file, bytes, 'JPEG without FLIR radiometric data');
    try {
      return await flirImage(file, 'flir-jpeg', fff);
    } catch (err) {
      // A FLIR JPEG from a non-radiometric camera is still a thermal picture, just without temperatures.
      if (err instanceof FlirNotRadiometricError)
        return readImage8(file, bytes, 'FLIR JPEG without raw thermal data');
      throw err;
    }
  }
  if (isFlirFff(bytes)) return flirImage(file, 'flir-fff', bytes);
  if (isTiff(bytes)) {
    const { tags } = readTiffTags(file, bytes);
    const bits = tags.get(258)?.[0] ?? 1;
    const samples = tags.get(277)?.[0] ?? 1;
    if (bits === 8 || samples > 1)
      return readImage8(file, bytes, `${bits}-bit TIFF with ${samples} channels`);
    return readRadiometricTiff(file, bytes);
  }
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    return readImage8(file, bytes, 'PNG');
  }
  if (looksLikeText(bytes)) {
    const { maxTextBytes } = THERMAL_FILE_LIMITS;
    if (bytes.length > maxTextBytes) {
      throw new ThermalFileError(
        file,
        `text matrix of ${bytes.length} bytes exceeds the limit of ${maxTextBytes} bytes`,
      );
    }
    return readMatrix(file, bytes);
  }
  throw new ThermalFileError(file, `unsupported format; allowed: ${SUPPORTED}`);
}

function cannotRead(file: string, err: unknown): ThermalFileError {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EISDIR'
        ? 'it is a directory, not a file'
        : code === 'EACCES'
          ? 'permission denied'
          : (err as Error).message;
  return new ThermalFileError(file, `cannot be read: ${why}`, { cause: err });
}

async function fileSize(file: string): Promise<number> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(file);
  } catch (err) {
    throw cannotRead(file, err);
  }
  if (info.isDirectory()) throw new ThermalFileError(file, 'cannot be read: it is a directory, not a file');
  return info.size;
}

/** The whole file, refused before reading when it is larger than any thermal still or clip needs. */
async function readWholeFile(file: string, size: number): Promise<Uint8Array> {
  const { maxFileBytes } = THERMAL_FILE_LIMITS;
  if (size > maxFileBytes) {
    throw new ThermalFileError(
      file,
      `${size} bytes exceeds the limit of ${maxFileBytes} bytes for a thermal file`,
    );
  }
  try {
    return new Uint8Array(await readFile(file));
  } catch (err) {
    throw cannotRead(file, err);
  }
}

/** Coldest and hottest valid pixel, or nulls for an image without temperatures. */
export function thermalImageSummary(img: ThermalImage): { minC: number | null; maxC: number | null } {
  if (!img.radiometric || !img.celsius) return { minC: null, maxC: null };
  const { min, max } = finiteRange(img.celsius);
  return min === null ? { minC: null, maxC: null } : { minC: min, maxC: max };
}

function finiteRange(values: Float32Array): { min: number | null; max: number | null } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v; // NaN compares false both ways and is skipped
    if (v > max) max = v;
  }
  return min <= max ? { min, max } : { min: null, max: null };
}

/** Temperatures stretched coldest → 0, hottest → 255 (NaN → 0), for display and face detection. */
export function celsiusToGray8(celsius: Float32Array, out?: Uint8Array): Uint8Array {
  const gray = out ?? new Uint8Array(celsius.length);
  const { min, max } = finiteRange(celsius);
  if (min === null || max === null) return gray.fill(0);
  const scale = max > min ? 255 / (max - min) : 0;
  for (let i = 0; i < celsius.length; i++) {
    const v = celsius[i];
    gray[i] = v >= min ? Math.round((v - min) * scale) : 0;
  }
  return gray;
}

async function decodePng16(png: Uint8Array): Promise<{ width: number; height: number; data: Uint16Array }> {
  // sharp converts grey16 to 8-bit-range sRGB unless the colour space is pinned to grey16.
  const { data, info } = await sharp(png, { limitInputPixels: MAX_PIXELS })
    .toColourspace('grey16')
    .raw({ depth: 'ushort' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 1) throw new Error(`expected 1 channel, got ${info.channels}`);
  const words = new Uint16Array(info.width * info.height);
  words.set(new Uint16Array(data.buffer, data.byteOffset, words.length));
  return { width: info.width, height: info.height, data: words };
}

async function flirImage(file: string, format: ThermalFormat, fff: Uint8Array): Promise<ThermalImage> {
  const record = await parseFff(file, fff, { decodePng16 });
  const celsius = planckToCelsius(record.raw, record.planck, record.object);
  return {
    file,
    format,
    width: record.width,
    height: record.height,
    radiometric: true,
    celsius,
    gray8: celsiusToGray8(celsius),
    meta: {
      ...record.meta,
      interpretation: 'FLIR Planck model with the camera’s emissivity, reflected and atmospheric parameters',
      planck: record.planck,
      objectParameters: record.object,
    },
  };
}

// Plausible scene temperatures when guessing how a TIFF encodes them.
const PLAUSIBLE_MIN_C = -60;
const PLAUSIBLE_MAX_C = 200;

function medianOf(values: ArrayLike<number>): number {
  const step = Math.max(1, Math.floor(values.length / 10001));
  const sample: number[] = [];
  for (let i = 0; i < values.length; i += step) if (Number.isFinite(values[i])) sample.push(values[i]);
  sample.sort((a, b) => a - b);
  return sample.length ? sample[sample.length >> 1] : Number.NaN;
}

function readRadiometricTiff(file: string, bytes: Uint8Array): ThermalImage {
  const tiff = decodeTiff(file, bytes);
  const n = tiff.width * tiff.height;
  const median = medianOf(tiff.data);
  const plausible = (c: number) => c >= PLAUSIBLE_MIN_C && c <= PLAUSIBLE_MAX_C;
  let celsius: Float32Array | null = null;
  let interpretation: string;
  if (tiff.data instanceof Float32Array) {
    if (plausible(median)) {
      celsius = new Float32Array(tiff.data);
      interpretation = 'float samples read as °C (median is a plausible scene temperature in °C)';
    } else if (plausible(median - KELVIN_OFFSET)) {
      celsius = new Float32Array(n);
      for (let i = 0; i < n; i++) celsius[i] = tiff.data[i] - KELVIN_OFFSET;
      interpretation = 'float samples read as kelvin (median is a plausible scene temperature in K)';
    } else {
      interpretation = `float samples (median ${median}) are neither plausible °C nor K: not radiometric`;
    }
  } else {
    // Known integer encodings: FLIR radiometric TIFF (Duo Pro R, Vue Pro R) 0.04 K per count, then
    // centi- and deci-kelvin (Lepton TLinear). Their plausible count ranges do not overlap.
    const scales = [
      { kelvinPerCount: 0.04, name: 'FLIR radiometric TIFF, 0.04 K per count' },
      { kelvinPerCount: 0.01, name: 'centi-kelvin (0.01 K per count)' },
      { kelvinPerCount: 0.1, name: 'deci-kelvin (0.1 K per count)' },
    ];
    const scale = scales.find((s) => plausible(median * s.kelvinPerCount - KELVIN_OFFSET));
    if (scale) {
      celsius = new Float32Array(n);
      for (let i = 0; i < n; i++) celsius[i] = tiff.data[i] * scale.kelvinPerCount - KELVIN_OFFSET;
      interpretation = `16-bit counts read as ${scale.name}: T[°C] = value × ${scale.kelvinPerCount} − 273.15`;
    } else {
      interpretation = `16-bit counts (median ${median}) match no known kelvin scale: not radiometric`;
    }
  }
  let gray8: Uint8Array;
  if (celsius) gray8 = celsiusToGray8(celsius);
  else {
    const asFloat = new Float32Array(tiff.data);
    gray8 = celsiusToGray8(asFloat);
  }
  return {
    file,
    format: 'radiometric-tiff',
    width: tiff.width,
    height: tiff.height,
    radiometric: celsius !== null,
    celsius,
    gray8,
    meta: {
      interpretation,
      bitsPerSample: tiff.bitsPerSample,
      sampleFormat: tiff.sampleFormat === 3 ? 'float' : 'unsigned',
      compression: tiff.compression,
      byteOrder: tiff.littleEndian ? 'little-endian' : 'big-endian',
      ...tiff.text,
    },
  };
}

function readMatrix(file: string, bytes: Uint8Array): ThermalImage {
  const m = parseTemperatureMatrix(file, bytes);
  return {
    file,
    format: 'matrix-csv',
    width: m.width,
    height: m.height,
    radiometric: true,
    celsius: m.celsius,
    gray8: celsiusToGray8(m.celsius),
    meta: {
      ...m.meta,
      interpretation: `temperature matrix in ${m.meta.unit === 'C' ? '°C' : m.meta.unit === 'F' ? '°F' : 'K'} (${m.meta.unitSource === 'header' ? 'unit from the header' : 'no unit in the file; assumed from the values'})`,
    },
  };
}

/** sharp refuses to decode more pixels than this (it checks the header before decoding). */
const MAX_PIXELS = THERMAL_FILE_LIMITS.maxWidth * THERMAL_FILE_LIMITS.maxHeight;

async function readImage8(file: string, bytes: Uint8Array, what: string): Promise<ThermalImage> {
  // The header's size first, for a message naming it (sharp's own refusal says only "exceeds pixel limit").
  let declared: sharp.Metadata | null = null;
  try {
    declared = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    // Undecodable: the decode below reports it.
  }
  const tooLarge =
    declared?.width && declared.height ? dimensionProblem(declared.width, declared.height) : null;
  if (tooLarge) throw new ThermalFileError(file, tooLarge);
  let result: { data: Buffer; info: sharp.OutputInfo };
  try {
    // sRGB with 3 channels whatever the input (grey, palette PNG, CMYK JPEG), so colours can be matched.
    result = await sharp(bytes, { limitInputPixels: MAX_PIXELS })
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new ThermalFileError(
      file,
      `${what} cannot be decoded (${(err as Error).message}); the file may be truncated`,
      {
        cause: err,
      },
    );
  }
  const { data, info } = result;
  const n = info.width * info.height;
  const inversion =
    info.channels >= 3
      ? invertPalette(new Uint8Array(data.buffer, data.byteOffset, data.length), info.channels, n)
      : { kind: 'grey' as const, gray8: new Uint8Array(data.subarray(0, n)) };
  const interpretation =
    inversion.kind === 'palette'
      ? `${what}: colours on the "${inversion.palette}" palette ramp, inverted to their position on it (0 cold … 255 hot); no temperatures`
      : inversion.kind === 'colour'
        ? `${what}: colour image whose colours lie on no known palette ramp (best ${inversion.bestPalette ?? 'none'}, ${Math.round(inversion.onRampShare * 100)} % of pixels on it): read as luminance; no temperatures`
        : `${what}: grey levels only, no temperatures`;
  return {
    file,
    format: 'image-8bit',
    width: info.width,
    height: info.height,
    radiometric: false,
    celsius: null,
    gray8: inversion.gray8,
    meta: {
      interpretation,
      palette: inversion.kind === 'palette' ? inversion.palette : null,
      ...(inversion.kind === 'grey' ? {} : { paletteOnRampShare: inversion.onRampShare }),
    },
  };
}

const RECORDING_JSON_MAX_BYTES = 1024 * 1024;

/** A CPTV clip's camera profile: `--profile` when given (its size must match), else chosen from the file. */
async function cptvProfile(
  file: string,
  header: CptvHeader,
  first: Uint16Array,
  given: CameraProfile | undefined,
): Promise<CameraProfile> {
  if (given) {
    if (given.width !== header.width || given.height !== header.height) {
      throw new ThermalFileError(
        file,
        `the clip is ${header.width}×${header.height}; camera profile ${given.id} is ${given.width}×${given.height}`,
      );
    }
    return given;
  }
  const sample = Array.from(first.subarray(0, 4096)).sort((a, b) => a - b);
  const profiles = loadProfiles(null);
  const profile = profileForFrame(
    profiles.values(),
    header.width,
    header.height,
    sample[sample.length >> 1],
    header.model,
  );
  if (!profile) {
    throw new ThermalFileError(
      file,
      `no camera profile is ${header.width}×${header.height} with a radiometry that reads this clip as plausible temperatures (${header.brand ?? '?'} ${header.model ?? '?'}); give one with --profile`,
    );
  }
  return profile;
}

export interface CptvClipFrame extends CptvFrame {
  profile: CameraProfile;
}

/**
 * Reads a CPTV clip frame by frame; `onFrame` gets each frame with the camera profile chosen for the clip
 * (return false to stop). The frame's pixel array is reused: copy it to keep it.
 */
export async function readCptvClip(
  file: string,
  onFrame: (frame: CptvClipFrame, header: CptvHeader) => boolean | undefined,
  opts: { profile?: CameraProfile } = {},
): Promise<{ header: CptvHeader; frameCount: number; profile: CameraProfile | null }> {
  const size = await fileSize(file);
  if (size === 0) throw new ThermalFileError(file, 'file is empty; expected a CPTV clip');
  const bytes = await readWholeFile(file, size);
  if (!isGzip(bytes)) throw new ThermalFileError(file, 'not a CPTV clip: CPTV files are one gzip stream');
  return decodeCptvFile(file, bytes, onFrame, opts.profile);
}

async function decodeCptvFile(
  file: string,
  bytes: Uint8Array,
  onFrame: (frame: CptvClipFrame, header: CptvHeader) => boolean | undefined,
  given: CameraProfile | undefined,
): Promise<{ header: CptvHeader; frameCount: number; profile: CameraProfile | null }> {
  const unpacked = gunzipCptv(file, bytes, THERMAL_FILE_LIMITS.maxUnpackedBytes);
  // The profile is chosen from the first frame; decoding is synchronous, so the choice is made on a first
  // pass that stops after frame 0, then the clip is decoded again from the start.
  let first: { header: CptvHeader; pixels: Uint16Array } | null = null;
  decodeCptv(file, unpacked, (frame, header) => {
    first = { header, pixels: new Uint16Array(frame.pixels) };
    return false;
  });
  if (!first) {
    const { header } = decodeCptv(file, unpacked, () => false);
    return { header, frameCount: 0, profile: null };
  }
  const { header, pixels } = first as { header: CptvHeader; pixels: Uint16Array };
  const profile = await cptvProfile(file, header, pixels, given);
  const result = decodeCptv(file, unpacked, (frame, h) => onFrame({ ...frame, profile }, h));
  return { ...result, profile };
}

async function readCptvImage(
  file: string,
  bytes: Uint8Array,
  opts: ReadThermalFileOptions,
): Promise<ThermalImage> {
  const wanted = opts.frame ?? 0;
  let image: ThermalImage | null = null;
  const { frameCount, header } = await decodeCptvFile(
    file,
    bytes,
    (frame, h) => {
      if (frame.index < wanted) return true;
      const celsius = rawToCelsius(frame.pixels, frame.profile.radiometry);
      image = {
        file,
        format: 'cptv',
        width: h.width,
        height: h.height,
        radiometric: true,
        celsius,
        gray8: celsiusToGray8(celsius),
        meta: {
          interpretation: `CPTV frame ${frame.index} converted with the ${frame.profile.radiometry.kind} radiometry of camera profile ${frame.profile.id}`,
          cameraProfile: frame.profile.id,
          frame: frame.index,
          timeOnMs: frame.timeOnMs,
          lastFfcMs: frame.lastFfcMs,
          device: h.deviceName,
          model: h.model,
          startedAt: h.startedAtMs === null ? null : new Date(h.startedAtMs).toISOString(),
        },
      };
      return false;
    },
    opts.profile,
  );
  if (!image) {
    throw new ThermalFileError(
      file,
      frameCount === 0 && wanted === 0
        ? `CPTV clip from ${header.deviceName ?? 'an unnamed device'} holds no frames`
        : `frame ${wanted} does not exist; the clip holds frames 0..${frameCount - 1}`,
    );
  }
  return image;
}

interface RecordingDescription {
  profile: CameraProfile;
  object: ObjectParameters;
  source: string;
}

/**
 * A recording.json beside a .y16 file: either a full camera profile under `profile`/`cameraProfile`, a
 * profile id there or under `cameraId`, or width/height/radiometry (and pixelFormat) at the top level.
 */
async function recordingDescription(file: string): Promise<RecordingDescription | null> {
  const jsonPath = path.join(path.dirname(file), 'recording.json');
  let text: string;
  try {
    // A recording description is a few hundred bytes; a huge or deeply nested one is refused unread.
    if ((await stat(jsonPath)).size > RECORDING_JSON_MAX_BYTES) {
      throw new ThermalFileError(
        file,
        `${jsonPath} is larger than the limit of ${RECORDING_JSON_MAX_BYTES} bytes for a recording description`,
      );
    }
    text = await readFile(jsonPath, 'utf8');
  } catch (err) {
    if (err instanceof ThermalFileError) throw err;
    return null;
  }
  const depth = jsonNestingDepth(text, THERMAL_FILE_LIMITS.maxJsonDepth);
  if (depth > THERMAL_FILE_LIMITS.maxJsonDepth) {
    throw new ThermalFileError(
      file,
      `${jsonPath} is nested more than the limit of ${THERMAL_FILE_LIMITS.maxJsonDepth} levels`,
    );
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new ThermalFileError(file, `${jsonPath} is not valid JSON (${(err as Error).message})`);
  }
  const ref = json.profile ?? json.cameraProfile ?? json.cameraId;
  let profile: CameraProfile;
  try {
    if (typeof ref === 'string') profile = await loadCameraProfile(ref);
    else if (ref && typeof ref === 'object') profile = checkCameraProfile(ref, jsonPath);
    else profile = checkCameraProfile({ id: 'recording', name: 'recording', ...json }, jsonPath);
    // Geometry or format written by the recorder wins over the profile's defaults.
    profile = {
      ...profile,
      ...(Number.isInteger(json.width) ? { width: json.width as number } : {}),
      ...(Number.isInteger(json.height) ? { height: json.height as number } : {}),
      ...(json.radiometry ? { radiometry: json.radiometry as CameraProfile['radiometry'] } : {}),
      ...(json.pixelFormat ? { pixelFormat: json.pixelFormat as CameraProfile['pixelFormat'] } : {}),
    };
  } catch (err) {
    throw new ThermalFileError(
      file,
      `recording.json beside it names no usable profile (${(err as Error).message})`,
      {
        cause: err,
      },
    );
  }
  const object = {
    ...defaultObjectParameters,
    ...((json.objectParameters as Partial<ObjectParameters>) ?? {}),
  };
  return { profile, object, source: jsonPath };
}

async function readY16(file: string, size: number, opts: ReadThermalFileOptions): Promise<ThermalImage> {
  let description: RecordingDescription | null;
  if (opts.profile) {
    try {
      description = {
        profile: checkCameraProfile(opts.profile, `camera profile ${opts.profile.id}`),
        object: { ...defaultObjectParameters },
        source: `profile ${opts.profile.id}`,
      };
    } catch (err) {
      throw new ThermalFileError(file, (err as Error).message, { cause: err });
    }
  } else {
    description = await recordingDescription(file);
  }
  if (!description) {
    throw new ThermalFileError(
      file,
      '.y16 raw frames carry no width, height or radiometry: give a camera profile (--profile ID or PATH) or put a recording.json beside the file',
    );
  }
  const { profile, object } = description;
  const tooLarge = dimensionProblem(profile.width, profile.height);
  if (tooLarge) throw new ThermalFileError(file, `${description.source} describes ${tooLarge}`);
  const frameBytes = profile.width * profile.height * 2;
  if (size % frameBytes !== 0) {
    throw new ThermalFileError(
      file,
      `size ${size} bytes is not a whole number of ${profile.width}×${profile.height} 16-bit frames (${frameBytes} bytes each): wrong profile or truncated recording`,
    );
  }
  const frameCount = size / frameBytes;
  const frame = opts.frame ?? 0;
  if (!Number.isInteger(frame) || frame < 0 || frame >= frameCount) {
    throw new ThermalFileError(
      file,
      `frame ${frame} does not exist; the file holds frames 0..${frameCount - 1}`,
    );
  }
  const littleEndian = (profile.pixelFormat ?? 'GRAY16_LE') === 'GRAY16_LE';
  const n = profile.width * profile.height;
  const raw = new Uint16Array(n);
  const bytes = new Uint8Array(frameBytes);
  try {
    const handle = await open(file, 'r');
    try {
      await handle.read(bytes, 0, frameBytes, frame * frameBytes);
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw cannotRead(file, err);
  }
  const view = new DataView(bytes.buffer, 0, frameBytes);
  for (let i = 0; i < n; i++) raw[i] = view.getUint16(i * 2, littleEndian);
  const celsius = rawToCelsius(raw, profile.radiometry, object);
  return {
    file,
    format: 'y16',
    width: profile.width,
    height: profile.height,
    radiometric: true,
    celsius,
    gray8: celsiusToGray8(celsius),
    meta: {
      interpretation: `raw 16-bit ${littleEndian ? 'little' : 'big'}-endian counts converted with the ${profile.radiometry.kind} radiometry of ${description.source}`,
      cameraProfile: profile.id,
      radiometry: profile.radiometry,
      objectParameters: object,
      frame,
      frameCount,
    },
  };
}
