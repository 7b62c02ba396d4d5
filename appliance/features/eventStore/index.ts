/**
 * The event store feature: writes every screening event (with its person, alert and outbox rows),
 * the audit log and calibration/registration commits into the SQLite store, writes a thermal
 * snapshot for each person who ends or raises an alert, and serves /api/events.
 *
 * Its listeners are queued (never on the frame path) and keep every event; a write that fails is
 * counted in health by the bus and does not stop the appliance.
 */
import type { Feature } from '../feature.ts';
import { eventRoutes } from './routes.ts';
import { writeSnapshot } from './snapshots.ts';

export function eventStoreFeature(): Feature {
  const unsubscribe: (() => void)[] = [];
  let counts: () => Record<string, number> = () => ({});
  const snapshots = new Set<Promise<void>>();
  let stopped = false;
  return {
    name: 'eventStore',
    start(ctx) {
      const events = ctx.stores.events;
      // Before any listener runs: each gets an `end` event (stored, and in the outbox for the
      // command centre) that sorts before everything this run will screen.
      const interrupted = events.closeInterrupted();
      if (interrupted > 0)
        ctx.log.warn(
          { persons: interrupted },
          'persons left open by the previous run were closed without a reading (an end event each, sent upstream)',
        );
      counts = () => events.counts();
      unsubscribe.push(
        ctx.bus.on(
          'screening',
          (event) => {
            const row = events.recordScreening(event);
            ctx.log.debug({ event: event.id, kind: event.kind, person: row }, 'screening event stored');
            // The snapshot is encoded off the main thread while the next events are stored: an
            // alert never waits for the previous person's JPEG. The row points at the files once
            // they are whole.
            if (event.crop && (event.kind === 'end' || event.alert)) {
              const writing = writeSnapshot(events.snapshotsDir, row, event.crop)
                .then((files) => {
                  if (!stopped) events.setSnapshot(row, files.thermal, files.image);
                })
                .catch((error) => ctx.log.error({ err: error, person: row }, 'snapshot not written'))
                .finally(() => snapshots.delete(writing));
              snapshots.add(writing);
            }
          },
          { name: 'eventStore.screening' },
        ),
        ctx.bus.on('audit', (entry) => events.recordAudit(entry), { name: 'eventStore.audit' }),
        ctx.bus.on(
          'calibration.committed',
          (event) => events.recordOutbox('calibration', event.id, event.record),
          { name: 'eventStore.calibration' },
        ),
        ctx.bus.on(
          'registration.committed',
          (event) => events.recordOutbox('registration', event.id, event.record),
          { name: 'eventStore.registration' },
        ),
      );
      ctx.http?.api.use(eventRoutes(events, ctx.config.applianceId));
    },
    async stop() {
      for (const off of unsubscribe.splice(0)) off();
      // Snapshots still being written finish before the store closes.
      await Promise.allSettled([...snapshots]);
      stopped = true;
    },
    health() {
      return counts();
    },
  };
}
