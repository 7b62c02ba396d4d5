/**
 * Calibration: sessions against the blackbody (admin) and the history with its export (staff),
 * under /api/calibration. A commit is published as `calibration.committed` (the camera applies it)
 * and audited.
 */
import type { Feature } from '../feature.ts';
import { calibrationRoutes } from './routes.ts';
import { CalibrationSessions } from './sessions.ts';

export function calibrationFeature(): Feature & { readonly sessions: CalibrationSessions | null } {
  let sessions: CalibrationSessions | null = null;
  return {
    name: 'calibration',
    get sessions() {
      return sessions;
    },
    start(ctx) {
      sessions = new CalibrationSessions({
        bus: ctx.bus,
        history: ctx.stores.calibrations,
        cameraIds: ctx.cameras.map((camera) => camera.id),
      });
      ctx.http?.api.use(
        calibrationRoutes(sessions, {
          applianceId: ctx.config.applianceId,
          audit: (req, actor, action, target, detail = {}) =>
            ctx.bus.emit('audit', { actor, action, target, from: req.ip ?? null, detail }),
        }),
      );
    },
    stop() {
      sessions?.stop();
    },
  };
}
