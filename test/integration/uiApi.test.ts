import http from 'node:http';
import request from 'supertest';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../appliance/config/load.ts';
import type { ScreeningEvent } from '../../appliance/core/types.ts';
import { type Appliance, startAppliance } from '../../appliance/main.ts';
import { addUser, setUpAdmin } from '../helpers/signIn.ts';
import { tempDir, waitFor } from '../helpers/tempDir.ts';

const PASSWORD = 'entrance keeper 1';
const STAFF_PASSWORD = 'front door shift';

/** Opens a WebSocket; resolves with it once open, or with the HTTP status that refused it. */
function connect(url: string, headers: Record<string, string> = {}): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    // Collect from the first message on: one may arrive in the same packet as the handshake.
    const received: (Buffer | Record<string, unknown>)[] = [];
    received_.set(ws, received);
    ws.on('message', (data, binary) => {
      received.push(binary ? (data as Buffer) : JSON.parse(String(data)));
    });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.once('error', reject);
  });
}

const received_ = new WeakMap<WebSocket, (Buffer | Record<string, unknown>)[]>();
const messages = (ws: WebSocket) => received_.get(ws)!;

/** A screening event that raises an alert, as the screening stage would publish it. */
function elevated(personId: string): Omit<ScreeningEvent, 'id' | 'at'> & { id: string; at: number } {
  return {
    id: ulid(),
    at: Date.now(),
    kind: 'update',
    personId,
    state: 'measured',
    prompts: ['confirm-with-thermometer'],
    skinC: 37.2,
    estimatedCoreC: 38.6,
    decision: 'elevated',
    reasonCodes: ['confirm-with-thermometer'],
    reasons: ['Please see staff: confirm with a clinical thermometer'],
    calibration: { referenceState: 'stable', offsetC: 0.1, gain: 1, calibrationId: null },
    applianceId: 'test',
    cameraId: 'entrance-1',
    box: [10, 10, 40, 50],
    unit: 'C',
    display: '38.6 °C',
    alert: true,
    goodFrames: 5,
    mode: 'absolute',
    firstSeq: 1,
    lastSeq: 9,
  };
}

describe('UI API: video, live feeds, alerts', () => {
  const dataDir = tempDir();
  let appliance: Appliance;
  let base: string;
  let ws: string;
  let adminCookie: string;
  let staffCookie: string;
  let staff: ReturnType<typeof request.agent>;

  beforeAll(async () => {
    const loaded = loadConfig({ dataDir, port: 0, source: 'simulator:?seed=2' });
    loaded.config.server.host = '127.0.0.1';
    appliance = await startAppliance({ loaded });
    base = `http://127.0.0.1:${appliance.port}`;
    ws = `ws://127.0.0.1:${appliance.port}`;
    adminCookie = await setUpAdmin(appliance, dataDir, PASSWORD);
    staffCookie = await addUser(appliance, adminCookie, {
      username: 'staff-1',
      password: STAFF_PASSWORD,
      role: 'staff',
    });
    staff = request.agent(appliance.server!);
    staff.set('Cookie', staffCookie);
  });
  afterAll(async () => {
    await appliance?.stop();
  });

  it('serves every page with a CSP that allows no inline script', async () => {
    const res = await request(appliance.server!).get('/api/health').expect(200);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
  });

  it('refuses /ws/video without a session (401), from another origin (403), with bad parameters (400/404)', async () => {
    expect(await connect(`${ws}/ws/video`)).toBe(401);
    expect(await connect(`${ws}/ws/video`, { Cookie: 'canthus_session=forged' })).toBe(401);
    expect(await connect(`${ws}/ws/video`, { Cookie: staffCookie, Origin: 'http://evil.example' })).toBe(403);
    expect(await connect(`${ws}/ws/video?palette=sepia`, { Cookie: staffCookie })).toBe(400);
    expect(await connect(`${ws}/ws/video?camera=nope`, { Cookie: staffCookie })).toBe(404);
    expect(await connect(`${ws}/ws/video?range=40..20`, { Cookie: staffCookie })).toBe(400);
    expect(await connect(`${ws}/ws/video?range=hot`, { Cookie: staffCookie })).toBe(400);
    expect(await connect(`${ws}/ws/video?fps=30`, { Cookie: staffCookie })).toBe(400);
    // A thermal-only camera has no visible or blend view (test/integration/bispectrumVideo.test.ts has them).
    expect(await connect(`${ws}/ws/video?view=visible`, { Cookie: staffCookie })).toBe(400);
    expect(await connect(`${ws}/ws/video?view=blend`, { Cookie: staffCookie })).toBe(400);
    const fixed = await connect(`${ws}/ws/video?range=20..40&palette=white-hot`, { Cookie: staffCookie });
    expect(fixed).toBeInstanceOf(WebSocket);
    (fixed as WebSocket).close();
    expect(await connect(`${ws}/ws/nothing`, { Cookie: staffCookie })).toBe(404);
  });

  it('streams changing JPEG frames to a staff viewer and renders only while someone watches', async () => {
    const video = () =>
      appliance.featureStates().find((f) => f.name === 'video')?.detail as {
        viewers: number;
        encoded: number;
      };
    const idleBefore = video().encoded;
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(video().encoded).toBe(idleBefore);
    const socket = await connect(`${ws}/ws/video?palette=rainbow`, {
      Cookie: staffCookie,
      Origin: base,
    });
    expect(socket).toBeInstanceOf(WebSocket);
    const frames = messages(socket as WebSocket) as Buffer[];
    await waitFor(() => frames.length >= 4, 15_000, 'four video frames');
    (socket as WebSocket).close();
    for (const frame of frames) {
      expect(frame[0]).toBe(0xff);
      expect(frame[1]).toBe(0xd8);
    }
    expect(new Set(frames.map((f) => f.toString('base64'))).size).toBeGreaterThan(1);
    await waitFor(() => video().viewers === 0, 5000, 'the viewer to be gone');
    // An encode already running when the viewer left may still finish (a loaded box takes a while):
    // let it, then no new one may start.
    let settled = video().encoded;
    await waitFor(
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        const now = video().encoded;
        const same = now === settled;
        settled = now;
        return same || null;
      },
      5000,
      'the last encode to finish',
    );
    const after = video().encoded;
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(video().encoded).toBe(after);
  });

  it('shares one encode between viewers of the same camera and palette', async () => {
    const detail = () =>
      appliance.featureStates().find((f) => f.name === 'video')?.detail as { encoded: number; sent: number };
    const a = (await connect(`${ws}/ws/video`, { Cookie: staffCookie })) as WebSocket;
    const b = (await connect(`${ws}/ws/video`, { Cookie: adminCookie })) as WebSocket;
    const fa = messages(a);
    const fb = messages(b);
    await waitFor(() => fa.length >= 3 && fb.length >= 3, 15_000, 'frames for both viewers');
    const before = detail();
    await waitFor(() => detail().encoded >= before.encoded + 5, 15_000, 'more frames');
    const later = detail();
    a.close();
    b.close();
    // Two viewers, one encode each frame: twice as many sent as encoded.
    expect(later.sent - before.sent).toBeGreaterThanOrEqual(2 * (later.encoded - before.encoded) - 2);
    expect(later.sent - before.sent).toBeLessThanOrEqual(2 * (later.encoded - before.encoded) + 2);
  });

  it('serves MJPEG to staff only, with palette validation', async () => {
    expect((await request(appliance.server!).get('/api/cameras/entrance-1/mjpeg')).status).toBe(401);
    const bad = await staff.get('/api/cameras/entrance-1/mjpeg?palette=sepia');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('palette: must be one of iron, white-hot, rainbow');
    expect((await staff.get('/api/cameras/nope/mjpeg')).status).toBe(404);
    expect((await staff.get('/api/cameras/entrance-1/mjpeg?fps=3')).status).toBe(400);
    const range = await staff.get('/api/cameras/entrance-1/mjpeg?range=10..10.5');
    expect(range.status).toBe(400);
    expect(range.body.error).toContain('range: must be auto or LOW..HIGH');
    const body = await new Promise<{ type: string; data: Buffer }>((resolve, reject) => {
      const req = http.get(
        `${base}/api/cameras/entrance-1/mjpeg?palette=white-hot`,
        { headers: { Cookie: staffCookie } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => {
            chunks.push(chunk);
            const data = Buffer.concat(chunks);
            if (data.indexOf('--canthusframe', 20) > 0) {
              req.destroy();
              resolve({ type: String(res.headers['content-type']), data });
            }
          });
        },
      );
      req.on('error', reject);
    });
    expect(body.type).toBe('multipart/x-mixed-replace; boundary=canthusframe');
    const start = body.data.indexOf('\r\n\r\n') + 4;
    expect(body.data[start]).toBe(0xff);
    expect(body.data[start + 1]).toBe(0xd8);
  });

  it('describes the API in /api/openapi.json with the body schemas the routes validate with', async () => {
    const res = await request(appliance.server!).get('/api/openapi.json').expect(200);
    expect(res.body.openapi).toBe('3.1.0');
    const acknowledge = res.body.paths['/alerts/{id}/acknowledge'].post;
    expect(acknowledge.requestBody.content['application/json'].schema.properties.outcome).toEqual({
      enum: ['referred', 'cleared'],
    });
    expect(Object.keys(res.body['x-websockets'])).toEqual(['/ws/video', '/ws/live', '/ws/visitor']);
    const body = (path: string, method: string) =>
      res.body.paths[path][method].requestBody.content['application/json'].schema;
    expect(body('/users/{username}', 'patch').properties.role).toEqual({ enum: ['admin', 'staff'] });
    expect(body('/users/{username}/password', 'put').required).toEqual(['password']);
    expect(body('/me/language', 'put').properties.language).toEqual({ enum: ['en', 'zh-CN'] });
    expect(res.body.paths['/users/{username}'].delete.description).toContain('admin session');
    expect(res.body.paths['/cameras/{id}/still'].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      ['id', 'view'],
    );
    expect(res.body['x-websockets']['/ws/video'].query.view).toContain('blend');
  });

  it('lists cameras for staff only', async () => {
    expect((await request(appliance.server!).get('/api/cameras')).status).toBe(401);
    const res = await staff.get('/api/cameras').expect(200);
    expect(res.body.cameras[0]).toMatchObject({
      id: 'entrance-1',
      width: 256,
      height: 192,
      bispectrum: false,
      visible: null,
      views: ['thermal'],
    });
    expect(res.body.palettes).toEqual(['iron', 'white-hot', 'rainbow']);
  });

  it('pushes status and screening events on /ws/live to staff; refuses anonymous', async () => {
    expect(await connect(`${ws}/ws/live`)).toBe(401);
    const socket = (await connect(`${ws}/ws/live`, { Cookie: staffCookie })) as WebSocket;
    const list = messages(socket) as Record<string, unknown>[];
    await waitFor(() => list.some((m) => m.type === 'hello'), 5000, 'hello');
    const hello = list.find((m) => m.type === 'hello') as { user: unknown; status: { cameras: unknown[] } };
    expect(hello.user).toEqual({ username: 'staff-1', role: 'staff' });
    expect(hello.status.cameras).toHaveLength(1);
    await waitFor(() => list.some((m) => m.type === 'status'), 5000, 'a status message');
    await waitFor(() => list.some((m) => m.type === 'screening'), 30_000, 'a screening event');
    const screening = list.find((m) => m.type === 'screening') as { event: Record<string, unknown> };
    expect(screening.event.crop).toBeUndefined();
    socket.close();
  });

  it('gives the visitor screen prompt codes only: no login, no temperature', async () => {
    const socket = await connect(`${ws}/ws/visitor`);
    expect(socket).toBeInstanceOf(WebSocket);
    expect(await connect(`${ws}/ws/visitor`, { Origin: 'http://evil.example' })).toBe(403);
    const list = messages(socket as WebSocket) as Record<string, unknown>[];
    await waitFor(() => list.length >= 3, 30_000, 'three visitor messages');
    (socket as WebSocket).close();
    // The screen's settings first: the temperature is off unless an admin enables it.
    expect(list[0]).toMatchObject({ type: 'settings', showTemperature: false });
    for (const message of list.slice(1)) {
      expect(Object.keys(message).sort()).toEqual(['cameraId', 'code', 'prompts', 'type']);
      expect(JSON.stringify(message)).not.toMatch(/\d\d\.\d|°/);
    }
  });

  it('lists alerts for staff (open first) and validates the query', async () => {
    expect((await request(appliance.server!).get('/api/alerts')).status).toBe(401);
    const bad = await staff.get('/api/alerts?acknowledged=maybe');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('acknowledged: must be true or false');
    expect((await staff.get('/api/alerts?limit=0')).status).toBe(400);
    expect((await staff.get('/api/alerts?sort=x')).body.error).toContain('unknown parameter "sort"');
    expect((await staff.get('/api/alerts?from=yesterday')).status).toBe(400);
    const window = await staff.get('/api/alerts?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z');
    expect(window.status).toBe(400);
    expect(window.body.error).toBe('invalid request: to: must be after from');
    const a = elevated('p900001');
    const b = elevated('p900002');
    appliance.stores.events.recordScreening(a);
    appliance.stores.events.recordScreening(b);
    const res = await staff.get('/api/alerts').expect(200);
    const ids = res.body.alerts.map((alert: { id: string }) => alert.id);
    expect(ids).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(res.body.alerts[0]).toMatchObject({
      acknowledged: false,
      display: '38.6 °C',
      cameraId: 'entrance-1',
    });
  });

  it('acknowledges an alert once: validation, 404, 409, audit and a live push', async () => {
    const event = elevated('p900003');
    appliance.stores.events.recordScreening(event);
    const url = `/api/alerts/${event.id}/acknowledge`;
    expect((await request(appliance.server!).post(url).send({ outcome: 'cleared' })).status).toBe(401);
    const cases: [object, string][] = [
      [{}, 'missing field "outcome"'],
      [{ outcome: 'sent home' }, 'outcome: must be one of "referred", "cleared"'],
      [{ outcome: 'referred', clinicalC: 50 }, 'clinicalC: must be <= 45'],
      [{ outcome: 'referred', clinicalC: '38.1' }, 'clinicalC: must be number'],
      [{ outcome: 'referred', note: 'x'.repeat(501) }, 'note: must have at most 500 characters'],
      [{ outcome: 'referred', by: 'someone else' }, 'unknown field "by"'],
    ];
    for (const [body, message] of cases) {
      const res = await staff.post(url).send(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toContain(message);
    }
    expect((await staff.post('/api/alerts/not-an-id/acknowledge').send({ outcome: 'cleared' })).status).toBe(
      400,
    );
    expect(
      (await staff.post('/api/alerts/01ARZ3NDEKTSV4RRFFQ69G5FAV/acknowledge').send({ outcome: 'cleared' }))
        .status,
    ).toBe(404);

    const live = (await connect(`${ws}/ws/live`, { Cookie: adminCookie })) as WebSocket;
    const pushed = messages(live) as Record<string, unknown>[];
    await waitFor(() => pushed.length > 0, 5000, 'hello');
    const ok = await staff.post(url).send({ outcome: 'referred', clinicalC: 38.4, note: ' oral ' });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({
      acknowledged: true,
      acknowledgedBy: 'staff-1',
      outcome: 'referred',
      clinicalC: 38.4,
      note: 'oral',
    });
    const again = await request(appliance.server!)
      .post(url)
      .set('Cookie', adminCookie)
      .send({ outcome: 'cleared' });
    expect(again.status).toBe(409);
    expect(again.body.error).toContain('already acknowledged by staff-1');
    await waitFor(() => pushed.some((m) => m.type === 'alert.acknowledged'), 5000, 'the live push');
    live.close();
    const open = await staff.get('/api/alerts?acknowledged=false').expect(200);
    expect(open.body.alerts.map((a: { id: string }) => a.id)).not.toContain(event.id);
    await waitFor(
      () =>
        appliance.stores.events
          .auditEntries({ limit: 50 })
          .some((e) => e.action === 'alert acknowledged' && e.target === event.id),
      5000,
      'the audit entry',
    );
    const audit = await request(appliance.server!)
      .get('/api/audit?limit=20')
      .set('Cookie', adminCookie)
      .expect(200);
    expect(audit.body.entries.find((e: { target: string }) => e.target === event.id)).toMatchObject({
      actor: 'staff-1',
      action: 'alert acknowledged',
      detail: { outcome: 'referred', clinicalC: 38.4 },
    });
    expect((await staff.get('/api/audit')).status).toBe(403);
    expect(
      (await request(appliance.server!).get('/api/audit?limit=x').set('Cookie', adminCookie)).status,
    ).toBe(400);
  });
});
