import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../appliance/config/load.ts';
import type { ScreeningEvent } from '../../appliance/core/types.ts';
import { type Appliance, startAppliance } from '../../appliance/main.ts';
import { EventStore } from '../../appliance/store/eventStore.ts';
import { screeningEvent } from '../helpers/screeningEvent.ts';
import { setUpAdmin } from '../helpers/signIn.ts';
import { tempDir } from '../helpers/tempDir.ts';

const HOUR = 3_600_000;

/** A person's final screening event at `at` with `coreC`. */
function person(at: number, coreC: number | null, decision: ScreeningEvent['decision']): ScreeningEvent {
  return screeningEvent({
    personId: String(at),
    at,
    decision,
    skinC: coreC === null ? null : coreC - 1,
    estimatedCoreC: coreC,
    display: coreC === null ? null : `${coreC} °C`,
    alert: false,
  });
}

describe('EventStore.dayStats', () => {
  it('bins readings by 0.1 °C and counts persons per hour, only inside the day', () => {
    const store = EventStore.open(tempDir());
    const from = new Date(2026, 2, 1).getTime();
    store.recordScreening(person(from + 10 * 60_000, 36.62, 'normal'));
    store.recordScreening(person(from + 20 * 60_000, 36.64, 'normal'));
    store.recordScreening(person(from + 9 * HOUR + 5, 38.3, 'elevated'));
    store.recordScreening(person(from + 9 * HOUR + 60_000, null, 'invalid'));
    store.recordScreening(person(from - 1, 36.6, 'normal')); // the day before
    store.recordScreening(person(from + 24 * HOUR, 36.6, 'normal')); // the next day
    const stats = store.dayStats(from, from + 24 * HOUR);
    store.close();
    expect(stats.readings).toEqual([
      { fromC: 36.6, count: 2 },
      { fromC: 38.3, count: 1 },
    ]);
    expect(stats.perHour).toHaveLength(24);
    expect(stats.perHour[0]).toEqual({ at: from, persons: 2, elevated: 0 });
    expect(stats.perHour[9]).toEqual({ at: from + 9 * HOUR, persons: 2, elevated: 1 });
    expect(stats.total).toBe(4);
  });
});

describe('GET /api/stats/today', () => {
  const dataDir = tempDir();
  let appliance: Appliance;
  let admin: string;

  beforeAll(async () => {
    const loaded = loadConfig({ dataDir, port: 0, source: 'simulator:?seed=4' });
    loaded.config.server.host = '127.0.0.1';
    appliance = await startAppliance({ loaded });
    admin = await setUpAdmin(appliance, dataDir, 'entrance keeper 1');
  });
  afterAll(async () => {
    await appliance?.stop();
  });

  it('needs a session, names a bad parameter, answers the local day with free disk', async () => {
    expect((await request(appliance.server!).get('/api/stats/today')).status).toBe(401);
    const bad = await request(appliance.server!).get('/api/stats/today?day=2026-02-30').set('Cookie', admin);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^invalid request: day: must be a date as YYYY-MM-DD/);
    const unknown = await request(appliance.server!).get('/api/stats/today?camera=x').set('Cookie', admin);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatch(/unknown parameter "camera"/);
    const res = await request(appliance.server!).get('/api/stats/today').set('Cookie', admin).expect(200);
    const midnight = new Date();
    midnight.setHours(0, 0, 0, 0);
    expect(res.body.from).toBe(midnight.getTime());
    expect(res.body.perHour.length).toBeGreaterThanOrEqual(23);
    expect(res.body.diskFreeMB).toBeGreaterThan(0);
    const past = await request(appliance.server!)
      .get('/api/stats/today?day=2026-03-01')
      .set('Cookie', admin)
      .expect(200);
    expect(past.body).toMatchObject({ from: new Date(2026, 2, 1).getTime(), total: 0, readings: [] });
  });
});
