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
import { colorize } from '../../render/frame.ts';

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
  // The person's image as staff see it live: the same iron palette and auto range as the video.
  const colored = colorize(celsius, width, height, 'iron');
  const scale = Math.max(1, Math.round(240 / Math.max(width, height)));
  const jpeg = await sharp(colored.rgb, { raw: { width, height, channels: 3 } })
    .resize(width * scale, height * scale, { kernel: 'nearest' })
    .jpeg({ quality: 85 })
    .toBuffer();
  const thermal = `${name}.png`;
  const image = `${name}.jpg`;
  await writeAtomic(path.join(dir, thermal), png);
  await writeAtomic(path.join(dir, image), jpeg);
  return { thermal, image };
}

let temporaries = 0;

async function writeAtomic(file: string, data: Buffer): Promise<void> {
  // A temporary name of its own per write: a person's alert and end snapshots can be written at the
  // same time (one rename took the other's file away: "snapshot not written", ENOENT).
  const temp = `${file}.${++temporaries}.tmp`;
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
