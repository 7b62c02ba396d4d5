import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ulid } from 'ulid';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../appliance/config/load.ts';
import { EventBus } from '../../appliance/core/eventBus.ts';
import { log } from '../../appliance/core/log.ts';
import type { ScreeningEvent } from '../../appliance/core/types.ts';
import type { FeatureContext } from '../../appliance/features/feature.ts';
import { jobsFeature } from '../../appliance/features/jobs/index.ts';
import { openStores, type Stores } from '../../appliance/store/store.ts';
import { screeningEvent } from '../helpers/screeningEvent.ts';
import { tempDir } from '../helpers/tempDir.ts';

const DAY = 24 * 3600_000;
const NOW = Date.parse('2026-11-30T03:17:00Z');

const ended = (personId: string, at: number, decision: ScreeningEvent['decision'] = 'normal') =>
  screeningEvent({ personId, at, decision });

/** A store with persons aged 0.5, 5, 10 and 40 days, each with snapshot files, and audit entries. */
async function storeWithHistory(): Promise<{ stores: Stores; rows: Map<number, string> }> {
  const stores = await openStores(path.join(tempDir(), 'data'));
  mkdirSync(stores.events.snapshotsDir, { recursive: true });
  const rows = new Map<number, string>();
  for (const [i, days] of [0.5, 5, 10, 40].entries()) {
    const row = stores.events.recordScreening(
      ended(`p${i}`, NOW - days * DAY, i === 3 ? 'elevated' : 'normal'),
    );
    for (const ext of ['png', 'jpg'])
      writeFileSync(path.join(stores.events.snapshotsDir, `${row}.${ext}`), 'x');
    stores.events.setSnapshot(row, `${row}.png`, `${row}.jpg`);
    rows.set(days, row);
  }
  for (const days of [10, 400])
    stores.events.recordAudit({
      id: ulid(NOW - days * DAY),
      at: NOW - days * DAY,
      actor: 'admin',
      action: 'login',
      target: null,
      from: '127.0.0.1',
      detail: {},
    });
  return { stores, rows };
}

function context(stores: Stores, retention: Record<string, unknown> = {}): FeatureContext {
  const { config } = loadConfig({ dataDir: stores.dataDir });
  config.retention = { ...config.retention, eventsDays: 30, snapshotsDays: 7, auditDays: 365, ...retention };
  return {
    bus: new EventBus(),
    config,
    stores,
    log,
    cameras: [],
    http: null,
    features: () => [],
    startedAt: NOW,
  };
}

describe('retention', () => {
  it('deletes exactly what is past its time: persons after eventsDays, snapshots after snapshotsDays, audit after auditDays', async () => {
    const { stores, rows } = await storeWithHistory();
    const jobs = jobsFeature({ now: () => NOW });
    await jobs.start(context(stores));
    try {
      const run = await jobs.runNow('retention');
      expect(run).toMatchObject({ ok: true });
      expect(run!.outcome).toMatch(/removed 1 persons, 4 snapshot files, 1 audit entries/);
      const left = stores.events.listPersons({ limit: 10 });
      // The 40-day person is gone with its alert; the others stay.
      expect(left.map((p) => p.id).sort()).toEqual([rows.get(0.5), rows.get(5), rows.get(10)].sort());
      const snapshots = (days: number) =>
        existsSync(path.join(stores.events.snapshotsDir, `${rows.get(days)}.jpg`));
      expect([snapshots(0.5), snapshots(5), snapshots(10), snapshots(40)]).toEqual([
        true,
        true,
        false,
        false,
      ]);
      expect(stores.events.person(rows.get(10)!)?.snapshot).toEqual({ thermal: null, image: null });
      expect(stores.events.person(rows.get(5)!)?.snapshot.image).toBe(`${rows.get(5)}.jpg`);
      expect(stores.events.counts().alertsOpen).toBe(0);
      // Running again removes nothing more.
      expect((await jobs.runNow('retention'))!.outcome).toMatch(
        /removed 0 persons, 0 snapshot files, 0 audit entries/,
      );
    } finally {
      await jobs.stop();
      stores.close();
    }
  });

  it('never runs a job twice at once: the overlapping run is skipped and counted', async () => {
    const { stores } = await storeWithHistory();
    const jobs = jobsFeature({ now: () => NOW });
    await jobs.start(context(stores));
    try {
      const [first, second] = await Promise.all([jobs.runNow('retention'), jobs.runNow('retention')]);
      expect(first?.ok).toBe(true);
      expect(second).toBeNull();
      expect(jobs.health!()).toMatchObject({ retention: { runs: 1, skipped: 1, running: false } });
    } finally {
      await jobs.stop();
      stores.close();
    }
  });

  it('frees disk by deleting the oldest snapshots first, and says so when nothing is left to delete', async () => {
    const { stores, rows } = await storeWithHistory();
    const snapshotsLeft = () =>
      [40, 10, 5, 0.5].filter((days) =>
        existsSync(path.join(stores.events.snapshotsDir, `${rows.get(days)}.jpg`)),
      );
    // Free disk grows by 10 MB with every file deleted; the guard wants 525 MB from 500 MB free.
    const freeDiskBytes = async () => (500 + 10 * (8 - snapshotsLeft().length * 2)) * 1024 * 1024;
    const jobs = jobsFeature({ now: () => NOW, freeDiskBytes, diskGuardBatch: 1 });
    await jobs.start(context(stores, { minFreeDiskMB: 525 }));
    try {
      const run = await jobs.runNow('diskGuard');
      expect(run?.outcome).toMatch(/deleted the 4 oldest snapshot files/);
      // The two oldest persons lost their snapshots; the newest keep theirs.
      expect(snapshotsLeft()).toEqual([5, 0.5]);
      expect(stores.events.listPersons({ limit: 10 })).toHaveLength(4);
      const starved = jobsFeature({ now: () => NOW, freeDiskBytes: async () => 0 });
      await starved.start(context(stores, { minFreeDiskMB: 525 }));
      expect((await starved.runNow('diskGuard'))?.outcome).toMatch(/below 525 MB and no snapshot is left/);
      expect(starved.health!().problem).toMatch(/below 525 MB/);
      await starved.stop();
    } finally {
      await jobs.stop();
      stores.close();
    }
  });

  it('refuses an impossible schedule or retention at start with a clear message', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ retention: { schedule: '61 25 * * *' } }));
    expect(() => loadConfig({ dataDir: dir })).toThrow(
      /\/retention\/schedule: "61 25 \* \* \*" is not a cron expression/,
    );
    writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({ retention: { eventsDays: 7, snapshotsDays: 30 } }),
    );
    expect(() => loadConfig({ dataDir: dir })).toThrow(
      /\/retention\/snapshotsDays: 30 is longer than eventsDays \(7\)/,
    );
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ retention: { eventsDays: 0 } }));
    expect(() => loadConfig({ dataDir: dir })).toThrow(/\/retention\/eventsDays: must be >= 1, got 0/);
  });
});
