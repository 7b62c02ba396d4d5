/**
 * Thermal snapshots of a person's best frame, next to the event store: the radiometric crop as a
 * 16-bit greyscale PNG in centi-kelvin (what radiometric cores such as the Lepton deliver; any
 * image tool opens it, and °C = value / 100 − 273.15) and a rendered JPEG for people. Each file is
 * written to a temporary name, synced and renamed, so a crash leaves either no file or a whole one.
 */
import { constants } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { ThermalCrop } from '../../core/types.ts';

/** Ironbow-like ramp (black → purple → red → orange → yellow → white), for people. */
const IRON: readonly [number, number, number][] = [
  [0, 0, 0],
  [60, 0, 110],
  [170, 0, 130],
  [230, 70, 20],
  [255, 170, 0],
  [255, 240, 120],
  [255, 255, 255],
];

export async function writeSnapshot(
  dir: string,
  name: string,
  crop: ThermalCrop,
): Promise<{ thermal: string; image: string }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { width, height, celsius } = crop;
  const centikelvin = new Uint16Array(width * height);
  for (let i = 0; i < centikelvin.length; i++) {
    const value = Math.round((celsius[i] + 273.15) * 100);
    centikelvin[i] = Number.isFinite(value) ? Math.min(65535, Math.max(0, value)) : 0;
  }
  const png = await sharp(Buffer.from(centikelvin.buffer), { raw: { width, height, channels: 1 } })
    .toColourspace('grey16')
    .png()
    .toBuffer();
  // Colour range: the crop's 2nd–99.5th percentiles, so one hot pixel does not wash out the face.
  const sorted = Float32Array.from(celsius).sort();
  const lo = sorted[Math.floor(sorted.length * 0.02)];
  const hi = Math.max(lo + 1, sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.995))]);
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0; i < celsius.length; i++) {
    const t = Math.min(1, Math.max(0, (celsius[i] - lo) / (hi - lo))) * (IRON.length - 1);
    const k = Math.min(IRON.length - 2, Math.floor(t));
    const f = t - k;
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.round(IRON[k][c] * (1 - f) + IRON[k + 1][c] * f);
  }
  const scale = Math.max(1, Math.round(240 / Math.max(width, height)));
  const jpeg = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .resize(width * scale, height * scale, { kernel: 'nearest' })
    .jpeg({ quality: 85 })
    .toBuffer();
  const thermal = `${name}.png`;
  const image = `${name}.jpg`;
  await writeAtomic(path.join(dir, thermal), png);
  await writeAtomic(path.join(dir, image), jpeg);
  return { thermal, image };
}

async function writeAtomic(file: string, data: Buffer): Promise<void> {
  const temp = `${file}.tmp`;
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
}
