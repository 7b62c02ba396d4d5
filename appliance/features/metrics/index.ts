/**
 * `GET /metrics` in Prometheus text format (prom-client): per camera frames in / processed /
 * skipped and processing time, the reference state, persons by decision, alerts, event-loop lag,
 * process memory and CPU, bus listener errors and drops, and what other features report (event
 * store counts, job runs). Counts only: no readings, no identities.
 *
 * Loopback clients need no credentials; other hosts send `Authorization: Bearer <security.metricsToken>`;
 * with no token configured, /metrics answers loopback only.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Router } from 'express';
import client from 'prom-client';
import type { ReferenceStateName } from '../../core/types.ts';
import { bearerMatches } from '../../http/guards.ts';
import type { Feature } from '../feature.ts';

const REFERENCE_STATES: readonly ReferenceStateName[] = [
  'warming',
  'stable',
  'occluded',
  'moved',
  'drifting',
  'ffc',
  'missing',
];

export function metricsFeature(): Feature {
  const unsubscribe: (() => void)[] = [];
  let loopDelay: ReturnType<typeof monitorEventLoopDelay> | null = null;
  return {
    name: 'metrics',
    start(ctx) {
      const registry = new client.Registry();
      client.collectDefaultMetrics({ register: registry, prefix: 'canthus_' });
      const delay = monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      loopDelay = delay;
      const cameraGauge = (
        name: string,
        help: string,
        value: (h: ReturnType<(typeof ctx.cameras)[number]['health']>) => number,
      ) =>
        new client.Gauge({
          name,
          help,
          labelNames: ['camera'],
          registers: [registry],
          collect() {
            for (const camera of ctx.cameras) this.set({ camera: camera.id }, value(camera.health()));
          },
        });
      cameraGauge(
        'canthus_frames_in_total',
        'Frames delivered by the camera since start',
        (h) => h.totals.in,
      );
      cameraGauge(
        'canthus_frames_processed_total',
        'Frames processed since start',
        (h) => h.totals.processed,
      );
      cameraGauge(
        'canthus_frames_skipped_total',
        'Frames skipped (slot replaced or dropped at source)',
        (h) => h.totals.skipped,
      );
      cameraGauge(
        'canthus_frames_flat_field_total',
        'Frames during a flat-field correction',
        (h) => h.totals.flatField,
      );
      cameraGauge(
        'canthus_frames_processed_per_second',
        'Frames processed per second (last seconds)',
        (h) => h.framesPerSecond.processed,
      );
      cameraGauge(
        'canthus_frame_processing_seconds',
        'Processing time of the last frame',
        (h) => h.processingMs / 1000,
      );
      cameraGauge('canthus_camera_online', '1 while the camera delivers frames', (h) =>
        h.state === 'online' ? 1 : 0,
      );
      new client.Gauge({
        name: 'canthus_reference_state',
        help: 'The blackbody reference state (1 for the current state)',
        labelNames: ['camera', 'state'],
        registers: [registry],
        collect() {
          for (const camera of ctx.cameras) {
            const current = camera.health().reference?.state ?? 'missing';
            for (const state of REFERENCE_STATES)
              this.set({ camera: camera.id, state }, state === current ? 1 : 0);
          }
        },
      });
      const persons = new client.Counter({
        name: 'canthus_persons_screened_total',
        help: 'Persons whose screening ended, by final decision',
        labelNames: ['camera', 'decision'],
        registers: [registry],
      });
      const alerts = new client.Counter({
        name: 'canthus_alerts_total',
        help: 'Alerts raised (elevated, or a final retest)',
        labelNames: ['camera', 'decision'],
        registers: [registry],
      });
      new client.Gauge({
        name: 'canthus_event_loop_lag_seconds',
        help: 'Event-loop delay since the last scrape (p99)',
        registers: [registry],
        collect() {
          this.set(delay.percentile(99) / 1e9);
          delay.reset();
        },
      });
      new client.Gauge({
        name: 'canthus_listener_errors_total',
        help: 'Errors of each bus listener',
        labelNames: ['listener', 'event'],
        registers: [registry],
        collect() {
          for (const s of ctx.bus.stats()) this.set({ listener: s.name, event: s.event }, s.errors);
        },
      });
      new client.Gauge({
        name: 'canthus_listener_dropped_total',
        help: 'Events dropped for a lagging bus listener (superseded frames)',
        labelNames: ['listener', 'event'],
        registers: [registry],
        collect() {
          for (const s of ctx.bus.stats()) this.set({ listener: s.name, event: s.event }, s.dropped);
        },
      });
      new client.Gauge({
        name: 'canthus_feature_up',
        help: '1 while a feature runs',
        labelNames: ['feature'],
        registers: [registry],
        collect() {
          for (const f of ctx.features()) this.set({ feature: f.name }, f.state === 'running' ? 1 : 0);
        },
      });
      new client.Gauge({
        name: 'canthus_store_rows',
        help: 'Rows in the event store',
        labelNames: ['what'],
        registers: [registry],
        collect() {
          const counts = ctx.stores.events.counts();
          this.set({ what: 'persons' }, counts.persons);
          this.set({ what: 'alerts_open' }, counts.alertsOpen);
          this.set({ what: 'outbox_unsent' }, counts.outboxUnsent);
        },
      });
      unsubscribe.push(
        ctx.bus.on(
          'screening',
          (event) => {
            if (event.kind === 'end') persons.inc({ camera: event.cameraId, decision: event.decision });
            if (event.alert) alerts.inc({ camera: event.cameraId, decision: event.decision });
          },
          { name: 'metrics' },
        ),
      );

      if (!ctx.http) return;
      const token = ctx.config.security.metricsToken ?? null;
      const router = Router();
      router.get('/metrics', async (req, res) => {
        const loopback = ['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(req.socket.remoteAddress ?? '');
        if (!loopback) {
          if (!bearerMatches(req.headers.authorization, token)) {
            res
              .status(token === null ? 403 : 401)
              .type('text/plain')
              .send(
                token === null
                  ? 'metrics are served to loopback only: set security.metricsToken to scrape from another host\n'
                  : 'metrics need Authorization: Bearer <security.metricsToken>\n',
              );
            return;
          }
        }
        res.setHeader('Cache-Control', 'no-store');
        res.type(registry.contentType).send(await registry.metrics());
      });
      ctx.http.root.use(router);
    },
    stop() {
      for (const off of unsubscribe.splice(0)) off();
      loopDelay?.disable();
    },
  };
}
