import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../appliance/core/eventBus.ts';
import type { Face, ThermalFrame, VisibleFrame } from '../../appliance/core/types.ts';
import {
  type RegistrationCamera,
  RegistrationError,
  type RegistrationPair,
  RegistrationService,
} from '../../appliance/features/registration/service.ts';
import { RegisteredFaces } from '../../appliance/pipeline/registeredFaces.ts';
import { RegistrationHistory } from '../../appliance/store/registrations.ts';
import { applyHomography, type Homography } from '../../calibration/homography.ts';
import { tempDir } from '../helpers/tempDir.ts';

const cameras = new Map<string, RegistrationCamera>([
  ['door', { thermal: { width: 384, height: 288 }, visible: { width: 640, height: 480 }, profile: 'bi' }],
  ['lepton', { thermal: { width: 160, height: 120 }, visible: null, profile: 'lepton35' }],
]);

/** A plausible visible → thermal mapping: smaller scale, offset, a little perspective. */
const TRUE_H: Homography = [0.55, 0.01, 20, -0.008, 0.56, 12, 0.00002, -0.00001, 1];

const VISIBLE_POINTS = [
  { x: 40, y: 30 },
  { x: 600, y: 40 },
  { x: 320, y: 240 },
  { x: 50, y: 440 },
  { x: 610, y: 450 },
  { x: 200, y: 120 },
  { x: 450, y: 350 },
  { x: 330, y: 60 },
];

function pairs(n = VISIBLE_POINTS.length, H: Homography = TRUE_H): RegistrationPair[] {
  return VISIBLE_POINTS.slice(0, n).map((visible) => ({ visible, thermal: applyHomography(H, visible) }));
}

async function open(dir: string, now = () => Date.parse('2026-11-22T10:00:00Z'), bus?: EventBus) {
  return new RegistrationService({ history: await RegistrationHistory.open(dir), cameras, bus, now });
}

async function refusal(promise: Promise<unknown> | (() => unknown)): Promise<RegistrationError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    expect(error).toBeInstanceOf(RegistrationError);
    return error as RegistrationError;
  }
  throw new Error('expected a refusal');
}

describe('RegistrationService', () => {
  it('fits exact pairs with a sub-pixel error and recovers the mapping', async () => {
    const service = await open(tempDir());
    const fit = service.estimate('door', pairs());
    expect(fit.passed).toBe(true);
    expect(fit.figures.pairs).toBe(8);
    expect(fit.figures.redundantPairs).toBe(4);
    expect(fit.figures.rmsPx).toBeLessThan(0.001);
    expect(fit.figures.perPointPx).toHaveLength(8);
    for (const [i, v] of fit.homography.entries()) expect(v).toBeCloseTo(TRUE_H[i], 6);
    expect(fit.notes).toEqual([]);
    // Nothing is stored by an estimate.
    expect(service.active('door')).toBeNull();
  });

  it('says that 4 pairs fit exactly and prove nothing', async () => {
    const service = await open(tempDir());
    const fit = service.estimate('door', pairs(4));
    expect(fit.passed).toBe(true);
    expect(fit.notes.join()).toContain('exactly 4 pairs');
  });

  it('refuses too few, degenerate or out-of-image points, naming what is wrong', async () => {
    const service = await open(tempDir());
    const few = await refusal(() => service.estimate('door', pairs(3)));
    expect(few.kind).toBe('invalid');
    expect(few.message).toContain('3 given, a registration needs 4 to 64 point pairs');

    const line = [0, 1, 2, 3, 4].map((i) => ({
      visible: { x: 100 + 50 * i, y: 100 + 20 * i },
      thermal: { x: 60 + 30 * i, y: 50 + 12 * i },
    }));
    const collinear = await refusal(() => service.estimate('door', line));
    expect(collinear.kind).toBe('invalid');
    expect(collinear.message).toMatch(/collinear/);

    const outside = pairs();
    outside[2] = { visible: { x: 700, y: 100 }, thermal: outside[2].thermal };
    const off = await refusal(() => service.estimate('door', outside));
    expect(off.message).toContain('pairs[2].visible: (700, 100) is outside the 640×480 visible image');

    const thermalOutside = pairs();
    thermalOutside[5] = { visible: thermalOutside[5].visible, thermal: { x: 10, y: 300 } };
    expect((await refusal(() => service.estimate('door', thermalOutside))).message).toContain(
      'pairs[5].thermal: (10, 300) is outside the 384×288 thermal image',
    );

    // Left and right swapped in one image: the fit folds the image over itself.
    const mirrored = pairs().map((p) => ({
      visible: p.visible,
      thermal: { x: 384 - p.thermal.x, y: p.thermal.y },
    }));
    const flip = service.estimate('door', mirrored);
    expect(flip.passed).toBe(true); // a mirror is a valid homography; only a fold is refused
    // Points that fit a mapping whose horizon crosses the visible image (x = 500): refused.
    const horizon: Homography = [0.2, 0, 0, 0, 0.2, 0, -0.002, 0, 1];
    const folded = [20, 150, 300].flatMap((x) =>
      [30, 240, 400].map((y) => ({ visible: { x, y }, thermal: applyHomography(horizon, { x, y }) })),
    );
    const fold = await refusal(() => service.estimate('door', folded));
    expect(fold.kind).toBe('invalid');
    expect(fold.message).toContain('sends part of the visible image to infinity');
  });

  it('refuses unknown cameras (not found) and thermal-only cameras', async () => {
    const service = await open(tempDir());
    const unknown = await refusal(() => service.estimate('lobby', pairs()));
    expect(unknown.kind).toBe('not-found');
    expect(unknown.message).toBe('unknown camera "lobby" (allowed: door, lepton)');
    const thermalOnly = await refusal(() => service.estimate('lepton', pairs()));
    expect(thermalOnly.kind).toBe('invalid');
    expect(thermalOnly.message).toContain(
      'has no visible stream: registration is for bi-spectrum cameras (here: door)',
    );
  });

  it('refuses a fit over the error limit with the figures, and commits it only when forced', async () => {
    const dir = tempDir();
    const service = await open(dir);
    const bad = pairs();
    bad[6] = { visible: bad[6].visible, thermal: { x: bad[6].thermal.x + 9, y: bad[6].thermal.y - 6 } };
    const refused = await refusal(service.commit('door', bad, 'admin'));
    expect(refused.kind).toBe('unprocessable');
    expect(refused.message).toContain('largest single error');
    expect(refused.message).toContain('pairs[6]');
    expect(refused.message).toContain('"force": true');
    expect(refused.fit?.passed).toBe(false);
    expect(refused.fit!.figures.rmsPx).toBeGreaterThan(2);
    // The misplaced point carries the largest error.
    const perPoint = refused.fit!.figures.perPointPx;
    expect(perPoint.indexOf(Math.max(...perPoint))).toBe(6);
    expect(service.active('door')).toBeNull();
    expect(service.history()).toEqual([]);

    const { record } = await service.commit('door', bad, 'admin', { force: true });
    expect(record.forced).toBe(true);
    expect(record.failures.length).toBeGreaterThan(0);
    expect(service.active('door')?.id).toBe(record.id);
  });

  it('keeps every commit (who, when, pairs, H, errors), puts the latest in force, and again after a restart', async () => {
    const dir = tempDir();
    const bus = new EventBus();
    const service = await open(dir, undefined, bus);
    const committed: string[] = [];
    bus.on('registration.committed', (event) => committed.push(event.record.id), {
      name: 'test',
      delivery: 'inline',
    });
    const first = (await service.commit('door', pairs(), 'alice')).record;
    const shifted: Homography = [...TRUE_H];
    shifted[2] += 3;
    const second = (await service.commit('door', pairs(8, shifted), 'bob')).record;
    expect(committed).toEqual([first.id, second.id]);
    expect(second).toMatchObject({
      cameraId: 'door',
      committedBy: 'bob',
      committedAt: '2026-11-22T10:00:00.000Z',
      visibleSize: { width: 640, height: 480 },
      thermalSize: { width: 384, height: 288 },
      forced: false,
      failures: [],
      limits: { maxRmsPx: 2, maxPointPx: 4 },
    });
    expect(second.pairs).toEqual(pairs(8, shifted));
    expect(second.figures.perPointPx).toHaveLength(8);
    expect(service.homography('door')![2]).toBeCloseTo(TRUE_H[2] + 3, 6);
    expect(service.homography('lepton')).toBeNull();

    const file = JSON.parse(readFileSync(path.join(dir, 'registrations.json'), 'utf8'));
    expect(file.registrations.map((r: { id: string }) => r.id)).toEqual([first.id, second.id]);

    const reopened = await open(dir);
    expect(reopened.active('door')?.id).toBe(second.id);
    expect(reopened.history('door').map((r) => r.committedBy)).toEqual(['alice', 'bob']);
    expect(reopened.homography('door')).toEqual(second.homography);
  });

  it('refuses to start on a registration file it cannot read, and leaves it as it is', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'registrations.json');
    writeFileSync(file, '{"version":1,"registrations":[{"id":"x","cameraId":"door","homography":[1,2]}]}');
    await expect(open(dir)).rejects.toThrow(/registrations\[0\]\.homography must be 9 finite numbers/);
    expect(readFileSync(file, 'utf8')).toContain('"homography":[1,2]');
  });
});

describe('RegisteredFaces', () => {
  const visibleFrame: VisibleFrame = { capturedAt: 1000, width: 640, height: 480, rgb: new Uint8Array(0) };
  const thermal = (visible?: VisibleFrame) =>
    ({ cameraId: 'door', capturedAt: 1010, width: 384, height: 288, visible }) as ThermalFrame;
  const face: Face = {
    box: [200, 100, 120, 150],
    keypoints: {
      rightEye: { x: 235, y: 150 },
      leftEye: { x: 285, y: 150 },
      nose: { x: 260, y: 190 },
      mouth: { x: 260, y: 220 },
      rightEar: null,
      leftEar: null,
    },
    score: 0.9,
    from: 'visible',
    frontal: true,
  };
  const lookup = (faces: Face[] | null, lastDetectedAt: number | null = null) => ({
    maxSkewMs: 60,
    lastDetectedAt,
    facesFor: () => (faces ? { faces, capturedAt: 1000 } : null),
  });

  it('uses the thermal detector without a registration and says why', async () => {
    const registrations = await open(tempDir());
    const source = new RegisteredFaces({
      cameraId: 'door',
      registration: registrations.active('door'),
      capture: lookup([face]),
    });
    expect(source.faces(thermal(visibleFrame), [])).toBeNull();
    expect(source.health()).toMatchObject({ detector: 'thermal', framesThermal: 1, framesVisible: 0 });
    expect(source.health().reason).toContain('no registration');
  });

  it('maps visible faces into thermal pixels with the registration in force', async () => {
    const registrations = await open(tempDir());
    const { record } = await registrations.commit('door', pairs(), 'admin');
    const source = new RegisteredFaces({
      cameraId: 'door',
      registration: registrations.active('door'),
      capture: lookup([face]),
    });
    const faces = source.faces(thermal(visibleFrame), [])!;
    expect(faces).toHaveLength(1);
    const corner = applyHomography(TRUE_H, { x: 200, y: 100 });
    expect(faces[0].box[0]).toBeCloseTo(Math.min(corner.x, applyHomography(TRUE_H, { x: 200, y: 250 }).x), 3);
    expect(faces[0].from).toBe('visible');
    const eye = applyHomography(TRUE_H, face.keypoints.rightEye!);
    expect(faces[0].keypoints.rightEye!.x).toBeCloseTo(eye.x, 6);
    expect(source.health()).toMatchObject({
      detector: 'visible',
      registrationId: record.id,
      framesVisible: 1,
    });

    // A face centred in an excluded region (the blackbody) is dropped.
    const [x, y, w, h] = faces[0].box;
    expect(source.faces(thermal(visibleFrame), [[x, y, w, h]])).toEqual([]);
  });

  it('falls back to the thermal detector when no detected visible frame is near in time, or no detector', async () => {
    const registrations = await open(tempDir());
    await registrations.commit('door', pairs(), 'admin');
    const late = new RegisteredFaces({
      cameraId: 'door',
      registration: registrations.active('door'),
      capture: lookup(null, -5000),
    });
    expect(late.faces(thermal(), [])).toBeNull();
    expect(late.health().reason).toContain('within ±60 ms');
    expect(late.health().framesThermal).toBe(1);
    // The visible stream is running (a detected frame 110 ms ago): this frame gets no faces instead
    // of the thermal detector's, so the person's box does not jump between detectors.
    const gap = new RegisteredFaces({
      cameraId: 'door',
      registration: registrations.active('door'),
      capture: lookup(null, 900),
    });
    expect(gap.faces(thermal(), [])).toEqual([]);
    expect(gap.health()).toMatchObject({ framesWithoutVisible: 1, framesThermal: 0 });
    const noModel = new RegisteredFaces({
      cameraId: 'door',
      registration: registrations.active('door'),
      capture: lookup([face]),
      detectorProblem: 'model file missing',
    });
    expect(noModel.faces(thermal(visibleFrame), [])).toBeNull();
    expect(noModel.health().reason).toContain('model file missing');
    const noStream = new RegisteredFaces({
      cameraId: 'door',
      registration: registrations.active('door'),
      capture: null,
    });
    expect(noStream.faces(thermal(), [])).toBeNull();
    expect(noStream.health().reason).toContain('no visible source configured');
  });
});
