/**
 * Bi-spectrum registration (visible → thermal homography) per camera under /api/registration.
 * A commit is published as `registration.committed` (the camera maps visible faces with it from
 * the next frame on) and audited.
 */
import type { Feature } from '../feature.ts';
import { registrationRoutes } from './routes.ts';
import { RegistrationService } from './service.ts';

export function registrationFeature(): Feature & { readonly service: RegistrationService | null } {
  let service: RegistrationService | null = null;
  return {
    name: 'registration',
    get service() {
      return service;
    },
    start(ctx) {
      service = new RegistrationService({
        history: ctx.stores.registrations,
        bus: ctx.bus,
        cameras: new Map(
          ctx.cameras.map((camera) => [
            camera.id,
            {
              thermal: {
                width: camera.frameWidth ?? camera.profile.width,
                height: camera.frameHeight ?? camera.profile.height,
              },
              visible: camera.profile.visible
                ? { width: camera.profile.visible.width, height: camera.profile.visible.height }
                : null,
              profile: camera.profile.id,
            },
          ]),
        ),
      });
      ctx.http?.api.use(
        registrationRoutes(service, (req, actor, action, target, detail) =>
          ctx.bus.emit('audit', { actor, action, target, from: req.ip ?? null, detail }),
        ),
      );
    },
    stop() {},
  };
}
