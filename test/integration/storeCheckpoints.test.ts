import { copyFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { EVENTS_DB, EventStore } from '../../appliance/store/eventStore.ts';
import { screeningEvent } from '../helpers/screeningEvent.ts';
import { tempDir, waitFor } from '../helpers/tempDir.ts';

/**
 * The event store's WAL is copied into the database by a thread of its own, not inside the main
 * thread's commits (appliance/store/walCheckpointer.ts): a commit never pays for a checkpoint.
 */
describe('event store checkpoints', () => {
  it('copies committed events into the database file from another thread; closed, the file is complete on its own and reads back', async () => {
    const dir = tempDir();
    const file = path.join(dir, EVENTS_DB);
    const store = EventStore.open(dir);
    const before = statSync(file).size;
    const at = Date.UTC(2026, 10, 30, 9);
    for (let i = 0; i < 40; i++) {
      store.recordScreening(screeningEvent({ personId: `p-${i}`, at: at + i * 1000, alert: i % 4 === 0 }));
    }
    // 40 persons are far fewer than the 1 000 WAL pages at which a commit would checkpoint: before,
    // the database file stayed as it was until the store closed.
    const walPages = statSync(`${file}-wal`).size / 4096;
    expect(walPages).toBeLessThan(1000);
    expect(statSync(file).size).toBe(before);
    // Within a few seconds the thread has copied them into the database file.
    await waitFor(() => statSync(file).size > before, 5_000);
    expect(statSync(file).size).toBeGreaterThan(before);
    // Written just before closing: still only in the WAL, which the thread copies only every second.
    for (let i = 40; i < 50; i++)
      store.recordScreening(screeningEvent({ personId: `p-${i}`, at: at + i * 1000 }));
    store.close();
    // Closed, the database file is complete on its own (what a copy of it, without its WAL, holds).
    const copy = tempDir();
    copyFileSync(file, path.join(copy, EVENTS_DB));
    const alone = new Database(path.join(copy, EVENTS_DB), { readonly: true });
    expect(alone.prepare('SELECT COUNT(*) AS n FROM persons').get()).toEqual({ n: 50 });
    alone.close();
    const reopened = EventStore.open(dir);
    expect(reopened.counts().persons).toBe(50);
    expect(reopened.listAlerts({ limit: 100 })).toHaveLength(10);
    reopened.close();
  });
});
