/**
 * A bi-spectrum camera end to end: a thermal recording and a visible JPEG sequence replayed through
 * real GStreamer pipelines, BlazeFace (real ONNX inference) on the visible frames, the registration
 * committed through the HTTP API, and the screening stage working on the visible faces mapped into
 * thermal pixels — after a restart, so the registration is shown to survive it.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PixelFrame } from '../../appliance/camera/gstreamerSource.ts';
import { RecordingWriter } from '../../appliance/camera/recording.ts';
import { createVisibleGstSource, parseVisibleSourceUri } from '../../appliance/camera/visibleSource.ts';
import { loadConfig } from '../../appliance/config/load.ts';
import type { Box, Face, ScreeningEvent } from '../../appliance/core/types.ts';
import { BlazeFaceDetector } from '../../appliance/detection/blazeface.ts';
import { mapFace } from '../../appliance/detection/registration.ts';
import { type Appliance, startAppliance, VISIBLE_FACE_MODEL } from '../../appliance/main.ts';
import { applyHomography } from '../../calibration/homography.ts';
import { counts, FIXTURE, PROFILE, THERMAL, TRUE_H, VISIBLE } from '../helpers/bispectrumScene.ts';
import { tempDir, waitFor } from '../helpers/tempDir.ts';

const PASSWORD = 'two streams, one face';

/** The person is in view from 1 s to 4 s of a 5 s replay, in both streams. */
const IN_VIEW_S: [number, number] = [1, 4];
const DURATION_S = 5;

/** A visible frame with the portrait (its top 320×240) or an empty grey scene. */
async function visibleFrames(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const person = await sharp(FIXTURE).extract({ left: 0, top: 0, width: 320, height: 240 }).jpeg().toBuffer();
  const empty = await sharp({
    create: {
      width: VISIBLE.width,
      height: VISIBLE.height,
      channels: 3,
      background: { r: 120, g: 120, b: 118 },
    },
  })
    .jpeg()
    .toBuffer();
  const n = DURATION_S * VISIBLE.fps;
  for (let i = 0; i < n; i++) {
    const t = i / VISIBLE.fps;
    const inView = t >= IN_VIEW_S[0] && t < IN_VIEW_S[1];
    writeFileSync(path.join(dir, `${String(i).padStart(5, '0')}.jpg`), inView ? person : empty);
  }
}

/**
 * Thermal frames of a 22 °C room with a 35 °C blackbody and, while the person is in view, a warm
 * face where the registration puts the visible face: an ellipse of 34 °C skin, narrower than the
 * mapped box (so a thermal detector's box would differ from it), with 35.5 °C inner canthi.
 */
function thermalRecording(dir: string, face: Face): void {
  mkdirSync(dir, { recursive: true });
  const writer = new RecordingWriter(dir, {
    profile: PROFILE.id,
    ...THERMAL,
    source: 'synthetic bi-spectrum test',
  });
  const { width, height } = THERMAL;
  const [bx, by, bw, bh] = face.box;
  const cx = bx + bw / 2;
  const cy = by + bh / 2;
  const rx = (bw / 2) * 0.8;
  const ry = (bh / 2) * 0.95;
  const eyes = [face.keypoints.rightEye!, face.keypoints.leftEye!];
  // Inner canthi: from each eye a little towards the other.
  const canthi = [
    { x: eyes[0].x + (eyes[1].x - eyes[0].x) * 0.2, y: eyes[0].y },
    { x: eyes[1].x - (eyes[1].x - eyes[0].x) * 0.2, y: eyes[1].y },
  ];
  let seed = 7;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return (seed / 2147483648 - 0.5) * 0.1;
  };
  for (let f = 0; f < DURATION_S * THERMAL.fps; f++) {
    const t = f / THERMAL.fps;
    const inView = t >= IN_VIEW_S[0] && t < IN_VIEW_S[1];
    const frame = new Uint16Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let c = 22;
        if (x >= 226 && x < 246 && y >= 150 && y < 170) c = 35;
        if (inView && ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1) {
          c = 34;
          if (canthi.some((p) => Math.hypot(x - p.x, y - p.y) <= 1.5)) c = 35.5;
          else if (eyes.some((p) => Math.hypot(x - p.x, y - p.y) <= 4)) c = 34.6;
        }
        frame[y * width + x] = counts(c + noise());
      }
    }
    writer.writeFrame(frame);
  }
  writer.close();
}

/** Six marked points: a heated target seen at six places, in both images (to 0.2 px). */
function markedPairs() {
  const visible = [
    { x: 30, y: 25 },
    { x: 250, y: 20 },
    { x: 140, y: 110 },
    { x: 20, y: 180 },
    { x: 255, y: 175 },
    { x: 200, y: 70 },
  ];
  const jitter = [0.2, -0.1, 0.15, -0.2, 0.05, -0.15];
  return visible.map((v, i) => {
    const t = applyHomography(TRUE_H, v);
    return { visible: v, thermal: { x: t.x + jitter[i], y: t.y - jitter[(i + 2) % 6] } };
  });
}

describe('bi-spectrum camera: visible faces mapped into the thermal image', () => {
  const root = tempDir('canthus-bispectrum-');
  const dataDir = path.join(root, 'data');
  let expectedBox: Box;
  let appliance: Appliance | null = null;

  const start = async () => {
    const loaded = loadConfig({ dataDir, port: 0 });
    loaded.config.server.host = '127.0.0.1';
    return startAppliance({ loaded });
  };

  beforeAll(async () => {
    // Where the face is: BlazeFace on the visible frame, mapped with the site's true mapping.
    const { data, info } = await sharp(FIXTURE)
      .extract({ left: 0, top: 0, width: 320, height: 240 })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const detector = await BlazeFaceDetector.load({ modelId: VISIBLE_FACE_MODEL, intraOpNumThreads: 1 });
    const [visibleFace] = await detector.detect(new Uint8Array(data), info.width, info.height);
    await detector.close();
    const mapped = mapFace(visibleFace, TRUE_H);
    expectedBox = mapped.box;

    mkdirSync(path.join(dataDir, 'cameras'), { recursive: true });
    writeFileSync(path.join(dataDir, 'cameras', `${PROFILE.id}.json`), JSON.stringify(PROFILE));
    const recording = path.join(root, 'thermal');
    const images = path.join(root, 'visible');
    thermalRecording(recording, mapped);
    await visibleFrames(images);
    writeFileSync(
      path.join(dataDir, 'config.json'),
      JSON.stringify({
        applianceId: 'bispectrum-test',
        cameras: [
          {
            id: 'door-1',
            profile: PROFILE.id,
            source: `recording:${recording}?pace=realtime`,
            visibleSource: `images:${images}?fps=${VISIBLE.fps}`,
            reference: { setpointC: 35, emissivity: 0.98, region: null, warmupS: 0, stableForS: 1 },
          },
        ],
      }),
    );
  });

  afterAll(async () => {
    await appliance?.stop();
  });

  it('registers the visible stream through the HTTP API (admin), refusing bad point sets', async () => {
    appliance = await start();
    const token = readFileSync(path.join(dataDir, 'setup-token'), 'utf8').trim();
    const admin = request.agent(appliance.server!);
    await admin.post('/api/setup').send({ token, username: 'admin', password: PASSWORD }).expect(201);

    const anonymous = await request(appliance.server!)
      .post('/api/registration/door-1')
      .send({ pairs: markedPairs() });
    expect(anonymous.status).toBe(401);
    const none = await admin.get('/api/registration/door-1');
    expect(none.body).toEqual({ cameraId: 'door-1', active: null });

    const few = await admin.post('/api/registration/door-1').send({ pairs: markedPairs().slice(0, 3) });
    expect(few.status).toBe(400);
    expect(few.body.error).toContain('pairs: must NOT have fewer than 4 items');
    const unknown = await admin.post('/api/registration/door-1').send({ pairs: markedPairs(), scale: 2 });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toContain('unknown field "scale"');
    const misplaced = markedPairs();
    misplaced[2].thermal.x += 8;
    const refused = await admin.post('/api/registration/door-1').send({ pairs: misplaced });
    // Well-formed points whose fit is over the limits: unprocessable, like every such refusal.
    expect(refused.status).toBe(422);
    expect(refused.body.error).toContain('pairs[2]');
    expect(refused.body.fit.figures.rmsPx).toBeGreaterThan(2);
    expect((await admin.get('/api/registration/door-1')).body.active).toBeNull();

    const estimate = await admin.post('/api/registration/door-1/estimate').send({ pairs: markedPairs() });
    expect(estimate.status).toBe(200);
    expect(estimate.body.passed).toBe(true);

    const committed = await admin.post('/api/registration/door-1').send({ pairs: markedPairs() });
    expect(committed.status, committed.body.error).toBe(201);
    expect(committed.body).toMatchObject({ cameraId: 'door-1', committedBy: 'admin', forced: false });
    expect(committed.body.figures.rmsPx).toBeLessThan(0.5);
    expect(committed.body.pairs).toHaveLength(6);
    const active = await admin.get('/api/registration/door-1');
    expect(active.body.active.id).toBe(committed.body.id);
    const history = await admin.get('/api/registration/door-1/history');
    expect(history.body.registrations.map((r: { id: string }) => r.id)).toEqual([committed.body.id]);
    expect((await admin.get('/api/registration/lobby-9')).status).toBe(404);
    await appliance.stop();
    appliance = null;
  });

  it('after a restart, screens the replay with the visible faces mapped into thermal pixels', async () => {
    appliance = await start();
    const events: ScreeningEvent[] = [];
    appliance.bus.on('screening', (event) => events.push(event), { name: 'collector', delivery: 'inline' });
    // The registration committed before the restart is in force.
    expect(appliance.stores.registrations.latest('door-1')?.committedBy).toBe('admin');

    await waitFor(
      () => appliance!.health().cameras[0].state === 'ended' || null,
      20_000,
      'end of the replay',
    );
    await appliance.finished;
    const health = appliance.health().cameras[0] as ReturnType<Appliance['health']>['cameras'][number] & {
      visible: { framesIn: number; paired: number; unpaired: number; detections: number; maxSkewMs: number };
      faces: {
        detector: string;
        framesVisible: number;
        framesThermal: number;
        framesWithoutVisible: number;
        registrationId: string;
      };
    };
    const summary = {
      thermalFrames: health.totals.in,
      visible: health.visible,
      faces: health.faces,
      expectedBox: expectedBox.map((v) => Math.round(v * 10) / 10),
      boxes: events.map((e) => `${e.kind} ${e.box?.join(',')}`),
    };
    const why = JSON.stringify(summary);

    // The replay ends with the thermal recording; the visible one may still have a few frames to go.
    expect(health.visible.framesIn, why).toBeGreaterThanOrEqual(DURATION_S * VISIBLE.fps - 10);
    expect(health.visible.detections, why).toBeGreaterThan(20);
    expect(health.faces.registrationId).toBe(appliance.stores.registrations.latest('door-1')?.id);
    expect(health.faces.detector).toBe('visible');
    // Every processed frame is accounted for: visible faces, a skipped frame, or the thermal detector,
    // which served only until the first visible frame was detected.
    const { framesVisible, framesWithoutVisible, framesThermal } = health.faces;
    expect(framesVisible + framesWithoutVisible + framesThermal, why).toBe(health.totals.processed);
    expect(framesThermal, why).toBeLessThanOrEqual(3);
    // Two independent real-time replays pair almost every frame on an idle machine (44 of 45
    // measured); a loaded one delays one pipeline's start against the other and loses pairs, which
    // health counts (`unpaired`, `framesWithoutVisible`).
    expect(health.visible.paired, why).toBeGreaterThanOrEqual(10);
    expect(framesVisible, why).toBeGreaterThanOrEqual(10);

    // One person, every event's box the visible face mapped through the registration.
    const persons = new Set(events.map((e) => e.personId));
    expect(persons.size).toBe(1);
    expect(events.map((e) => e.kind)).toContain('end');
    expect(events.length, why).toBeGreaterThanOrEqual(2);
    for (const event of events) {
      for (let i = 0; i < 4; i++)
        expect(Math.abs(event.box![i] - expectedBox[i]), `${event.kind} box[${i}]`).toBeLessThan(2);
    }
  });
});

describe('visible images source (real GStreamer)', () => {
  it('delivers RGB frames without GStreamer row padding at a width whose rows are not 4-byte multiples', async () => {
    const dir = tempDir('canthus-visible-rgb-');
    // 30 px → 90 bytes per row, which GStreamer pads to 92: left half red, right half blue.
    const width = 30;
    const height = 20;
    const rgb = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) rgb.set(x < 15 ? [230, 20, 20] : [20, 20, 230], (y * width + x) * 3);
    }
    const jpeg = await sharp(rgb, { raw: { width, height, channels: 3 } })
      .jpeg({ quality: 95 })
      .toBuffer();
    for (let i = 0; i < 3; i++) writeFileSync(path.join(dir, `${String(i).padStart(5, '0')}.jpg`), jpeg);
    const gst = createVisibleGstSource('cam', parseVisibleSourceUri(`images:${dir}?fps=20`), {
      width,
      height,
      fps: 20,
    });
    const frames: PixelFrame[] = [];
    const states: string[] = [];
    const arrivals: number[] = [];
    gst.onPixels((frame) => {
      frames.push(frame);
      arrivals.push(Date.now());
    });
    gst.onState((state, reason) => states.push(`${state}: ${reason}`));
    gst.start();
    await waitFor(() => states.some((s) => s.startsWith('ended')), 10_000, 'end of the images');
    gst.stop();
    expect(states.filter((s) => s.startsWith('offline'))).toEqual([]);
    expect(frames).toHaveLength(3);
    // Timed by the rate (50 ms apart) from when the replay started playing, never after its arrival: a
    // first frame taken late (stamped at its arrival) leaves less between it and the next, never more.
    for (const [i, frame] of frames.entries()) expect(frame.capturedAt).toBeLessThanOrEqual(arrivals[i]);
    expect(frames[1].capturedAt).toBeGreaterThanOrEqual(frames[0].capturedAt);
    expect(frames[2].capturedAt).toBeGreaterThanOrEqual(frames[1].capturedAt);
    expect(frames[2].capturedAt - frames[0].capturedAt).toBeLessThanOrEqual(100);
    const { pixels } = frames[0];
    expect(pixels.length).toBe(width * height * 3);
    // Every row starts red and ends blue: no row is shifted by padding.
    for (let y = 0; y < height; y++) {
      const first = pixels.subarray(y * width * 3, y * width * 3 + 3);
      const last = pixels.subarray((y * width + width - 1) * 3, (y * width + width) * 3);
      expect(first[0] - first[2], `row ${y} first pixel`).toBeGreaterThan(150);
      expect(last[2] - last[0], `row ${y} last pixel`).toBeGreaterThan(150);
    }
  });
});
