/**
 * A small CPTV (version 2) reader for MEASURING ONLY: bench/thermalFaces.ts runs the detector over the
 * feverscreen kiosk clips in ../shared (GPL-3.0, never copied into the project). The product's own
 * reader lives in appliance/thermalFiles/ (another part of the work); this one follows the format as
 * described in shared/data/feverscreen-cptv/README.md and nothing more.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface CptvClip {
  width: number;
  height: number;
  /** Frames in °C (value / 100 − 273.15), as stored (not rotated). */
  frames: Float32Array[];
  /** Milliseconds since the camera powered on, per frame. */
  timeOnMs: number[];
}

export function readCptvClip(file: string): CptvClip {
  const buf = gunzipSync(readFileSync(file));
  let p = 0;
  if (buf.toString('latin1', 0, 4) !== 'CPTV') throw new Error(`${file}: not a CPTV file`);
  p = 5; // magic + version
  let width = 0;
  let height = 0;
  const section = (): Map<string, Buffer> => {
    const fields = new Map<string, Buffer>();
    const count = buf[p + 1];
    p += 2;
    for (let k = 0; k < count; k++) {
      const len = buf[p];
      const code = String.fromCharCode(buf[p + 1]);
      fields.set(code, buf.subarray(p + 2, p + 2 + len));
      p += 2 + len;
    }
    return fields;
  };
  if (String.fromCharCode(buf[p]) !== 'H') throw new Error(`${file}: no header`);
  const header = section();
  width = header.get('X')!.readUInt32LE(0);
  height = header.get('Y')!.readUInt32LE(0);
  const n = width * height;
  const frames: Float32Array[] = [];
  const timeOnMs: number[] = [];
  const previous = new Int32Array(n);
  while (p < buf.length && String.fromCharCode(buf[p]) === 'F') {
    const fields = section();
    const bitWidth = fields.get('w')![0];
    const size = fields.get('f')!.readUInt32LE(0);
    timeOnMs.push(fields.get('t')?.readUInt32LE(0) ?? 0);
    const data = buf.subarray(p, p + size);
    p += size;
    // First value, then n − 1 signed deltas, MSB first; their running sum is each pixel's change since
    // the previous frame, pixels in snake order.
    let running = data.readInt32LE(0);
    let bitPos = 32;
    const current = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      if (k > 0) {
        let v = 0;
        for (let b = 0; b < bitWidth; b++) {
          const byte = data[bitPos >> 3];
          v = (v << 1) | ((byte >> (7 - (bitPos & 7))) & 1);
          bitPos++;
        }
        if (v & (1 << (bitWidth - 1))) v -= 1 << bitWidth;
        running += v;
      }
      const y = Math.floor(k / width);
      const xInRow = k - y * width;
      const x = y % 2 === 0 ? xInRow : width - 1 - xInRow;
      const i = y * width + x;
      current[i] = previous[i] + running;
    }
    previous.set(current);
    frames.push(Float32Array.from(current, (v) => v / 100 - 273.15));
  }
  return { width, height, frames, timeOnMs };
}

/** A stored frame turned 90° clockwise: the kiosks' portrait mounting, people upright. */
export function rotateClockwise(frame: Float32Array, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  // Rotated image: `height` wide, `width` high; stored (x, y) → (height − 1 − y, x).
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) out[x * height + (height - 1 - y)] = frame[y * width + x];
  return out;
}
