/**
 * GET/PUT /api/settings on the running appliance (simulated entrance): who may read and change the
 * site settings, refusals with the configuration schema's sentence, the atomic write into
 * DATA/config.json that the next start reads, what applies live (the screening stage's unit, the
 * staff and visitor feeds) and what waits for a restart, and the audit entry.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../appliance/config/load.ts';
import { type Appliance, startAppliance } from '../../appliance/main.ts';
import { addUser, setUpAdmin } from '../helpers/signIn.ts';
import { tempDir, waitFor } from '../helpers/tempDir.ts';

const PASSWORD = 'entrance keeper 1';
const STAFF_PASSWORD = 'front door shift';

/** A WebSocket that collects every JSON message from the first one on. */
function listen(url: string, cookie?: string): { ws: WebSocket; list: Record<string, unknown>[] } {
  const ws = new WebSocket(url, { headers: cookie ? { Cookie: cookie } : {} });
  const list: Record<string, unknown>[] = [];
  ws.on('message', (data) => list.push(JSON.parse(String(data))));
  return { ws, list };
}

describe('settings API', () => {
  const dataDir = tempDir();
  let appliance: Appliance;
  let admin: string;
  let staff: string;
  let port: number;

  beforeAll(async () => {
    const loaded = loadConfig({ dataDir, port: 0, source: 'simulator:?seed=3' });
    loaded.config.server.host = '127.0.0.1';
    appliance = await startAppliance({ loaded });
    port = appliance.port;
    admin = await setUpAdmin(appliance, dataDir, PASSWORD);
    staff = await addUser(appliance, admin, { username: 'staff-1', password: STAFF_PASSWORD, role: 'staff' });
  });
  afterAll(async () => {
    await appliance?.stop();
  });

  const put = (body: unknown, cookie = admin) =>
    request(appliance.server!)
      .put('/api/settings')
      .set('Cookie', cookie)
      .send(body as object);

  it('GET: 401 anonymous; staff see the settings only; admins also the file and pending restarts', async () => {
    const anonymous = await request(appliance.server!).get('/api/settings');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toMatch(/not logged in/);
    const asStaff = await request(appliance.server!).get('/api/settings').set('Cookie', staff).expect(200);
    expect(asStaff.body.settings.screening.thresholdC).toBe(37.5);
    expect(asStaff.body.settings.visitor.showTemperature).toBe(false);
    expect(asStaff.body.file).toBeUndefined();
    expect(asStaff.body.uplink).toBeUndefined();
    const asAdmin = await request(appliance.server!).get('/api/settings').set('Cookie', admin).expect(200);
    expect(asAdmin.body.file).toBe(path.join(dataDir, 'config.json'));
    expect(asAdmin.body.restartNeeded).toEqual([]);
  });

  it('PUT: 401 anonymous, 403 staff, 415 without JSON, 400 naming the field', async () => {
    const anonymous = await request(appliance.server!)
      .put('/api/settings')
      .send({ screening: { thresholdC: 38 } });
    expect(anonymous.status).toBe(401);
    const asStaff = await put({ screening: { thresholdC: 38 } }, staff);
    expect(asStaff.status).toBe(403);
    expect(asStaff.body.error).toBe('this needs the admin role; you are logged in as staff');
    const form = await request(appliance.server!)
      .put('/api/settings')
      .set('Cookie', admin)
      .type('form')
      .send('screening=1');
    expect(form.status).toBe(415);

    const unknown = await put({ screening: { threshold: 38 } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatch(/screening.*threshold/);
    const empty = await put({});
    expect(empty.status).toBe(400);
    const secret = await put({ security: { metricsToken: 'x'.repeat(30) } });
    expect(secret.status).toBe(400);
    expect(secret.body.error).toMatch(/security/);
    const colour = await put({ visitor: { colours: { background: 'red' } } });
    expect(colour.status).toBe(400);
    expect(colour.body.error).toMatch(/visitor\.colours\.background/);
  });

  it("refuses out-of-range values with the configuration schema's sentence and writes nothing", async () => {
    const high = await put({ screening: { thresholdC: 40 } });
    expect(high.status).toBe(400);
    expect(high.body.error).toMatch(
      /^invalid configuration \(.*config\.json\): \/screening\/thresholdC: must be <= 39, got 40/,
    );
    // A rule the schema cannot state, checked by the loader: snapshots cannot outlive persons.
    const order = await put({ retention: { eventsDays: 5, snapshotsDays: 10 } });
    expect(order.status).toBe(400);
    expect(order.body.error).toMatch(/\/retention\/snapshotsDays: 10 is longer than eventsDays \(5\)/);
    const cron = await put({ retention: { schedule: 'every night at 3' } });
    expect(cron.status).toBe(400);
    expect(cron.body.error).toMatch(/not a cron expression/);
    expect(() => statSync(path.join(dataDir, 'config.json'))).toThrow();
  });

  it('applies threshold and unit live: file written (0600), staff feed told, new readings in °F, audited', async () => {
    const live = listen(`ws://127.0.0.1:${port}/ws/live`, staff);
    const visitor = listen(`ws://127.0.0.1:${port}/ws/visitor`);
    await waitFor(() => live.list.some((m) => m.type === 'hello'), 5000, 'hello');
    await waitFor(() => visitor.list.some((m) => m.type === 'settings'), 5000, 'visitor settings');

    const res = await put({
      screening: { thresholdC: 38, unit: 'F' },
      visitor: { showTemperature: true },
    }).expect(200);
    expect(res.body.changed).toEqual([
      '/screening/thresholdC',
      '/screening/unit',
      '/visitor/showTemperature',
    ]);
    expect(res.body.applied).toEqual(res.body.changed);
    expect(res.body.restartNeededNow).toEqual([]);
    expect(res.body.settings.screening).toMatchObject({ thresholdC: 38, unit: 'F' });

    const file = path.join(dataDir, 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Only what the admin changed goes into the site file; the firmware defaults stay defaults.
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      screening: { thresholdC: 38, unit: 'F' },
      visitor: { showTemperature: true },
    });
    // The next start reads it.
    expect(loadConfig({ dataDir }).config.screening).toMatchObject({ thresholdC: 38, unit: 'F' });

    await waitFor(
      () => live.list.find((m) => m.type === 'settings'),
      5000,
      'the settings push on /ws/live',
    ).then((m) => expect(m).toMatchObject({ unit: 'F', screening: { thresholdC: 38 } }));
    await waitFor(
      () => visitor.list.find((m) => m.type === 'settings' && m.showTemperature === true),
      5000,
      'the visitor screen told it may show the reading',
    );
    // The screening stage on the frame path took the unit: the next persons are reported in °F.
    const changedAt = Date.now();
    const screening = await waitFor(
      () =>
        live.list.find((m) => m.type === 'screening' && (m.event as { at: number }).at > changedAt + 100) as
          | { event: { unit: string; display: string | null } }
          | undefined,
      60_000,
      'a screening event after the change',
    );
    expect(screening.event.unit).toBe('F');
    live.ws.close();
    visitor.ws.close();

    const audit = await request(appliance.server!)
      .get('/api/audit?limit=20')
      .set('Cookie', admin)
      .expect(200);
    const entry = (audit.body.entries ?? audit.body).find(
      (e: { action: string }) => e.action === 'settings changed',
    );
    expect(entry).toMatchObject({ actor: 'admin', target: 'config.json' });
    expect(entry.detail.changes).toContainEqual({ path: '/screening/thresholdC', from: 37.5, to: 38 });
  });

  it('says which changes wait for a restart, and keeps saying so', async () => {
    const res = await put({ screening: { mode: 'relative' } }).expect(200);
    expect(res.body.changed).toEqual(['/screening/mode']);
    expect(res.body.applied).toEqual([]);
    expect(res.body.restartNeededNow).toEqual(['/screening/mode']);
    const again = await request(appliance.server!).get('/api/settings').set('Cookie', admin).expect(200);
    expect(again.body.restartNeeded).toEqual(['/screening/mode']);
    expect(again.body.settings.screening.mode).toBe('relative');
    // Saving the same value again changes nothing and audits nothing.
    const same = await put({ screening: { mode: 'relative' } }).expect(200);
    expect(same.body.changed).toEqual([]);
  });
});
