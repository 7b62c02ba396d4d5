/**
 * A small TIFF reader for single-channel thermal images: 16-bit unsigned or 32-bit float samples,
 * stored plainly, LZW (with or without horizontal predictor) or Deflate, in strips, either byte order.
 * Kept here rather than using sharp because sharp turns grey16 into sRGB unless told otherwise and has
 * no say on float TIFFs; this way the bytes → counts path is explicit and tested.
 */
import { inflateSync } from 'node:zlib';
import { dimensionProblem } from './limits.ts';
import { ThermalFileError } from './types.ts';

export const TIFF_TAG = {
  ImageDescription: 270,
  Make: 271,
  Model: 272,
  Software: 305,
} as const;

export interface TiffImage {
  width: number;
  height: number;
  bitsPerSample: number;
  samplesPerPixel: number;
  /** 1 unsigned integer, 2 signed integer, 3 IEEE float (TIFF SampleFormat). */
  sampleFormat: number;
  compression: number;
  littleEndian: boolean;
  /** Text tags present in the file (Make, Model, ImageDescription, Software). */
  text: Record<string, string>;
  data: Uint16Array | Float32Array;
}

interface IfdEntry {
  type: number;
  count: number;
  valueOffset: number;
}

const TYPE_SIZE: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 8,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
};

export function isTiff(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 8 &&
    ((bytes[0] === 0x49 && bytes[1] === 0x49 && bytes[2] === 42 && bytes[3] === 0) ||
      (bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[2] === 0 && bytes[3] === 42))
  );
}

/** Reads the first image's tags. Throws ThermalFileError for anything that is not a readable TIFF. */
export function readTiffTags(
  file: string,
  bytes: Uint8Array,
): { littleEndian: boolean; tags: Map<number, number[]>; text: Record<string, string> } {
  if (!isTiff(bytes)) throw new ThermalFileError(file, 'not a TIFF file (no II*\\0 or MM\\0* header)');
  const littleEndian = bytes[0] === 0x49;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ifd = view.getUint32(4, littleEndian);
  if (ifd + 2 > bytes.length)
    throw new ThermalFileError(file, 'truncated TIFF: the image directory is missing');
  const count = view.getUint16(ifd, littleEndian);
  if (ifd + 2 + count * 12 > bytes.length) {
    throw new ThermalFileError(file, 'truncated TIFF: the image directory runs past the end of the file');
  }
  const entries = new Map<number, IfdEntry>();
  for (let i = 0; i < count; i++) {
    const at = ifd + 2 + i * 12;
    entries.set(view.getUint16(at, littleEndian), {
      type: view.getUint16(at + 2, littleEndian),
      count: view.getUint32(at + 4, littleEndian),
      valueOffset: at + 8,
    });
  }
  const tags = new Map<number, number[]>();
  const text: Record<string, string> = {};
  const textNames = new Map<number, string>(Object.entries(TIFF_TAG).map(([k, v]) => [v, k]));
  for (const [tag, e] of entries) {
    const size = TYPE_SIZE[e.type] ?? 1;
    const total = size * e.count;
    const at = total <= 4 ? e.valueOffset : view.getUint32(e.valueOffset, littleEndian);
    if (at + total > bytes.length) {
      throw new ThermalFileError(file, `truncated TIFF: tag ${tag} points past the end of the file`);
    }
    if (e.type === 2) {
      const name = textNames.get(tag);
      if (name) {
        let s = '';
        for (let i = 0; i < e.count && bytes[at + i] !== 0; i++) s += String.fromCharCode(bytes[at + i]);
        text[name] = s.trim();
      }
      continue;
    }
    if (e.type !== 1 && e.type !== 3 && e.type !== 4) continue; // only integer tags drive decoding
    const values: number[] = [];
    for (let i = 0; i < e.count; i++) {
      if (e.type === 1) values.push(bytes[at + i]);
      else if (e.type === 3) values.push(view.getUint16(at + i * 2, littleEndian));
      else values.push(view.getUint32(at + i * 4, littleEndian));
    }
    tags.set(tag, values);
  }
  return { littleEndian, tags, text };
}

export function decodeTiff(file: string, bytes: Uint8Array): TiffImage {
  const { littleEndian, tags, text } = readTiffTags(file, bytes);
  const one = (tag: number, fallback?: number): number => {
    const v = tags.get(tag)?.[0] ?? fallback;
    if (v === undefined) throw new ThermalFileError(file, `TIFF lacks required tag ${tag}`);
    return v;
  };
  const width = one(256);
  const height = one(257);
  // Checked before anything is allocated or inflated: a few hundred bytes may declare 20000×20000.
  const tooLarge = dimensionProblem(width, height);
  if (tooLarge) throw new ThermalFileError(file, tooLarge);
  if (width === 0 || height === 0) throw new ThermalFileError(file, `TIFF is ${width}×${height} pixels`);
  const bitsPerSample = one(258, 1);
  const compression = one(259, 1);
  const samplesPerPixel = one(277, 1);
  const rowsPerStrip = Math.min(one(278, height), height);
  const predictor = one(317, 1);
  const sampleFormat = one(339, 1);
  const offsets = tags.get(273);
  const byteCounts = tags.get(279);
  if (tags.has(322))
    throw new ThermalFileError(file, 'tiled TIFF is not supported; thermal TIFFs must use strips');
  if (!offsets || !byteCounts) throw new ThermalFileError(file, 'TIFF has no image strips');
  if (samplesPerPixel !== 1) {
    throw new ThermalFileError(file, `TIFF has ${samplesPerPixel} samples per pixel; thermal TIFFs have 1`);
  }
  const kind =
    bitsPerSample === 16 && sampleFormat !== 3
      ? 'u16'
      : bitsPerSample === 32 && sampleFormat === 3
        ? 'f32'
        : null;
  if (!kind) {
    throw new ThermalFileError(
      file,
      `TIFF has ${bitsPerSample}-bit samples of format ${sampleFormat}; allowed: 16-bit unsigned or 32-bit float`,
    );
  }
  if (![1, 5, 8, 32946].includes(compression)) {
    throw new ThermalFileError(
      file,
      `TIFF compression ${compression} is not supported; allowed: none (1), LZW (5), Deflate (8)`,
    );
  }
  if (predictor !== 1 && !(predictor === 2 && kind === 'u16')) {
    throw new ThermalFileError(
      file,
      `TIFF predictor ${predictor} is not supported for ${bitsPerSample}-bit samples`,
    );
  }
  const bytesPerSample = bitsPerSample / 8;
  const rowBytes = width * bytesPerSample;
  const plain = new Uint8Array(rowBytes * height);
  const stripCount = Math.ceil(height / rowsPerStrip);
  if (offsets.length < stripCount || byteCounts.length < stripCount) {
    throw new ThermalFileError(file, 'TIFF strip table is shorter than the image');
  }
  for (let s = 0; s < stripCount; s++) {
    const rows = Math.min(rowsPerStrip, height - s * rowsPerStrip);
    const expected = rows * rowBytes;
    const start = offsets[s];
    const end = start + byteCounts[s];
    if (end > bytes.length) {
      throw new ThermalFileError(file, `truncated TIFF: strip ${s} runs past the end of the file`);
    }
    const packed = bytes.subarray(start, end);
    let strip: Uint8Array;
    if (compression === 1) strip = packed;
    else if (compression === 5) strip = lzwDecode(file, packed, expected);
    else {
      try {
        // Never more than the strip can hold (plus slack for padding): a Deflate bomb stops here.
        strip = inflateSync(packed, { maxOutputLength: expected + 4096 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
          throw new ThermalFileError(
            file,
            `TIFF strip ${s} unpacks to more than the ${expected} bytes its ${width}×${rows} pixels need`,
          );
        }
        throw new ThermalFileError(file, `corrupt TIFF: strip ${s} does not inflate`, { cause: err });
      }
    }
    if (strip.length < expected) {
      throw new ThermalFileError(
        file,
        `corrupt TIFF: strip ${s} holds ${strip.length} bytes, expected ${expected}`,
      );
    }
    plain.set(strip.subarray(0, expected), s * rowsPerStrip * rowBytes);
  }
  const view = new DataView(plain.buffer);
  const n = width * height;
  let data: Uint16Array | Float32Array;
  if (kind === 'u16') {
    const words = new Uint16Array(n);
    for (let i = 0; i < n; i++) words[i] = view.getUint16(i * 2, littleEndian);
    if (predictor === 2) {
      for (let y = 0; y < height; y++) {
        const row = y * width;
        for (let x = 1; x < width; x++) words[row + x] = (words[row + x] + words[row + x - 1]) & 0xffff;
      }
    }
    data = words;
  } else {
    const floats = new Float32Array(n);
    for (let i = 0; i < n; i++) floats[i] = view.getFloat32(i * 4, littleEndian);
    data = floats;
  }
  return {
    width,
    height,
    bitsPerSample,
    samplesPerPixel,
    sampleFormat,
    compression,
    littleEndian,
    text,
    data,
  };
}

/**
 * TIFF LZW (MSB-first codes of 9..12 bits, early change). Dictionary entries are kept as (start, length)
 * slices of the output already written, which is contiguous, so no strings are built.
 */
export function lzwDecode(file: string, src: Uint8Array, expected: number): Uint8Array {
  const out = new Uint8Array(expected);
  const tableStart = new Int32Array(4096);
  const tableLength = new Int32Array(4096);
  let outPos = 0;
  let bitBuffer = 0;
  let bitCount = 0;
  let srcPos = 0;
  let codeLength = 9;
  let next = 258;
  let prevStart = -1;
  let prevLength = 0;
  const corrupt = (why: string) => new ThermalFileError(file, `corrupt TIFF LZW data: ${why}`);
  for (;;) {
    while (bitCount < codeLength && srcPos < src.length) {
      bitBuffer = ((bitBuffer << 8) | src[srcPos++]) >>> 0;
      bitCount += 8;
    }
    if (bitCount < codeLength) break; // ran out of input without an end code: caller checks the length
    const code = (bitBuffer >>> (bitCount - codeLength)) & ((1 << codeLength) - 1);
    bitCount -= codeLength;
    bitBuffer &= (1 << bitCount) - 1;
    if (code === 257) break;
    if (code === 256) {
      codeLength = 9;
      next = 258;
      prevStart = -1;
      continue;
    }
    let length: number;
    if (code < 256) {
      if (outPos >= expected) throw corrupt('more data than the strip holds');
      out[outPos] = code;
      length = 1;
    } else if (code < next && prevStart >= 0) {
      length = tableLength[code];
      if (outPos + length > expected) throw corrupt('more data than the strip holds');
      out.copyWithin(outPos, tableStart[code], tableStart[code] + length);
    } else if (code === next && prevStart >= 0) {
      length = prevLength + 1;
      if (outPos + length > expected) throw corrupt('more data than the strip holds');
      for (let i = 0; i < prevLength; i++) out[outPos + i] = out[prevStart + i];
      out[outPos + prevLength] = out[prevStart];
    } else {
      throw corrupt(`code ${code} is not in the dictionary`);
    }
    if (prevStart >= 0 && next < 4096) {
      tableStart[next] = prevStart;
      tableLength[next] = prevLength + 1;
      next++;
    }
    prevStart = outPos;
    prevLength = length;
    outPos += length;
    if (next >= (1 << codeLength) - 1 && codeLength < 12) codeLength++;
  }
  return outPos === expected ? out : out.subarray(0, outPos);
}
