import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Face } from '../../appliance/core/types.ts';
import {
  BlazeFaceDetector,
  DEFAULT_MODELS_DIR,
  ModelLoadError,
} from '../../appliance/detection/blazeface.ts';

// Public-domain NASA portrait (see test/fixtures/visible/README.md): one frontal face,
// roughly x 110–170, y 50–110 in the 320×320 image; eyes near (128, 66) and (154, 66).
const FIXTURE = fileURLToPath(
  new URL('../fixtures/visible/astronaut-eileen-collins-320.jpg', import.meta.url),
);

async function rgbOf(image: sharp.Sharp): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  const { data, info } = await image.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    rgb: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
  };
}

function expectWellFormed(face: Face): void {
  expect(face.from).toBe('visible');
  expect(face.score).toBeGreaterThan(0);
  expect(face.score).toBeLessThanOrEqual(1);
  for (const v of face.box) expect(Number.isFinite(v)).toBe(true);
  expect(face.box[2]).toBeGreaterThan(0);
  expect(face.box[3]).toBeGreaterThan(0);
  for (const name of ['rightEye', 'leftEye', 'nose', 'mouth', 'rightEar', 'leftEar'] as const) {
    const p = face.keypoints[name];
    expect(p).not.toBeNull();
    expect(Number.isFinite(p!.x) && Number.isFinite(p!.y)).toBe(true);
  }
  expect([true, false, null]).toContain(face.frontal);
}

function expectAstronautFace(face: Face, dx = 0, dy = 0): void {
  const [x, y, w, h] = face.box;
  expect(x).toBeGreaterThan(95 - dx);
  expect(y).toBeGreaterThan(35 - dy);
  expect(x + w).toBeLessThan(185 - dx);
  expect(y + h).toBeLessThan(125 - dy);
  const { rightEye, leftEye, nose, mouth } = face.keypoints;
  // The person's right eye appears on the image's left in an unmirrored photo.
  expect(rightEye!.x).toBeLessThan(leftEye!.x);
  expect(Math.hypot(rightEye!.x - (128 - dx), rightEye!.y - (66 - dy))).toBeLessThan(8);
  expect(Math.hypot(leftEye!.x - (154 - dx), leftEye!.y - (66 - dy))).toBeLessThan(8);
  expect(nose!.y).toBeGreaterThan(rightEye!.y);
  expect(mouth!.y).toBeGreaterThan(nose!.y);
}

describe('BlazeFaceDetector (real model, real photo)', () => {
  let front: BlazeFaceDetector;

  beforeAll(async () => {
    front = await BlazeFaceDetector.load();
  });
  afterAll(async () => {
    await front?.close();
  });

  it('loads the default model through the manifest', () => {
    expect(front.modelId).toBe('blazeface-front-128');
    expect(front.inputSize).toBe(128);
    expect(front.manifestEntry.input.layout).toBe('NHWC');
    expect(front.manifestEntry.decoding.numAnchors).toBe(896);
  });

  it('finds the one frontal face in the photo, with keypoints in image pixels', async () => {
    const { rgb, width, height } = await rgbOf(sharp(FIXTURE));
    const faces = await front.detect(rgb, width, height);
    expect(faces).toHaveLength(1);
    expectWellFormed(faces[0]);
    expect(faces[0].score).toBeGreaterThan(0.75);
    expectAstronautFace(faces[0]);
    expect(faces[0].frontal).toBe(true);
  });

  it('runs on a 128×128 input (no resampling) and returns well-formed results', async () => {
    const { rgb, width, height } = await rgbOf(sharp(FIXTURE).resize(128, 128));
    expect([width, height]).toEqual([128, 128]);
    const faces = await front.detect(rgb, width, height, { scoreThreshold: 0.5 });
    expect(faces.length).toBeGreaterThanOrEqual(1);
    for (const f of faces) expectWellFormed(f);
    // Same face, at 128/320 of the size.
    const [x, y] = faces[0].box;
    expect(x).toBeGreaterThan(95 * 0.4);
    expect(y).toBeGreaterThan(35 * 0.4);
  });

  it('maps back through the letterbox for a non-square crop', async () => {
    // 300×180 crop starting at (20, 0): the face moves by (−20, 0); padding goes below.
    const { rgb, width, height } = await rgbOf(
      sharp(FIXTURE).extract({ left: 20, top: 0, width: 300, height: 180 }),
    );
    const faces = await front.detect(rgb, width, height);
    expect(faces).toHaveLength(1);
    expectAstronautFace(faces[0], 20, 0);
  });

  it('finds nothing in a plain grey frame', async () => {
    const rgb = new Uint8Array(128 * 128 * 3).fill(128);
    expect(await front.detect(rgb, 128, 128)).toEqual([]);
  });

  it('rejects a buffer smaller than the stated size', async () => {
    await expect(front.detect(new Uint8Array(10), 128, 128)).rejects.toThrow(/RGB buffer has 10 bytes/);
  });

  it('the back 256 model finds the same face', async () => {
    const back = await BlazeFaceDetector.load({ modelId: 'blazeface-back-256' });
    try {
      expect(back.inputSize).toBe(256);
      const { rgb, width, height } = await rgbOf(sharp(FIXTURE));
      const faces = await back.detect(rgb, width, height);
      expect(faces).toHaveLength(1);
      expectAstronautFace(faces[0]);
    } finally {
      await back.close();
    }
  });

  it('measures the inference time (reported, not asserted)', async () => {
    const { rgb, width, height } = await rgbOf(sharp(FIXTURE).resize(128, 128));
    const inferMs: number[] = [];
    const totalMs: number[] = [];
    for (let i = 0; i < 60; i++) {
      const t0 = performance.now();
      await front.detect(rgb, width, height);
      totalMs.push(performance.now() - t0);
      inferMs.push(front.lastInferenceMs);
    }
    const median = (xs: number[]) =>
      [...xs.slice(10)].sort((a, b) => a - b)[Math.floor((xs.length - 10) / 2)];
    console.log(
      `BlazeFace front 128: median session.run ${median(inferMs).toFixed(2)} ms, ` +
        `median detect() incl. letterbox + decode ${median(totalMs).toFixed(2)} ms (50 runs after 10 warm-up)`,
    );
    expect(inferMs.every((t) => t > 0)).toBe(true);
  });
});

describe('BlazeFaceDetector loading errors', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'canthus-models-'));
    await copyFile(join(DEFAULT_MODELS_DIR, 'manifest.json'), join(dir, 'manifest.json'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names the missing file', async () => {
    await expect(BlazeFaceDetector.load({ modelsDir: dir })).rejects.toThrow(
      /face_detection_front_128x128_barracuda\.onnx .* is missing/,
    );
  });

  it('refuses a file whose sha256 differs from the manifest', async () => {
    const file = join(dir, 'face_detection_front_128x128_barracuda.onnx');
    const bytes = await readFile(join(DEFAULT_MODELS_DIR, 'face_detection_front_128x128_barracuda.onnx'));
    bytes[bytes.length - 1] ^= 0xff;
    await writeFile(file, bytes);
    const err = await BlazeFaceDetector.load({ modelsDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as Error).message).toMatch(
      /does not match the manifest: sha256 [0-9a-f]{64}, expected d388b1cf/,
    );
  });

  it('names unknown model ids and a missing manifest', async () => {
    await expect(BlazeFaceDetector.load({ modelsDir: dir, modelId: 'nope' })).rejects.toThrow(
      /"nope" is not in .*known: blazeface-front-128, blazeface-back-256/,
    );
    await expect(BlazeFaceDetector.load({ modelsDir: join(dir, 'absent') })).rejects.toThrow(
      /manifest .* cannot be read/,
    );
  });
});
