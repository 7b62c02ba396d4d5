/**
 * Live video of a bi-spectrum camera (real GStreamer replays of a thermal recording and a visible
 * JPEG sequence): the visible and blend views deliver JPEGs that differ from the thermal view
 * (decoded with sharp and compared), blend waits for a registration, a thermal-only camera and a
 * site that forbids faces refuse the visible views with a clear 4xx; the stills the registration
 * page marks points on (admin only).
 */
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../appliance/config/load.ts';
import { type Appliance, startAppliance } from '../../appliance/main.ts';
import { markedPairs, VISIBLE, visibleFixture, writeBispectrumSite } from '../helpers/bispectrumScene.ts';
import { addUser, setUpAdmin } from '../helpers/signIn.ts';
import { tempDir } from '../helpers/tempDir.ts';

const PASSWORD = 'two streams, one screen';

/** The next `n` JPEG frames of a /ws/video stream, or the HTTP status that refused it. */
function frames(url: string, cookie: string, n: number, timeoutMs = 15_000): Promise<Buffer[] | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { Cookie: cookie } });
    const got: Buffer[] = [];
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`${got.length} of ${n} frames from ${url} in ${timeoutMs} ms`));
    }, timeoutMs);
    ws.on('message', (data) => {
      got.push(data as Buffer);
      if (got.length === n) {
        clearTimeout(timer);
        ws.close();
        resolve(got);
      }
    });
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => {
        lastRefusal = body;
        resolve(res.statusCode ?? 0);
      });
    });
    ws.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
let lastRefusal = '';

async function decode(jpeg: Buffer) {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** Mean absolute difference per channel value, after bringing `b` to `a`'s size. */
async function meanDifference(a: Buffer, b: Buffer): Promise<number> {
  const first = await decode(a);
  const second = await sharp(b).resize(first.width, first.height, { fit: 'fill' }).raw().toBuffer();
  let sum = 0;
  for (let i = 0; i < first.data.length; i++) sum += Math.abs(first.data[i] - second[i]);
  return sum / first.data.length;
}

describe('bi-spectrum live video: thermal, visible and blend views', () => {
  const root = tempDir('canthus-bispectrum-video-');
  let dataDir: string;
  let appliance: Appliance | null = null;
  let adminCookie: string;
  let staffCookie: string;
  let ws: string;

  const start = async () => {
    const loaded = loadConfig({ dataDir, port: 0 });
    loaded.config.server.host = '127.0.0.1';
    appliance = await startAppliance({ loaded });
    ws = `ws://127.0.0.1:${appliance.port}`;
    return appliance;
  };

  beforeAll(async () => {
    dataDir = await writeBispectrumSite(root, { seconds: 40 });
    const a = await start();
    adminCookie = await setUpAdmin(a, dataDir, PASSWORD);
    staffCookie = await addUser(a, adminCookie, {
      username: 'nurse-bi',
      password: 'front door shift',
      role: 'staff',
    });
  }, 60_000);

  afterAll(async () => {
    await appliance?.stop();
  });

  it('lists the views each camera offers', async () => {
    const res = await request(appliance!.server!).get('/api/cameras').set('Cookie', staffCookie).expect(200);
    expect(res.body.visibleAllowed).toBe(true);
    const byId = Object.fromEntries(res.body.cameras.map((c: { id: string }) => [c.id, c]));
    expect(byId['door-1']).toMatchObject({
      bispectrum: true,
      visible: { width: VISIBLE.width, height: VISIBLE.height },
      registered: false,
      views: ['thermal', 'visible'],
    });
    expect(byId['lobby-1']).toMatchObject({ bispectrum: false, visible: null, views: ['thermal'] });
  });

  it('refuses the visible views of a thermal-only camera, blend before a registration, and unknown views', async () => {
    expect(await frames(`${ws}/ws/video?camera=lobby-1&view=visible`, staffCookie, 1)).toBe(400);
    expect(lastRefusal).toContain('camera \\"lobby-1\\" (profile \\"simulator\\") is thermal only');
    expect(await frames(`${ws}/ws/video?camera=lobby-1&view=blend`, staffCookie, 1)).toBe(400);
    expect(await frames(`${ws}/ws/video?camera=door-1&view=blend`, staffCookie, 1)).toBe(409);
    expect(lastRefusal).toContain('blend needs camera');
    expect(await frames(`${ws}/ws/video?camera=door-1&view=infrared`, staffCookie, 1)).toBe(400);
    expect(lastRefusal).toContain('view: must be one of thermal, visible, blend');
    const mjpeg = await request(appliance!.server!)
      .get('/api/cameras/lobby-1/mjpeg?view=visible')
      .set('Cookie', staffCookie);
    expect(mjpeg.status).toBe(400);
    expect(mjpeg.body.error).toContain('is thermal only');
  });

  it('delivers visible and blend frames that differ from the thermal ones; visible is the visible camera', async () => {
    // Blend needs the registration: committed through the API, as the registration page does.
    await request(appliance!.server!)
      .post('/api/registration/door-1')
      .set('Cookie', adminCookie)
      .send({ pairs: markedPairs() })
      .expect(201);
    const listed = await request(appliance!.server!).get('/api/cameras').set('Cookie', staffCookie);
    expect(listed.body.cameras[0].views).toEqual(['thermal', 'visible', 'blend']);

    const [thermal, visible, blend] = (await Promise.all(
      ['thermal', 'visible', 'blend'].map((view) =>
        frames(`${ws}/ws/video?camera=door-1&view=${view}&range=20..40`, staffCookie, 3),
      ),
    )) as Buffer[][];
    const [t, v, b] = await Promise.all([thermal[2], visible[2], blend[2]].map(decode));
    expect([t.width, t.height]).toEqual([512, 384]);
    // The visible view: the visible camera's own size (≤ 640 wide), its picture.
    expect([v.width, v.height]).toEqual([VISIBLE.width, VISIBLE.height]);
    // Blend: the thermal geometry.
    expect([b.width, b.height]).toEqual([512, 384]);

    const { jpeg: portrait } = await visibleFixture();
    const visibleVsPortrait = await meanDifference(visible[2], portrait);
    const thermalVsPortrait = await meanDifference(thermal[2], portrait);
    // JPEG twice and an overlay: close to the portrait, far closer than the thermal image is.
    expect(visibleVsPortrait).toBeLessThan(12);
    expect(thermalVsPortrait).toBeGreaterThan(visibleVsPortrait * 3);
    const blendVsThermal = await meanDifference(blend[2], thermal[2]);
    const blendVsVisible = await meanDifference(blend[2], visible[2]);
    expect(blendVsThermal, 'blend differs from thermal').toBeGreaterThan(8);
    expect(blendVsVisible, 'blend differs from visible').toBeGreaterThan(8);
  });

  it('shares one encode between the viewers of the same view', async () => {
    const before = encodedCount(appliance!);
    const three = await Promise.all(
      [1, 2, 3].map(() => frames(`${ws}/ws/video?camera=door-1&view=visible`, staffCookie, 4)),
    );
    expect(three.every((f) => Array.isArray(f))).toBe(true);
    const encoded = encodedCount(appliance!) - before;
    const sent = (three as Buffer[][]).reduce((n, f) => n + f.length, 0);
    // 12 frames handed out; the three viewers share their encodes (at most one per frame each,
    // plus frames only one of them was still waiting for).
    expect(encoded).toBeLessThan(sent);
  });

  it('serves the registration stills to admins only, thermal in the live scale and visible at full size', async () => {
    const server = appliance!.server!;
    expect((await request(server).get('/api/cameras/door-1/still')).status).toBe(401);
    expect((await request(server).get('/api/cameras/door-1/still').set('Cookie', staffCookie)).status).toBe(
      403,
    );
    const bad = await request(server).get('/api/cameras/door-1/still?view=blend').set('Cookie', adminCookie);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('view: must be thermal or visible (got "blend")');
    const extra = await request(server).get('/api/cameras/door-1/still?size=big').set('Cookie', adminCookie);
    expect(extra.status).toBe(400);
    const thermalOnly = await request(server)
      .get('/api/cameras/lobby-1/still?view=visible')
      .set('Cookie', adminCookie);
    expect(thermalOnly.status).toBe(400);
    expect((await request(server).get('/api/cameras/nope/still').set('Cookie', adminCookie)).status).toBe(
      404,
    );

    const visible = await request(server)
      .get('/api/cameras/door-1/still?view=visible')
      .set('Cookie', adminCookie);
    expect(visible.status).toBe(200);
    expect(visible.headers['content-type']).toBe('image/jpeg');
    const v = await decode(visible.body);
    expect([v.width, v.height]).toEqual([VISIBLE.width, VISIBLE.height]);
    expect(await meanDifference(visible.body, (await visibleFixture()).jpeg)).toBeLessThan(8);
    const thermal = await request(server).get('/api/cameras/door-1/still').set('Cookie', adminCookie);
    expect(thermal.status).toBe(200);
    const t = await decode(thermal.body);
    expect([t.width, t.height]).toEqual([512, 384]);
  });

  it('refuses the visible views and stills where the site forbids faces (privacy.showVisibleImages)', async () => {
    await appliance!.stop();
    appliance = null;
    const loaded = loadConfig({ dataDir, port: 0 });
    loaded.config.server.host = '127.0.0.1';
    loaded.config.privacy.showVisibleImages = false;
    appliance = await startAppliance({ loaded });
    ws = `ws://127.0.0.1:${appliance.port}`;
    const cookie = String(
      (
        await request(appliance.server!)
          .post('/api/login')
          .send({ username: 'admin', password: PASSWORD })
          .expect(200)
      ).headers['set-cookie'][0],
    ).split(';')[0];
    expect(await frames(`${ws}/ws/video?camera=door-1&view=visible`, cookie, 1)).toBe(403);
    expect(lastRefusal).toContain('visible images are not shown on this site');
    expect(await frames(`${ws}/ws/video?camera=door-1&view=blend`, cookie, 1)).toBe(403);
    const still = await request(appliance.server!)
      .get('/api/cameras/door-1/still?view=visible')
      .set('Cookie', cookie);
    expect(still.status).toBe(403);
    const listed = await request(appliance.server!).get('/api/cameras').set('Cookie', cookie);
    expect(listed.body.visibleAllowed).toBe(false);
    expect(listed.body.cameras[0].views).toEqual(['thermal']);
    // Thermal is always there.
    expect(Array.isArray(await frames(`${ws}/ws/video?camera=door-1`, cookie, 1))).toBe(true);
  });
});

function encodedCount(appliance: Appliance): number {
  const video = appliance.health().features.find((f) => f.name === 'video');
  return Number(video?.detail?.encoded ?? 0);
}
