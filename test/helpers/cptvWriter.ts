/**
 * A small CPTV version 2 writer for tests (the format as described for the feverscreen clips): header
 * fields, then frames of bit-packed, snake-ordered deltas against the previous frame, all in one gzip
 * stream. Tests make their own clips with it; no third-party clip is ever copied into the repository.
 */
import { gzipSync } from 'node:zlib';

export interface CptvWriterHeader {
  width: number;
  height: number;
  startedAtMs?: number;
  fps?: number;
  deviceName?: string;
  model?: string;
  brand?: string;
  /** Extra raw fields (code → bytes), e.g. to test that unknown codes are skipped. */
  extra?: Record<string, Uint8Array>;
}

export interface CptvWriterFrame {
  timeOnMs: number;
  lastFfcMs: number;
  pixels: Uint16Array;
}

class Bytes {
  parts: number[] = [];
  u8(v: number) {
    this.parts.push(v & 0xff);
  }
  raw(bytes: ArrayLike<number>) {
    for (let i = 0; i < bytes.length; i++) this.parts.push(bytes[i]);
  }
  field(code: string, bytes: ArrayLike<number>) {
    this.u8(bytes.length);
    this.u8(code.charCodeAt(0));
    this.raw(bytes);
  }
}

const le = (value: number | bigint, size: 1 | 4 | 8): Uint8Array => {
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  if (size === 1) view.setUint8(0, Number(value));
  else if (size === 4) view.setUint32(0, Number(value), true);
  else view.setBigUint64(0, BigInt(value), true);
  return out;
};

/** The frame's deltas in snake order, packed: i32 first value, then (n − 1) w-bit two's-complement numbers. */
export function packFrame(
  pixels: Uint16Array,
  previous: Uint16Array,
  width: number,
  height: number,
): { bitWidth: number; data: Uint8Array } {
  const deltas: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let k = 0; k < width; k++) {
      const x = y % 2 === 0 ? k : width - 1 - k;
      const i = y * width + x;
      deltas.push(pixels[i] - previous[i]);
    }
  }
  // Stored: the first delta, then the differences between consecutive deltas (a running sum restores them).
  const first = deltas[0];
  const steps = deltas.slice(1).map((d, i) => d - deltas[i]);
  let bitWidth = 1;
  for (const s of steps) while (s < -(2 ** (bitWidth - 1)) || s >= 2 ** (bitWidth - 1)) bitWidth++;
  const out = new Uint8Array(4 + Math.ceil((steps.length * bitWidth) / 8));
  new DataView(out.buffer).setInt32(0, first, true);
  let bit = 32;
  for (const s of steps) {
    const v = s < 0 ? s + 2 ** bitWidth : s;
    for (let b = bitWidth - 1; b >= 0; b--) {
      if ((v >> b) & 1) out[bit >> 3] |= 0x80 >> (bit & 7);
      bit++;
    }
  }
  return { bitWidth, data: out };
}

export function writeCptv(header: CptvWriterHeader, frames: CptvWriterFrame[]): Uint8Array {
  const b = new Bytes();
  b.raw([0x43, 0x50, 0x54, 0x56, 2, 0x48]);
  const fields: [string, ArrayLike<number>][] = [
    ['T', le(BigInt(Math.round((header.startedAtMs ?? 1_616_365_730_000) * 1000)), 8)],
    ['X', le(header.width, 4)],
    ['Y', le(header.height, 4)],
    ['C', le(1, 1)],
  ];
  if (header.fps !== undefined) fields.push(['Z', le(header.fps, 1)]);
  const text = (s: string) => new TextEncoder().encode(s);
  if (header.deviceName) fields.push(['D', text(header.deviceName)]);
  if (header.model) fields.push(['E', text(header.model)]);
  if (header.brand) fields.push(['B', text(header.brand)]);
  for (const [code, bytes] of Object.entries(header.extra ?? {})) fields.push([code, bytes]);
  b.u8(fields.length);
  for (const [code, bytes] of fields) b.field(code, bytes);
  let previous: Uint16Array = new Uint16Array(header.width * header.height);
  for (const frame of frames) {
    const { bitWidth, data } = packFrame(frame.pixels, previous, header.width, header.height);
    b.u8(0x46);
    b.u8(4);
    b.field('t', le(frame.timeOnMs, 4));
    b.field('c', le(frame.lastFfcMs, 4));
    b.field('w', le(bitWidth, 1));
    b.field('f', le(data.length, 4));
    b.raw(data);
    previous = frame.pixels;
  }
  return gzipSync(Uint8Array.from(b.parts));
}
