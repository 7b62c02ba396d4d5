import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CameraProfile } from '../../appliance/core/cameraProfile.ts';
import { CanthusError } from '../../appliance/core/errors.ts';
import {
  loadCameraProfile,
  readThermalFile,
  ThermalFileError,
  type ThermalImage,
  thermalImageSummary,
} from '../../appliance/thermalFiles/index.ts';
import { lzwDecode } from '../../appliance/thermalFiles/tiff.ts';
import { celsiusToRaw, type Radiometry } from '../../calibration/radiometry.ts';

const FLIR = fileURLToPath(new URL('../fixtures/flir/', import.meta.url));
const TFW = fileURLToPath(new URL('../fixtures/tfw/', import.meta.url));
const MATRIX = fileURLToPath(new URL('../fixtures/matrix/', import.meta.url));

const EX320 = path.join(FLIR, 'sample_images_07_-_BillHotFlashThermography.jpg');
const I60 = path.join(FLIR, 'sample_images_09_-_Infrared_image_of_people_in_the_laboratory.jpg');
const E40 = path.join(FLIR, 'sample_images_25_-_Videocamera_Termica.jpg');
const DUO_FFF = path.join(FLIR, 'frame_000000.fff');
const T420_FFF = path.join(FLIR, 'frame_000000_le.fff');
const DUO_TIFF = path.join(FLIR, 'example_radiometric.tiff');

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'canthus-thermalfiles-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const at = (img: ThermalImage, x: number, y: number) => img.celsius![y * img.width + x];

async function expectThermalError(promise: Promise<unknown>, message: RegExp): Promise<ThermalFileError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ThermalFileError);
  expect((err as Error).message).toMatch(message);
  return err as ThermalFileError;
}

describe('FLIR radiometric files agree with the cameras’ own readings', () => {
  it('EX320 JPEG (PNG raw, no byte swap): centre spot ≈ 32.6 °C', async () => {
    const img = await readThermalFile(EX320);
    expect(img).toMatchObject({ format: 'flir-jpeg', width: 320, height: 240, radiometric: true });
    expect(img.meta).toMatchObject({
      cameraModel: 'ThermaCAM EX320',
      rawImageType: 'PNG',
      rawByteSwapped: false,
    });
    // Spot marker (Meas1Params 159 119). The full model gives 32.09; the camera displayed 32.6.
    expect(Math.abs(at(img, 159, 119) - 32.6)).toBeLessThan(0.6);
  });

  it('i60 JPEG (PNG raw, byte-swapped): coldest pixel = cold-spot marker 18.6 °C', async () => {
    const img = await readThermalFile(I60);
    expect(img).toMatchObject({ format: 'flir-jpeg', width: 180, height: 180 });
    expect(img.meta).toMatchObject({ cameraModel: 'FLIR i60', rawByteSwapped: true });
    const { minC, maxC } = thermalImageSummary(img);
    expect(minC!).toBeCloseTo(18.6, 1);
    expect(maxC!).toBeGreaterThan(30); // people in the room
    expect(maxC!).toBeLessThan(37);
  });

  it('E40 JPEG (plain raw words): spot ≈ 27.7 °C', async () => {
    const img = await readThermalFile(E40);
    expect(img).toMatchObject({ format: 'flir-jpeg', width: 160, height: 120 });
    expect(img.meta).toMatchObject({ cameraModel: 'FLIR E40', objectParameters: { distanceM: 1 } });
    // Spot at Meas1Params 80 60: the full model gives 28.26, the camera displayed "~27.7".
    expect(Math.abs(at(img, 80, 60) - 27.7)).toBeLessThan(0.6);
  });

  it('Duo Pro R FFF: 9.7–12.7 °C, with the camera’s constants', async () => {
    const img = await readThermalFile(DUO_FFF);
    expect(img).toMatchObject({ format: 'flir-fff', width: 640, height: 512, radiometric: true });
    expect(img.meta).toMatchObject({
      cameraModel: 'Duo Pro R',
      planck: { R1: 364058, R2: 1, B: 1428, F: 1, O: -228 },
    });
    const { minC, maxC } = thermalImageSummary(img);
    // flirpy's README range 9.6–12.6 comes from Thermimage's half-path τ; at 50 m FLIR's τ over √d reads
    // ≈ 0.11 °C warmer (the scene is colder than the 20 °C air).
    expect(minC!).toBeCloseTo(9.72, 1);
    expect(maxC!).toBeCloseTo(12.69, 1);
  });

  it('T420 FFF: 22.9–29.5 °C', async () => {
    const img = await readThermalFile(T420_FFF);
    expect(img).toMatchObject({ format: 'flir-fff', width: 320, height: 240 });
    const { minC, maxC } = thermalImageSummary(img);
    expect(minC!).toBeCloseTo(22.9, 1);
    expect(maxC!).toBeCloseTo(29.5, 1);
  });

  it('radiometric TIFF (LZW, predictor): value × 0.04 − 273.15 = −3.4 to 9.9 °C, and says so', async () => {
    const img = await readThermalFile(DUO_TIFF);
    expect(img).toMatchObject({ format: 'radiometric-tiff', width: 640, height: 512, radiometric: true });
    expect(img.meta.interpretation).toMatch(/0\.04/);
    expect(img.meta.compression).toBe(5);
    const { minC, maxC } = thermalImageSummary(img);
    expect(minC!).toBeCloseTo(-3.43, 2);
    expect(maxC!).toBeCloseTo(9.93, 2);
  });

  it('gives every radiometric image a grey version for display', async () => {
    const img = await readThermalFile(I60);
    expect(img.gray8!.length).toBe(img.width * img.height);
    const gray = Array.from(img.gray8!);
    expect(gray.reduce((a, b) => Math.min(a, b))).toBe(0);
    expect(gray.reduce((a, b) => Math.max(a, b))).toBe(255);
  });
});

describe('FLIR files built from FLIR’s published model', () => {
  // Forward model written out here: τ over √d (FLIR), raw = E·τ·obj + (1−E)·τ·refl + (1−τ)·atm.
  const camera = {
    R1: Math.fround(17096.453),
    R2: Math.fround(0.046642166),
    B: 1428,
    F: 1,
    O: -7340,
    emissivity: Math.fround(0.98),
    distanceM: 5,
    reflectedC: 20,
    atmosphereC: 20,
    humidityPct: 50,
  };
  const tau = (() => {
    const t = Math.fround(camera.atmosphereC + 273.15) - 273.15;
    const h2o =
      Math.fround(0.5) * Math.exp(1.5587 + 0.06939 * t - 0.00027816 * t ** 2 + 0.00000068455 * t ** 3);
    const k = Math.sqrt(5);
    const [a1, a2, b1, b2, x] = [0.006569, 0.01262, -0.002276, -0.00667, 1.9].map(Math.fround);
    return (
      x * Math.exp(-k * (a1 + b1 * Math.sqrt(h2o))) + (1 - x) * Math.exp(-k * (a2 + b2 * Math.sqrt(h2o)))
    );
  })();
  const blackbody = (c: number) =>
    camera.R1 / (camera.R2 * (Math.exp(camera.B / (c + 273.15)) - camera.F)) - camera.O;
  const truth = Array.from({ length: 81 }, (_, i) => i / 2); // 0–40 °C in 0.5 °C steps, 9×9 pixels
  const raw = Uint16Array.from(truth, (c) =>
    Math.round(
      camera.emissivity * tau * blackbody(c) +
        (1 - camera.emissivity) * tau * blackbody(20) +
        (1 - tau) * blackbody(20),
    ),
  );

  it('an FFF and a FLIR JPEG decode within 0.05 °C of the model across 0–40 °C (5 m, 20 °C air)', async () => {
    const { buildFff, buildFlirJpeg } = await import('../helpers/flirFiles.ts');
    const fff = buildFff(9, 9, camera, { raw });
    await writeFile(path.join(work, 'model.fff'), fff);
    await writeFile(path.join(work, 'model.jpg'), buildFlirJpeg(fff));
    for (const name of ['model.fff', 'model.jpg']) {
      const img = await readThermalFile(path.join(work, name));
      const worst = Math.max(...truth.map((c, i) => Math.abs(img.celsius![i] - c)));
      expect(worst, name).toBeLessThan(0.05);
    }
  });

  it('the window in the file is applied when its transmission is below 1', async () => {
    const { buildFff } = await import('../helpers/flirFiles.ts');
    // Window at the lens, 0.9 transmission, 30 °C: what reaches the sensor is 0.9·scene + 0.1·window.
    const throughWindow = Uint16Array.from(raw, (r) => Math.round(0.9 * r + 0.1 * blackbody(30)));
    const file = path.join(work, 'window.fff');
    await writeFile(
      file,
      buildFff(9, 9, { ...camera, windowTransmission: 0.9, windowC: 30 }, { raw: throughWindow }),
    );
    const img = await readThermalFile(file);
    const worst = Math.max(...truth.map((c, i) => Math.abs(img.celsius![i] - c)));
    expect(worst).toBeLessThan(0.05);
    expect(img.meta.objectParameters).toMatchObject({ window: { temperatureC: expect.closeTo(30, 3) } });
  });
});

describe('every image in the fixture folders', () => {
  it('reads without error; radiometric ones give plausible temperatures', async () => {
    for (const dir of [FLIR, TFW]) {
      const names = (await readdir(dir)).filter((n) => /\.(jpe?g|png|fff|tiff?)$/i.test(n));
      expect(names.length).toBeGreaterThanOrEqual(3);
      for (const name of names) {
        const img = await readThermalFile(path.join(dir, name));
        expect(img.gray8!.length, name).toBe(img.width * img.height);
        if (!img.radiometric) continue;
        const { minC, maxC } = thermalImageSummary(img);
        expect(minC!, name).toBeGreaterThan(-10);
        expect(maxC!, name).toBeLessThan(40);
      }
    }
  });

  it('text files beside them (licences, exiftool dumps) are refused with a ThermalFileError', async () => {
    const err = await expectThermalError(
      readThermalFile(path.join(FLIR, 'README.md')),
      /no temperature matrix found/,
    );
    expect(err).toBeInstanceOf(CanthusError);
  });
});

describe('8-bit thermal face images', () => {
  for (const name of ['103_1_1_4_450_1.png', '3312.png', '4076.png']) {
    it(`${name} reads as grey levels without temperatures`, async () => {
      const img = await readThermalFile(path.join(TFW, name));
      expect(img).toMatchObject({
        format: 'image-8bit',
        width: 464,
        height: 348,
        radiometric: false,
        celsius: null,
      });
      expect(img.gray8!.length).toBe(464 * 348);
      expect(thermalImageSummary(img)).toEqual({ minC: null, maxC: null });
      // Real content, not a blank frame.
      const gray = Array.from(img.gray8!);
      expect(gray.reduce((a, b) => Math.max(a, b)) - gray.reduce((a, b) => Math.min(a, b))).toBeGreaterThan(
        100,
      );
    });
  }

  it('an ordinary JPEG without FLIR segments is an 8-bit image', async () => {
    const sharp = (await import('sharp')).default;
    const file = path.join(work, 'plain.jpg');
    await sharp({ create: { width: 8, height: 6, channels: 3, background: { r: 90, g: 90, b: 90 } } })
      .jpeg()
      .toFile(file);
    const img = await readThermalFile(file);
    expect(img).toMatchObject({ format: 'image-8bit', width: 8, height: 6, radiometric: false });
    expect(Math.abs(img.gray8![0] - 90)).toBeLessThanOrEqual(2);
  });
});

describe('colour-palette 8-bit images are inverted to intensity, not read as luminance', () => {
  // A known grey scene: a warm head with a warmer canthus over a cool gradient background.
  const W = 96;
  const H = 72;
  const scene = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const head = Math.exp(-(((x - 48) / 18) ** 2 + ((y - 36) / 24) ** 2));
      const canthus = Math.exp(-(((x - 44) / 3) ** 2 + ((y - 30) / 3) ** 2));
      scene[y * W + x] = Math.round(Math.min(255, 20 + x * 0.8 + 150 * head + 40 * canthus));
    }
  }

  async function render(ramp: Uint8Array, file: string, format: 'png' | 'jpeg') {
    const sharp = (await import('sharp')).default;
    const rgb = new Uint8Array(W * H * 3);
    for (let i = 0; i < scene.length; i++) rgb.set(ramp.subarray(scene[i] * 3, scene[i] * 3 + 3), i * 3);
    const image = sharp(rgb, { raw: { width: W, height: H, channels: 3 } });
    await (format === 'png' ? image.png() : image.jpeg({ quality: 92 })).toFile(file);
  }

  function rankCorrelation(a: ArrayLike<number>, b: ArrayLike<number>): number {
    const ranks = (v: ArrayLike<number>) => {
      const order = Array.from(v, (x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
      const r = new Float64Array(v.length);
      for (let i = 0; i < order.length; ) {
        let j = i;
        while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
        for (let k = i; k <= j; k++) r[order[k][1]] = (i + j) / 2;
        i = j + 1;
      }
      return r;
    };
    const ra = ranks(a);
    const rb = ranks(b);
    const mean = (ra.length - 1) / 2;
    let num = 0;
    let da = 0;
    let db = 0;
    for (let i = 0; i < ra.length; i++) {
      num += (ra[i] - mean) * (rb[i] - mean);
      da += (ra[i] - mean) ** 2;
      db += (rb[i] - mean) ** 2;
    }
    return num / Math.sqrt(da * db);
  }

  it('every known palette, PNG and JPEG: the scene comes back (rank correlation ≥ 0.99)', async () => {
    const { PALETTES } = await import('../../appliance/thermalFiles/palettes.ts');
    for (const palette of PALETTES) {
      for (const format of ['png', 'jpeg'] as const) {
        const file = path.join(work, `${palette.name}.${format}`);
        await render(palette.ramp, file, format);
        const img = await readThermalFile(file);
        const label = `${palette.name} ${format}`;
        expect(img.meta.palette, label).toBe(palette.name);
        expect(rankCorrelation(img.gray8!, scene), label).toBeGreaterThan(0.99);
        if (format === 'png') {
          let err = 0;
          for (let i = 0; i < scene.length; i++) err += Math.abs(img.gray8![i] - scene[i]);
          expect(err / scene.length, label).toBeLessThan(2);
        }
      }
    }
  });

  it('luminance would have folded the rainbow scene (the reason for inverting)', async () => {
    const { PALETTES } = await import('../../appliance/thermalFiles/palettes.ts');
    const ramp = PALETTES.find((p) => p.name === 'rainbow')!.ramp;
    const lum = Array.from(
      scene,
      (v) => 0.299 * ramp[v * 3] + 0.587 * ramp[v * 3 + 1] + 0.114 * ramp[v * 3 + 2],
    );
    expect(rankCorrelation(lum, scene)).toBeLessThan(0.9);
  });

  it('another vendor’s iron (colours off by up to 25 units) is still matched and inverted', async () => {
    const { PALETTES } = await import('../../appliance/thermalFiles/palettes.ts');
    const iron = PALETTES.find((p) => p.name === 'iron')!.ramp;
    const variant = Uint8Array.from(iron, (v, i) => Math.max(0, Math.min(255, v + ((i % 3) - 1) * 14 + 6)));
    const file = path.join(work, 'iron-variant.png');
    await render(variant, file, 'png');
    const img = await readThermalFile(file);
    expect(img.meta.palette).toBe('iron');
    expect(rankCorrelation(img.gray8!, scene)).toBeGreaterThan(0.98);
  });

  it('a grey image stays luminance; a colour photo on no ramp stays luminance and says so', async () => {
    const sharp = (await import('sharp')).default;
    const greyFile = path.join(work, 'grey.png');
    await sharp(scene, { raw: { width: W, height: H, channels: 1 } })
      .png()
      .toFile(greyFile);
    const grey = await readThermalFile(greyFile);
    expect(grey.meta.palette).toBeNull();
    expect(Array.from(grey.gray8!)).toEqual(Array.from(scene));

    const photo = new Uint8Array(W * H * 3);
    let seed = 7;
    for (let i = 0; i < photo.length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      photo[i] = seed & 0xff;
    }
    const photoFile = path.join(work, 'photo.png');
    await sharp(photo, { raw: { width: W, height: H, channels: 3 } })
      .png()
      .toFile(photoFile);
    const img = await readThermalFile(photoFile);
    expect(img.meta.palette).toBeNull();
    expect(String(img.meta.interpretation)).toMatch(/no known palette ramp.*luminance/);
  });
});

describe('temperature-matrix exports', () => {
  const SCENE = [
    [22.5, 23.1, 30.4, 23.0, 22.8],
    [22.9, 33.2, 35.6, 33.0, 23.2],
    [23.0, 34.1, 36.4, 34.0, 23.1],
    [22.7, 31.8, 32.5, 31.9, 22.9],
  ];
  const expectScene = (img: ThermalImage, tolerance: number) => {
    expect(img).toMatchObject({ format: 'matrix-csv', width: 5, height: 4, radiometric: true });
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < 5; x++)
        expect(Math.abs(at(img, x, y) - SCENE[y][x])).toBeLessThanOrEqual(tolerance);
    }
  };

  it('FLIR Tools CSV: UTF-8 BOM, comma, metadata lines, °C', async () => {
    const img = await readThermalFile(path.join(MATRIX, 'flir-tools.csv'));
    expectScene(img, 1e-4);
    expect(img.meta).toMatchObject({
      encoding: 'utf-8',
      delimiter: ',',
      decimalSeparator: '.',
      unit: 'C',
      unitSource: 'header',
      headerLines: 7,
      indexRow: false,
      indexColumn: false,
    });
  });

  it('Fluke SmartView: UTF-16LE, tab, index row and column, °F converted to °C', async () => {
    const img = await readThermalFile(path.join(MATRIX, 'fluke-smartview-utf16le.txt'));
    expectScene(img, 0.006); // °F written with 2 decimals
    expect(img.meta).toMatchObject({
      encoding: 'utf-16le',
      delimiter: '\t',
      unit: 'F',
      indexRow: true,
      indexColumn: true,
    });
  });

  it('Testo IRSoft: windows-1252 °, semicolon, decimal comma', async () => {
    const img = await readThermalFile(path.join(MATRIX, 'testo-irsoft.csv'));
    expectScene(img, 1e-4);
    expect(img.meta).toMatchObject({
      encoding: 'windows-1252',
      delimiter: ';',
      decimalSeparator: ',',
      unit: 'C',
    });
  });

  it('UTF-16BE, tab with decimal comma, kelvin', async () => {
    const img = await readThermalFile(path.join(MATRIX, 'kelvin-utf16be.txt'));
    expectScene(img, 1e-3);
    expect(img.meta).toMatchObject({
      encoding: 'utf-16be',
      delimiter: '\t',
      decimalSeparator: ',',
      unit: 'K',
    });
  });

  it('bare matrix without header: °C assumed and reported as assumed', async () => {
    const img = await readThermalFile(path.join(MATRIX, 'bare.csv'));
    expectScene(img, 1e-4);
    expect(img.meta).toMatchObject({ unit: 'C', unitSource: 'assumed', headerLines: 0 });
  });

  it('°F matrix without BOM (UTF-16LE detected from the zero bytes), 0-based index column', async () => {
    const text =
      'Temperature in Fahrenheit\n0\t98.60\t212.00\t32.00\n1\t50.00\t-40.00\t100.40\n2\t68.00\t77.00\t86.00\n';
    const file = path.join(work, 'fahrenheit.txt');
    await writeFile(file, Buffer.from(text, 'utf16le'));
    const img = await readThermalFile(file);
    expect(img.meta).toMatchObject({ encoding: 'utf-16le', unit: 'F', indexColumn: true, indexRow: false });
    expect(img.width).toBe(3);
    expect(Array.from(img.celsius!).map((v) => Math.round(v * 100) / 100)).toEqual([
      37, 100, 0, 10, -40, 38, 20, 25, 30,
    ]);
  });

  it('Fluke SmartView CSV: every line wrapped in quotes, "All temperatures in F." header → °F', async () => {
    // The real shape of SmartView's CSV export: each whole line quoted, a trailing comma inside the
    // quotes, an index row and column, and the unit only as "in F." (no degree sign).
    const f = (c: number) => ((c * 9) / 5 + 32).toFixed(1);
    const lines = [
      '"Main Image Temperatures"',
      '"All temperatures in F."',
      `",${SCENE[0].map((_, x) => x + 1).join(',')},"`,
      ...SCENE.map((row, y) => `"${y + 1},${row.map(f).join(',')},"`),
    ];
    const file = path.join(work, 'smartview.csv');
    await writeFile(file, `${lines.join('\r\n')}\r\n`);
    const img = await readThermalFile(file);
    expectScene(img, 0.03); // °F written with 1 decimal
    expect(img.meta).toMatchObject({
      delimiter: ',',
      unit: 'F',
      unitSource: 'header',
      indexRow: true,
      indexColumn: true,
      quotedLines: true,
    });
  });

  it('"All temperatures in C." and "in K." headers are read as such, not guessed', async () => {
    const file = path.join(work, 'smartview-c.csv');
    await writeFile(file, '"All temperatures in C."\n"20.5,21.5,"\n"22.5,23.5,"\n');
    const img = await readThermalFile(file);
    expect(img.meta).toMatchObject({ unit: 'C', unitSource: 'header' });
    expect(Array.from(img.celsius!)).toEqual([20.5, 21.5, 22.5, 23.5]);
    await writeFile(file, '"All temperatures in K."\n"293.65,294.65,"\n"295.65,296.65,"\n');
    const k = await readThermalFile(file);
    expect(k.meta).toMatchObject({ unit: 'K', unitSource: 'header' });
    expect(k.celsius![0]).toBeCloseTo(20.5, 4);
  });

  it('rows of different length are refused with the row named', async () => {
    const file = path.join(work, 'ragged.csv');
    await writeFile(file, '30.1,30.2,30.3\n30.4,30.5\n30.6,30.7,30.8\n');
    await expectThermalError(readThermalFile(file), /row 2 has 2 values, the first row has 3/);
  });

  it('text without a matrix is refused, saying what was expected', async () => {
    const file = path.join(work, 'notes.txt');
    await writeFile(file, 'Inspection notes\nNothing measured today.\n');
    await expectThermalError(readThermalFile(file), /no temperature matrix found: expected lines of numbers/);
  });
});

describe('raw .y16 frames', () => {
  const profile: CameraProfile = {
    id: 'test-lepton',
    name: 'test',
    width: 4,
    height: 3,
    fps: 9,
    pixelFormat: 'GRAY16_LE',
    radiometry: { kind: 'tlinear', resolutionK: 0.01 },
    netdC: 0.05,
    accuracyC: 5,
    flatField: null,
    minFacePx: 40,
    visible: null,
    defaultSource: 'v4l2:/dev/video0',
  };
  const scene = Float32Array.from([20, 21, 22, 23, 30, 31, 32, 33, 35, 36, 37, 38]);

  async function writeFrames(
    file: string,
    frames: Float32Array[],
    radiometry: Radiometry = profile.radiometry,
  ) {
    const parts = frames.map((f) => Buffer.from(celsiusToRaw(f, radiometry).buffer));
    await writeFile(file, Buffer.concat(parts));
  }

  it('reads with a profile, little-endian, any frame of several', async () => {
    const file = path.join(work, 'two.y16');
    const second = scene.map((v) => v + 1);
    await writeFrames(file, [scene, second]);
    const first = await readThermalFile(file, { profile });
    expect(first).toMatchObject({ format: 'y16', width: 4, height: 3, radiometric: true });
    expect(first.meta).toMatchObject({ frameCount: 2, frame: 0, cameraProfile: 'test-lepton' });
    expect(Array.from(first.celsius!).map((v) => Math.round(v * 100) / 100)).toEqual(Array.from(scene));
    const next = await readThermalFile(file, { profile, frame: 1 });
    expect(at(next, 0, 0)).toBeCloseTo(21, 2);
    await expectThermalError(readThermalFile(file, { profile, frame: 2 }), /frame 2 does not exist.*0\.\.1/);
  });

  it('takes geometry and profile from a recording.json beside the file', async () => {
    const dir = path.join(work, 'rec');
    await mkdir(dir, { recursive: true });
    const lepton = await loadCameraProfile('lepton35');
    const frame = new Float32Array(lepton.width * lepton.height).fill(34.5);
    await writeFrames(path.join(dir, 'frames.y16'), [frame], lepton.radiometry);
    await writeFile(
      path.join(dir, 'recording.json'),
      JSON.stringify({
        format: 'canthus-recording',
        version: 1,
        profile: 'lepton35',
        width: lepton.width,
        height: lepton.height,
        fps: 8.7,
        frameCount: 1,
        pixelFormat: 'GRAY16_LE',
      }),
    );
    const img = await readThermalFile(path.join(dir, 'frames.y16'));
    expect(img).toMatchObject({ width: 160, height: 120, radiometric: true });
    expect(thermalImageSummary(img).maxC!).toBeCloseTo(34.5, 2);
  });

  it('refuses a .y16 without a profile, naming both ways to give one', async () => {
    const file = path.join(work, 'alone', 'x.y16');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFrames(file, [scene]);
    await expectThermalError(readThermalFile(file), /give a camera profile.*recording\.json/);
  });

  it('refuses a size that is not a whole number of frames', async () => {
    const file = path.join(work, 'odd.y16');
    await writeFile(file, Buffer.alloc(4 * 3 * 2 + 6));
    await expectThermalError(
      readThermalFile(file, { profile }),
      /30 bytes is not a whole number of 4×3 16-bit frames \(24 bytes each\)/,
    );
  });

  it('reads big-endian frames when the profile says GRAY16_BE', async () => {
    const file = path.join(work, 'be.y16');
    const raw = celsiusToRaw(scene, profile.radiometry);
    const bytes = Buffer.alloc(raw.length * 2);
    for (let i = 0; i < raw.length; i++) bytes.writeUInt16BE(raw[i], i * 2);
    await writeFile(file, bytes);
    const img = await readThermalFile(file, { profile: { ...profile, pixelFormat: 'GRAY16_BE' } });
    expect(at(img, 3, 2)).toBeCloseTo(38, 2);
  });
});

describe('broken and unsupported files', () => {
  it('a missing file, a directory, an empty file', async () => {
    const missing = await expectThermalError(
      readThermalFile(path.join(work, 'nope.jpg')),
      /cannot be read: no such file/,
    );
    expect(missing.file).toBe(path.join(work, 'nope.jpg'));
    await expectThermalError(readThermalFile(work), /directory/);
    const empty = path.join(work, 'empty.fff');
    await writeFile(empty, '');
    await expectThermalError(readThermalFile(empty), /file is empty; expected FLIR radiometric JPEG/);
  });

  it('a FLIR JPEG cut inside its FLIR segments', async () => {
    const bytes = await readFile(I60);
    const file = path.join(work, 'cut.jpg');
    await writeFile(file, bytes.subarray(0, 20_000));
    await expectThermalError(readThermalFile(file), /truncated JPEG/);
  });

  it('a FLIR JPEG with one FLIR segment missing', async () => {
    // The EX320 file spreads its FLIR data over several APP1 segments.
    const bytes = new Uint8Array(await readFile(EX320));
    // Find the second FLIR APP1 segment and turn it into a COM segment.
    let seen = 0;
    for (let pos = 2; pos < bytes.length; ) {
      const length = (bytes[pos + 2] << 8) | bytes[pos + 3];
      const isFlir =
        bytes[pos + 1] === 0xe1 && Buffer.from(bytes.subarray(pos + 4, pos + 8)).toString() === 'FLIR';
      if (isFlir && ++seen === 2) {
        bytes[pos + 1] = 0xfe;
        break;
      }
      pos += 2 + length;
    }
    const file = path.join(work, 'gap.jpg');
    await writeFile(file, bytes);
    await expectThermalError(readThermalFile(file), /FLIR segment 1 of \d+ is missing/);
  });

  it('a FLIR JPEG without a raw thermal record falls back to an 8-bit image', async () => {
    const bytes = new Uint8Array(await readFile(E40));
    // The FFF header and record directory sit at the start of the first FLIR APP1 segment.
    let fff = -1;
    for (let pos = 2; pos < bytes.length && fff < 0; ) {
      const length = (bytes[pos + 2] << 8) | bytes[pos + 3];
      if (bytes[pos + 1] === 0xe1 && Buffer.from(bytes.subarray(pos + 4, pos + 8)).toString() === 'FLIR')
        fff = pos + 12;
      pos += 2 + length;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const le = view.getUint32(fff + 0x14, false) >= 200;
    const dir = fff + view.getUint32(fff + 0x18, le);
    const count = view.getUint32(fff + 0x1c, le);
    for (let i = 0; i < count; i++)
      if (view.getUint16(dir + i * 32, le) === 1) view.setUint16(dir + i * 32, 0, le);
    const file = path.join(work, 'no-raw.jpg');
    await writeFile(file, bytes);
    const img = await readThermalFile(file);
    expect(img).toMatchObject({
      format: 'image-8bit',
      radiometric: false,
      celsius: null,
      width: 320,
      height: 240,
    });
    expect(img.meta.interpretation).toMatch(/FLIR JPEG without raw thermal data/);
  });

  it('a truncated FFF file', async () => {
    const bytes = await readFile(T420_FFF);
    const file = path.join(work, 'cut.fff');
    await writeFile(file, bytes.subarray(0, 50_000));
    await expectThermalError(readThermalFile(file), /truncated FLIR (record|raw image)/);
    await writeFile(file, bytes.subarray(0, 40));
    await expectThermalError(readThermalFile(file), /not a FLIR FFF record/);
  });

  it('a truncated or corrupt radiometric TIFF', async () => {
    const bytes = await readFile(DUO_TIFF);
    const file = path.join(work, 'cut.tiff');
    await writeFile(file, bytes.subarray(0, 100_000));
    await expectThermalError(readThermalFile(file), /truncated TIFF/);
    expect(() => lzwDecode('x.tiff', Uint8Array.from([0xff, 0xff, 0xff, 0xff]), 100)).toThrow(
      /corrupt TIFF LZW/,
    );
  });

  it('a float TIFF in kelvin is read as temperatures and says how', async () => {
    const file = path.join(work, 'kelvin.tiff');
    await writeFile(file, floatTiff(3, 2, [300, 301, 302, 303, 304, 305.5]));
    const img = await readThermalFile(file);
    expect(img).toMatchObject({ format: 'radiometric-tiff', radiometric: true, width: 3, height: 2 });
    expect(img.meta.interpretation).toMatch(/kelvin/);
    expect(at(img, 2, 1)).toBeCloseTo(32.35, 3);
  });

  it('a truncated 8-bit PNG', async () => {
    const bytes = await readFile(path.join(TFW, '3312.png'));
    const file = path.join(work, 'cut.png');
    await writeFile(file, bytes.subarray(0, 5000));
    await expectThermalError(readThermalFile(file), /PNG cannot be decoded/);
  });

  it('binary data of no known format', async () => {
    const file = path.join(work, 'noise.bin');
    await writeFile(file, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    await expectThermalError(readThermalFile(file), /unsupported format; allowed: FLIR radiometric JPEG/);
  });
});

/** An uncompressed little-endian float32 TIFF, built by hand. */
function floatTiff(width: number, height: number, values: number[]): Buffer {
  const entries: [number, number, number, number][] = [
    [256, 3, 1, width],
    [257, 3, 1, height],
    [258, 3, 1, 32],
    [259, 3, 1, 1],
    [262, 3, 1, 1],
    [273, 4, 1, 0], // strip offset, patched below
    [277, 3, 1, 1],
    [278, 3, 1, height],
    [279, 4, 1, width * height * 4],
    [339, 3, 1, 3],
  ];
  const ifdSize = 2 + entries.length * 12 + 4;
  const dataOffset = 8 + ifdSize;
  const buf = Buffer.alloc(dataOffset + width * height * 4);
  buf.write('II', 0, 'latin1');
  buf.writeUInt16LE(42, 2);
  buf.writeUInt32LE(8, 4);
  buf.writeUInt16LE(entries.length, 8);
  entries.forEach(([tag, type, count, value], i) => {
    const at = 10 + i * 12;
    buf.writeUInt16LE(tag, at);
    buf.writeUInt16LE(type, at + 2);
    buf.writeUInt32LE(count, at + 4);
    const v = tag === 273 ? dataOffset : value;
    if (type === 3) buf.writeUInt16LE(v, at + 8);
    else buf.writeUInt32LE(v, at + 8);
  });
  for (let i = 0; i < values.length; i++) buf.writeFloatLE(values[i], dataOffset + i * 4);
  return buf;
}
