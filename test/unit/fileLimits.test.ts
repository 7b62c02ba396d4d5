/**
 * Resource caps of the thermal file readers and of `canthus estimate` (issue 11 item 3): hostile files made
 * here — decompression bombs, headers claiming huge sizes, oversized matrices, deep JSON — are refused with
 * one clear line naming the file, the limit and the value, with no stack trace, in bounded memory.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readThermalFile, ThermalFileError } from '../../appliance/thermalFiles/index.ts';
import { buildFff, buildFlirJpeg } from '../helpers/flirFiles.ts';
import { tempDir } from '../helpers/tempDir.ts';

const work = tempDir('canthus-limits-');

/** A little-endian single-strip 16-bit grey TIFF; `strip` is stored as is (compression 1 or 8). */
function tiff(width: number, height: number, compression: 1 | 8, strip: Uint8Array): Uint8Array {
  const entries: [number, number, number][] = [
    [256, 4, width],
    [257, 4, height],
    [258, 3, 16],
    [259, 3, compression],
    [262, 3, 1],
    [273, 4, 0], // strip offset, filled below
    [277, 3, 1],
    [278, 4, height],
    [279, 4, strip.length],
  ];
  const ifdSize = 2 + entries.length * 12 + 4;
  const stripOffset = 8 + ifdSize;
  const out = new Uint8Array(stripOffset + strip.length);
  const v = new DataView(out.buffer);
  out.set([0x49, 0x49, 42, 0]);
  v.setUint32(4, 8, true);
  v.setUint16(8, entries.length, true);
  entries.forEach(([tag, type, value], i) => {
    const at = 10 + i * 12;
    v.setUint16(at, tag, true);
    v.setUint16(at + 2, type, true);
    v.setUint32(at + 4, 1, true);
    if (tag === 273) v.setUint32(at + 8, stripOffset, true);
    else if (type === 3) v.setUint16(at + 8, value, true);
    else v.setUint32(at + 8, value, true);
  });
  out.set(strip, stripOffset);
  return out;
}

const KEEP_RSS =
  "process.on('exit',()=>process.stderr.write('maxRSSkB='+process.resourceUsage().maxRSS+'\\n'))";

/** Runs the CLI with a small heap and reports its peak memory. */
function cli(args: string[], input?: string) {
  const run = spawnSync(
    process.execPath,
    [
      '--max-old-space-size=96',
      '--import',
      `data:text/javascript,${encodeURIComponent(KEEP_RSS)}`,
      'bin/canthus.js',
      ...args,
    ],
    { encoding: 'utf8', input, timeout: 60_000 },
  );
  const rss = Number(/maxRSSkB=(\d+)/.exec(run.stderr)?.[1] ?? Number.NaN);
  const stderr = run.stderr.replace(/maxRSSkB=\d+\n/, '');
  return { status: run.status, stdout: run.stdout, stderr, peakMB: rss / 1024 };
}

function expectOneClearLine(stderr: string, pattern: RegExp) {
  expect(stderr).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at |RangeError|Invalid typed array length/);
}

describe('canthus analyze refuses decompression bombs and huge headers in bounded memory', () => {
  it('an 8 KB Deflate TIFF declaring 20000×20000 16-bit pixels', () => {
    const file = path.join(work, 'big.tiff');
    writeFileSync(file, tiff(20000, 20000, 8, deflateSync(new Uint8Array(8 * 2 ** 20))));
    const r = cli(['analyze', file]);
    expect(r.status).toBe(1);
    expectOneClearLine(
      r.stderr,
      /^canthus analyze: .*big\.tiff: 20000×20000 pixels exceeds the limit of 4096×4096$/m,
    );
    expect(JSON.parse(r.stdout).error).toMatch(/20000×20000 pixels exceeds the limit of 4096×4096/);
    expect(r.peakMB).toBeLessThan(400);
  });

  it('a header claiming 100000×100000 (TIFF) is a clear message, not "Invalid typed array length"', async () => {
    const file = path.join(work, 'claim.tiff');
    writeFileSync(file, tiff(100000, 100000, 1, new Uint8Array(16)));
    await expect(readThermalFile(file)).rejects.toThrow(
      /claim\.tiff: 100000×100000 pixels exceeds the limit of 4096×4096/,
    );
  });

  it('a Deflate strip that unpacks to more than its pixels need stops at the strip size', async () => {
    const file = path.join(work, 'strip-bomb.tiff');
    writeFileSync(file, tiff(64, 64, 8, deflateSync(new Uint8Array(64 * 2 ** 20))));
    await expect(readThermalFile(file)).rejects.toThrow(
      /strip 0 unpacks to more than the 8192 bytes its 64×64 pixels need/,
    );
  });

  it('a PNG bomb inside a FLIR JPEG: the raw PNG declares 50000×50000', async () => {
    const png = await sharp({
      create: { width: 4, height: 4, channels: 3, background: { r: 0, g: 0, b: 0 } },
    })
      .png()
      .toBuffer();
    const bomb = new Uint8Array(png);
    new DataView(bomb.buffer).setUint32(16, 50000);
    new DataView(bomb.buffer).setUint32(20, 50000);
    const camera = {
      ...{ R1: 17096.453, R2: 0.046642166, B: 1428, F: 1, O: -7340 },
      ...{ emissivity: 0.98, distanceM: 1, reflectedC: 20, atmosphereC: 20, humidityPct: 50 },
    };
    const file = path.join(work, 'bomb.jpg');
    writeFileSync(file, buildFlirJpeg(buildFff(4, 4, camera, { payload: bomb })));
    await expect(readThermalFile(file)).rejects.toThrow(
      /bomb\.jpg: FLIR raw thermal PNG: 50000×50000 pixels exceeds the limit/,
    );
    // …and a RawData record that itself claims 60000×60000.
    const big = path.join(work, 'big-record.fff');
    writeFileSync(big, buildFff(60000, 60000, camera, { raw: new Uint16Array(16) }));
    await expect(readThermalFile(big)).rejects.toThrow(
      /FLIR raw thermal image: 60000×60000 pixels exceeds the limit/,
    );
  });

  it('an oversized CSV matrix (5000 rows, and a 6000-column line)', async () => {
    const tall = path.join(work, 'tall.csv');
    writeFileSync(tall, '30.1,30.2,30.3\n'.repeat(5000));
    await expect(readThermalFile(tall)).rejects.toThrow(
      /tall\.csv: temperature matrix of 3×5000 pixels exceeds the limit of 4096×4096/,
    );
    const taller = path.join(work, 'taller.csv');
    writeFileSync(taller, '30.1,30.2\n'.repeat(6000));
    await expect(readThermalFile(taller)).rejects.toThrow(/6000 lines exceeds the limit of 4096 rows/);
    const wide = path.join(work, 'wide.csv');
    writeFileSync(wide, `${Array(6000).fill('30.1').join(',')}\n`.repeat(3));
    await expect(readThermalFile(wide)).rejects.toThrow(
      /line of 6000 fields exceeds the limit of 4096 columns/,
    );
  });

  it('an 8-bit PNG of 5000×8 is refused from its header (sharp never decodes it)', async () => {
    const file = path.join(work, 'wide.png');
    await sharp({ create: { width: 5000, height: 8, channels: 3, background: { r: 9, g: 9, b: 9 } } })
      .png()
      .toFile(file);
    await expect(readThermalFile(file)).rejects.toThrow(
      /wide\.png: 5000×8 pixels exceeds the limit of 4096×4096/,
    );
  });

  it('a CPTV header claiming 100000×100000, and a recording.json describing 100000-pixel-wide frames', async () => {
    const header = Buffer.from([
      ...Buffer.from('CPTV'),
      2,
      0x48,
      3,
      4,
      0x58,
      ...[0xa0, 0x86, 0x01, 0x00],
      4,
      0x59,
      ...[0xa0, 0x86, 0x01, 0x00],
      1,
      0x43,
      1,
    ]);
    const file = path.join(work, 'huge.cptv');
    writeFileSync(file, gzipSync(header));
    await expect(readThermalFile(file)).rejects.toThrow(/huge\.cptv: 100000×100000 pixels exceeds the limit/);

    const dir = path.join(work, 'rec');
    mkdirSync(dir);
    writeFileSync(
      path.join(dir, 'recording.json'),
      JSON.stringify({ width: 100000, height: 2, radiometry: { kind: 'tlinear', resolutionK: 0.01 } }),
    );
    writeFileSync(path.join(dir, 'frames.y16'), new Uint8Array(400000));
    const err = await readThermalFile(path.join(dir, 'frames.y16')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThermalFileError);
    expect((err as Error).message).toMatch(/100000×2 pixels exceeds the limit of 4096×4096/);
    writeFileSync(path.join(dir, 'recording.json'), `${'['.repeat(100000)}${']'.repeat(100000)}`);
    await expect(readThermalFile(path.join(dir, 'frames.y16'))).rejects.toThrow(
      /nested more than the limit of 64 levels/,
    );
  });
});

describe('canthus estimate refuses a JSON line nested 200 000 deep', () => {
  it('one clear error line for that line, carries on with the next, exits 1, no stack trace', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const input = [
      '{"canthusC": 36.0}',
      deep,
      `{"canthusC": ${'{"a":'.repeat(50)}1${'}'.repeat(50)}}`,
      '{"canthusC": 36.1}',
    ].join('\n');
    const r = cli(['estimate'], input);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(4);
    expect(lines[0].decision).toBe('normal');
    // Refused for its length before its depth is even counted; either way it is never parsed.
    expect(lines[1].error).toMatch(/^line 2: line of 400000 characters exceeds the limit of 4096/);
    expect(lines[2].error).toMatch(/^line 3: JSON nested more than the limit of 8 levels/);
    expect(lines[3].decision).toBe('normal');
    expect(r.status).toBe(1);
    expectOneClearLine(r.stderr, /canthus estimate: 2 line\(s\) failed/);
  });

  it('a non-object or a wrong-typed value is described, never stringified whole', () => {
    const r = cli(['estimate'], `[${'1,'.repeat(1000)}1]\n{"canthusC": [1,2,3]}\n`);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0].error).toMatch(/got an array of 1001$/);
    expect(lines[1].error).toMatch(/canthusC must be a number between 25 and 45, got an array of 3/);
  });
});
