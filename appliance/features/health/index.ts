/**
 * Health: `GET /api/health` and a `health` event every `HEALTH_INTERVAL_MS`. Per camera (from the
 * controller's camera handles): state, frames per second, reference, persons screened by final
 * decision; per feature: its state and what it reports; per bus listener: deliveries, errors,
 * drops and time. The status is `degraded`, with one sentence per problem, when a camera or visible
 * stream is down, a feature failed or reports a problem, or a listener keeps failing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import type { HealthReport } from '../../core/health.ts';
import type { Decision } from '../../core/types.ts';
import { VERSION } from '../../core/version.ts';
import { currentUser } from '../../http/guards.ts';
import type { Feature, FeatureContext } from '../feature.ts';

export const HEALTH_INTERVAL_MS = 60_000;

export function healthFeature(): Feature & { report(): HealthReport } {
  let ctx: FeatureContext | null = null;
  const screened = new Map<string, Record<Decision, number>>();
  const unsubscribe: (() => void)[] = [];
  let timer: NodeJS.Timeout | null = null;

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
      const visible = camera.visible as { state?: string; reason?: string } | null | undefined;
      if (visible?.state && down(visible.state))
        problems.push(`visible stream of camera ${camera.id} is ${visible.state}: ${visible.reason ?? ''}`);
    }
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
    },
    stop() {
      for (const off of unsubscribe.splice(0)) off();
      if (timer) clearInterval(timer);
    },
  };
}

/** `Authorization: Bearer TOKEN` against the configured read-only metrics token, in constant time. */
function bearerMatches(header: string | undefined, token: string | null): boolean {
  if (!token || !header?.startsWith('Bearer ')) return false;
  return constantTimeEqual(header.slice('Bearer '.length).trim(), token);
}

function constantTimeEqual(a: string, b: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(a), digest(b));
}

const emptyCounts = (): Record<Decision, number> => ({ normal: 0, elevated: 0, retest: 0, invalid: 0 });
