import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecording } from '../../appliance/camera/recording.ts';
import { analyzeFile } from '../../appliance/cli/analyze.ts';
import { importCptv } from '../../appliance/cli/import.ts';
import { decodeCptv, gunzipCptv } from '../../appliance/thermalFiles/cptv.ts';
import { readThermalFile, ThermalFileError } from '../../appliance/thermalFiles/index.ts';
import { writeCptv } from '../helpers/cptvWriter.ts';
import { tempDir } from '../helpers/tempDir.ts';

const work = tempDir('canthus-cptv-');
const W = 160;
const H = 120;

/** A Lepton-like clip: 20 °C room, a 34 °C "head" moving right, centi-kelvin; an FFC before frame 6. */
function leptonFrames(count: number) {
  const frames = [];
  for (let f = 0; f < count; f++) {
    const pixels = new Uint16Array(W * H);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const inHead = (x - 40 - f * 4) ** 2 / 400 + (y - 60) ** 2 / 900 < 1;
        // Noise in the low bits so deltas need several bits, and odd rows differ from even ones.
        const noise = ((x * 7 + y * 13 + f * 5) % 11) - 5;
        pixels[y * W + x] = Math.round((inHead ? 34 : 20) * 100 + 27315 + noise);
      }
    }
    const timeOnMs = 5_000_000 + f * 114 + (f >= 6 ? 2000 : 0);
    frames.push({ timeOnMs, lastFfcMs: f >= 6 ? 5_000_000 + 5 * 114 + 1100 : 4_000_000, pixels });
  }
  return frames;
}

describe('CPTV reader', () => {
  it('decodes what the writer packed: every pixel, snake order, times, header fields; unknown fields skipped', () => {
    const frames = leptonFrames(3);
    const clip = writeCptv(
      {
        width: W,
        height: H,
        fps: 9,
        deviceName: 'kiosk-7',
        model: 'lepton3.5',
        brand: 'flir',
        startedAtMs: 1_616_365_730_002,
        extra: { Q: Uint8Array.from([1, 2, 3]) },
      },
      frames,
    );
    const seen: { index: number; timeOnMs: number; pixels: Uint16Array }[] = [];
    const { header, frameCount } = decodeCptv('clip.cptv', gunzipCptv('clip.cptv', clip, 1e8), (f) => {
      seen.push({ index: f.index, timeOnMs: f.timeOnMs, pixels: new Uint16Array(f.pixels) });
      return true;
    });
    expect(header).toMatchObject({
      width: W,
      height: H,
      headerFps: 9,
      deviceName: 'kiosk-7',
      model: 'lepton3.5',
    });
    expect(header.startedAtMs).toBeCloseTo(1_616_365_730_002, 0);
    expect(frameCount).toBe(3);
    for (let i = 0; i < 3; i++) {
      expect(seen[i].timeOnMs).toBe(frames[i].timeOnMs);
      expect(Array.from(seen[i].pixels)).toEqual(Array.from(frames[i].pixels));
    }
  });

  it('reads a frame of a .cptv as a thermal image with the Lepton 3.5 profile (centi-kelvin)', async () => {
    const file = path.join(work, 'still.cptv');
    writeFileSync(file, writeCptv({ width: W, height: H, model: 'lepton3.5' }, leptonFrames(3)));
    const img = await readThermalFile(file, { frame: 2 });
    expect(img).toMatchObject({ format: 'cptv', width: W, height: H, radiometric: true });
    expect(img.meta).toMatchObject({ cameraProfile: 'lepton35', frame: 2 });
    expect(img.celsius![60 * W + 48]).toBeCloseTo(34, 1); // inside the head at frame 2
    expect(img.celsius![0]).toBeCloseTo(20, 1);
    await expect(readThermalFile(file, { frame: 3 })).rejects.toThrow(
      /frame 3 does not exist; the clip holds frames 0..2/,
    );
  });

  it('refuses truncated and corrupt clips with a ThermalFileError naming the problem', async () => {
    const clip = writeCptv({ width: W, height: H, model: 'lepton3.5' }, leptonFrames(2));
    const file = path.join(work, 'cut.cptv');
    writeFileSync(file, clip.subarray(0, clip.length - 40));
    await expect(readThermalFile(file)).rejects.toThrow(ThermalFileError);
    await expect(readThermalFile(file)).rejects.toThrow(/gzip stream|truncated/);
    const { gzipSync } = await import('node:zlib');
    writeFileSync(file, gzipSync(Buffer.from('CPTV\x03H\x00')));
    await expect(readThermalFile(file)).rejects.toThrow(/CPTV version 3 is not supported/);
    writeFileSync(file, gzipSync(Buffer.from('not a clip at all')));
    await expect(readThermalFile(file)).rejects.toThrow(/does not start with "CPTV"/);
  });
});

describe('canthus import', () => {
  it('writes a recording (lepton35, rate from frame times, FFC frames flagged) that readRecording accepts', async () => {
    const frames = leptonFrames(20);
    const file = path.join(work, 'walk.cptv');
    writeFileSync(
      file,
      writeCptv({ width: W, height: H, fps: 9, model: 'lepton3.5', startedAtMs: 1_616_365_730_000 }, frames),
    );
    const out = path.join(work, 'walk');
    const result = await importCptv(file, { out });
    expect(result).toMatchObject({ profile: 'lepton35', frames: 20, fps: 8.772, headerFps: 9 });
    expect(result.ffcEvents).toEqual([{ frame: 6, atTimeOnMs: 5_000_000 + 5 * 114 + 1100 }]);
    const { meta, framesPath } = readRecording(out);
    expect(meta).toMatchObject({ profile: 'lepton35', width: W, height: H, fps: 8.772, frameCount: 20 });
    const y16 = readFileSync(framesPath);
    const frame7 = new Uint16Array(y16.buffer, y16.byteOffset + 7 * W * H * 2, W * H);
    expect(Array.from(frame7)).toEqual(Array.from(frames[7].pixels));
    const lines = readFileSync(path.join(out, 'frames.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(20);
    expect(lines[0]).toEqual({
      frame: 0,
      capturedAt: 1_616_365_730_000,
      timeOnMs: 5_000_000,
      lastFfcMs: 4_000_000,
      flatField: false,
    });
    // The 2 s gap of the FFC is kept in capturedAt; frames within 2 s of the correction (at time-on
    // 5 001 670 ms; frame 6 is 1014 ms after it, frame 14 1926 ms, frame 15 2040 ms) are flagged.
    expect(lines[6].capturedAt - lines[5].capturedAt).toBe(2114);
    expect(lines.map((l) => l.flatField)).toEqual([
      ...Array(6).fill(false),
      ...Array(9).fill(true),
      ...Array(5).fill(false),
    ]);
    expect(JSON.parse(readFileSync(path.join(out, 'cptv.json'), 'utf8'))).toMatchObject({
      model: 'lepton3.5',
      headerFps: 9,
      measuredFps: 8.772,
      profile: 'lepton35',
    });
    // A second import into the same folder refuses without touching it.
    await expect(importCptv(file, { out })).rejects.toThrow(/already holds a recording/);
  });

  it('analyze gives one summary line per clip', async () => {
    const file = path.join(work, 'walk.cptv');
    const line = await analyzeFile(file);
    expect(line).toMatchObject({
      format: 'cptv',
      profile: 'lepton35',
      frames: 20,
      fps: 8.772,
      ffcEvents: 1,
      flatFieldFrames: 9,
    });
    expect((line as { minC: number }).minC).toBeCloseTo(19.95, 1);
    expect((line as { maxC: number }).maxC).toBeCloseTo(34.05, 1);
  });

  it('the command: a clear one-line refusal for a file that is not a clip, exit 1', () => {
    const bad = path.join(work, 'bad.cptv');
    writeFileSync(bad, 'hello');
    const run = spawnSync(
      process.execPath,
      ['bin/canthus.js', 'import', bad, '--out', path.join(work, 'bad')],
      {
        encoding: 'utf8',
      },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^canthus import: .*bad\.cptv: not a CPTV clip/m);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
