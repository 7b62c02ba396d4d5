import { statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENTS_DB, EventStore } from '../../appliance/store/eventStore.ts';
import { screeningEvent } from '../helpers/screeningEvent.ts';
import { tempDir, waitFor } from '../helpers/tempDir.ts';

/**
 * The event store's WAL is copied into the database by a thread of its own, not inside the main
 * thread's commits (appliance/store/walCheckpointer.ts): a commit never pays for a checkpoint.
 */
describe('event store checkpoints', () => {
  it('copies committed events into the database file from another thread, and they read back after a restart', async () => {
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
    store.close();
    const reopened = EventStore.open(dir);
    expect(reopened.counts().persons).toBe(40);
    expect(reopened.listAlerts({ limit: 100 })).toHaveLength(10);
    reopened.close();
  });
});
