/**
 * Health: `GET /api/health` and a `health` event every `HEALTH_INTERVAL_MS`. It tells the truth
 * about keeping up: a camera that processes less than 90 % of the frames it receives for 10 s, or an
 * event loop lagging more than 100 ms, makes the status `degraded` with the reason. Per camera (from the
 * controller's camera handles): state, frames per second, reference, persons screened by final
 * decision; per feature: its state and what it reports; per bus listener: deliveries, errors,
 * drops and time. The status is `degraded`, with one sentence per problem, when a camera or visible
 * stream is down, a feature failed or reports a problem, or a listener keeps failing.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Router } from 'express';
import type { HealthReport } from '../../core/health.ts';
import type { Decision } from '../../core/types.ts';
import { VERSION } from '../../core/version.ts';
import { bearerMatches, currentUser } from '../../http/guards.ts';
import type { Feature, FeatureContext } from '../feature.ts';

export const HEALTH_INTERVAL_MS = 60_000;
/** A camera behind for this long is reported. */
export const BEHIND_FOR_MS = 10_000;
/** Share of received frames a camera must process to keep up. */
export const KEEP_UP_SHARE = 0.9;
/** Event-loop delay (p99 of each second, for LOOP_LAG_FOR_MS) that counts as lagging. */
export const LOOP_LAG_LIMIT_MS = 100;
/** One long pause (start-up, a GC) is not lagging; this long of it is. */
const LOOP_LAG_FOR_MS = 3000;
const SAMPLE_MS = 1000;

export function healthFeature(): Feature & { report(): HealthReport } {
  let ctx: FeatureContext | null = null;
  const screened = new Map<string, Record<Decision, number>>();
  const unsubscribe: (() => void)[] = [];
  let timer: NodeJS.Timeout | null = null;
  let sampler: NodeJS.Timeout | null = null;
  /** Each camera's totals, a sample a second over the last BEHIND_FOR_MS: delivered and processed. */
  const history = new Map<string, { t: number; delivered: number; processed: number }[]>();
  /** Cameras processing too few of their frames: the rates over the window. */
  const behind = new Map<string, { processed: number; delivered: number }>();
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  let loopLagMs = 0;
  let loopLagSince: number | null = null;

  const report = (): HealthReport => {
    if (!ctx) throw new Error('health feature not started');
    const now = Date.now();
    const cameras = ctx.cameras.map((camera) => ({
      ...camera.health(),
      screened: { ...(screened.get(camera.id) ?? emptyCounts()) },
    }));
    const features = ctx.features();
    const listeners = ctx.bus.stats();
    const problems: string[] = [];
    const down = (state: string) => state !== 'online' && state !== 'ended';
    for (const camera of cameras) {
      if (down(camera.state)) problems.push(`camera ${camera.id} is ${camera.state}: ${camera.reason}`);
      const rates = behind.get(camera.id);
      if (rates) {
        problems.push(
          `camera ${camera.id} is not keeping up: ${rates.processed} of ${rates.delivered} frames/s processed over the last ${BEHIND_FOR_MS / 1000} s`,
        );
      }
      const visible = camera.visible as { state?: string; reason?: string } | null | undefined;
      if (visible?.state && down(visible.state))
        problems.push(`visible stream of camera ${camera.id} is ${visible.state}: ${visible.reason ?? ''}`);
    }
    if (loopLagSince !== null && now - loopLagSince >= LOOP_LAG_FOR_MS)
      problems.push(`event loop lagging: ${Math.round(loopLagMs)} ms (limit ${LOOP_LAG_LIMIT_MS} ms)`);
    for (const feature of features) {
      if (feature.state === 'failed') problems.push(`feature ${feature.name} failed: ${feature.reason}`);
      else if (feature.reason) problems.push(`feature ${feature.name}: ${feature.reason}`);
    }
    for (const listener of listeners) {
      if (listener.errors > 0)
        problems.push(
          `listener ${listener.name} (${listener.event}) failed ${listener.errors} time(s): ${listener.lastError}`,
        );
    }
    return {
      status: problems.length > 0 ? 'degraded' : 'ok',
      problems,
      version: VERSION,
      applianceId: ctx.config.applianceId,
      startedAt: new Date(ctx.startedAt).toISOString(),
      uptimeS: Math.round((now - ctx.startedAt) / 100) / 10,
      eventLoopLagMs: Math.round(loopLagMs * 10) / 10,
      cameras,
      features,
      listeners,
    };
  };

  return {
    name: 'health',
    report,
    start(context) {
      ctx = context;
      unsubscribe.push(
        context.bus.on(
          'screening',
          (event) => {
            if (event.kind !== 'end') return;
            const counts = screened.get(event.cameraId) ?? emptyCounts();
            counts[event.decision]++;
            screened.set(event.cameraId, counts);
          },
          { name: 'health.screened' },
        ),
      );
      if (context.http) {
        const router = Router();
        const metricsToken = context.config.security.metricsToken;
        router.get('/health', (req, res) => {
          res.setHeader('Cache-Control', 'no-store');
          // Anyone reachable on the network gets liveness; camera sources, counts and reasons
          // describe the site and its people, so the detail is for staff or the monitoring token.
          const detail = currentUser(res) !== null || bearerMatches(req.headers.authorization, metricsToken);
          const full = report();
          res.json(detail ? full : { status: full.status, version: full.version });
        });
        context.http.api.use(router);
      }
      timer = setInterval(() => context.bus.emit('health', { report: report() }), HEALTH_INTERVAL_MS);
      timer.unref();
      loopDelay.enable();
      sampler = setInterval(() => {
        const t = Date.now();
        for (const camera of context.cameras) {
          const { totals, state } = camera.health();
          // What the camera delivered: frames seen plus those it produced while the process was busy.
          const sample = { t, delivered: totals.in + totals.droppedAtSource, processed: totals.processed };
          const samples = (history.get(camera.id) ?? []).filter((s) => t - s.t <= BEHIND_FOR_MS);
          samples.push(sample);
          history.set(camera.id, samples);
          const first = samples[0];
          const spanS = (t - first.t) / 1000;
          const delivered = sample.delivered - first.delivered;
          const processed = sample.processed - first.processed;
          if (
            state === 'online' &&
            spanS >= (BEHIND_FOR_MS - SAMPLE_MS) / 1000 &&
            processed < KEEP_UP_SHARE * delivered
          ) {
            behind.set(camera.id, {
              processed: Math.round((processed / spanS) * 10) / 10,
              delivered: Math.round((delivered / spanS) * 10) / 10,
            });
          } else {
            behind.delete(camera.id);
          }
        }
        loopLagMs = loopDelay.percentile(99) / 1e6;
        loopDelay.reset();
        if (loopLagMs <= LOOP_LAG_LIMIT_MS) loopLagSince = null;
        else loopLagSince ??= t;
      }, SAMPLE_MS);
      sampler.unref();
    },
    stop() {
      for (const off of unsubscribe.splice(0)) off();
      if (timer) clearInterval(timer);
      if (sampler) clearInterval(sampler);
      loopDelay.disable();
    },
  };
}

const emptyCounts = (): Record<Decision, number> => ({ normal: 0, elevated: 0, retest: 0, invalid: 0 });
