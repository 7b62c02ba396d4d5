import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../appliance/config/load.ts';
import type { HealthReport as Health } from '../../appliance/core/health.ts';
import { type Appliance, startAppliance } from '../../appliance/main.ts';
import { tempDir, waitFor } from '../helpers/tempDir.ts';

/** Health detail is for staff or the monitoring token; anonymous callers get liveness only. */
const METRICS_TOKEN = 'appliance-test-metrics-token-0123456789';
const monitoring = { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } };

describe('the appliance on the simulated entrance', () => {
  let appliance: Appliance;
  const base = () => `http://127.0.0.1:${appliance.port}`;

  beforeAll(async () => {
    const loaded = loadConfig({ dataDir: tempDir(), port: 0 });
    loaded.config.server.host = '127.0.0.1';
    loaded.config.security.metricsToken = METRICS_TOKEN;
    appliance = await startAppliance({ loaded });
  });
  afterAll(async () => {
    await appliance?.stop();
  });

  it('reports frames flowing through the GStreamer path in /api/health', async () => {
    let health: Health | null = null;
    await waitFor(
      async () => {
        health = (await (await fetch(`${base()}/api/health`, monitoring)).json()) as Health;
        return health.cameras[0].totals.processed >= 10;
      },
      15_000,
      'ten processed frames',
    );
    const fresh = (await (await fetch(`${base()}/api/health`, monitoring)).json()) as Health;
    expect(fresh).toMatchObject({
      status: 'ok',
      applianceId: 'canthus-appliance',
      version: expect.any(String),
    });
    const camera = fresh.cameras[0];
    expect(camera).toMatchObject({ id: 'entrance-1', profile: 'simulator', state: 'online' });
    expect(camera.framesPerSecond.in).toBeGreaterThan(3);
    expect(camera.totals.in).toBeGreaterThanOrEqual(camera.totals.processed);
    expect(camera.reference?.setpointC).toBe(35);
    expect(['warming', 'stable', 'drifting', 'ffc']).toContain(camera.reference?.state);
    expect(health).not.toBeNull();
  });

  it('serves the UI and the status page and answers unknown API routes with JSON 404', async () => {
    const live = await fetch(`${base()}/`);
    expect(live.status).toBe(200);
    expect(await live.text()).toContain('src="dist/live.js"');
    const page = await fetch(`${base()}/status.html`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('clinical thermometer');
    const missing = await fetch(`${base()}/api/nothing-here`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'no API route GET /api/nothing-here' });
  });
});

describe('an appliance serving two entrances, one camera unplugged', () => {
  let appliance: Appliance;

  beforeAll(async () => {
    const data = tempDir();
    writeFileSync(
      `${data}/config.json`,
      JSON.stringify({
        cameras: [
          {
            id: 'north',
            profile: 'simulator',
            source: 'simulator:?seed=3',
            reference: { warmupS: 1, stableForS: 1 },
          },
          { id: 'south', profile: 'lepton35', source: 'v4l2:/dev/video-canthus-unplugged' },
        ],
      }),
    );
    const loaded = loadConfig({ dataDir: data, port: 0 });
    loaded.config.server.host = '127.0.0.1';
    loaded.config.security.metricsToken = METRICS_TOKEN;
    appliance = await startAppliance({ loaded });
  });
  afterAll(async () => {
    await appliance?.stop();
  });

  it('keeps the working camera running and reports the other offline with the reason', async () => {
    await waitFor(
      () => appliance.health().cameras[0].totals.processed >= 15,
      15_000,
      'frames from the north camera',
    );
    const response = await fetch(`http://127.0.0.1:${appliance.port}/api/health`, monitoring);
    const health = (await response.json()) as Health;
    expect(health.status).toBe('degraded');
    const [north, south] = health.cameras;
    expect(north).toMatchObject({ id: 'north', state: 'online' });
    expect(north.framesPerSecond.processed).toBeGreaterThan(5);
    expect(south).toMatchObject({
      id: 'south',
      state: 'offline',
      reason: 'camera device /dev/video-canthus-unplugged does not exist (unplugged?)',
    });
    expect(south.totals.in).toBe(0);
  });
});

describe('screening counts in health', () => {
  it('counts each person once, by final decision, after a recording is replayed', async () => {
    const { simulateRecording } = await import('../../appliance/cli/simulate.ts');
    const dir = tempDir();
    simulateRecording({ out: `${dir}/rec`, profile: 'simulator', seed: 5, people: 4, feverRate: 0.25 });
    const loaded = loadConfig({ dataDir: `${dir}/data`, source: `recording:${dir}/rec?pace=fast` });
    const appliance = await startAppliance({ loaded, headless: true });
    const ends: string[] = [];
    appliance.bus.on(
      'screening',
      (event) => {
        if (event.kind === 'end') ends.push(event.decision);
      },
      { name: 'test' },
    );
    await appliance.finished;
    await appliance.bus.drain();
    const screened = appliance.health().cameras[0].screened;
    await appliance.stop();
    expect(ends.length).toBeGreaterThanOrEqual(3);
    expect(Object.values(screened).reduce((a, b) => a + b, 0)).toBe(ends.length);
    for (const decision of ['normal', 'elevated', 'retest', 'invalid'] as const) {
      expect(screened[decision]).toBe(ends.filter((d) => d === decision).length);
    }
  });
});
