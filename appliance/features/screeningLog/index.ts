/** Whoever watches the log sees each person's outcome; elevated ones stand out as warnings. */
import type { Feature } from '../feature.ts';

export function screeningLogFeature(): Feature {
  let off: (() => void) | null = null;
  return {
    name: 'screeningLog',
    start(ctx) {
      off = ctx.bus.on(
        'screening',
        (event) => {
          if (event.kind !== 'end') return;
          const fields = {
            camera: event.cameraId,
            person: event.personId,
            decision: event.decision,
            estimatedCoreC: event.estimatedCoreC,
            reasons: event.reasons,
          };
          if (event.decision === 'elevated')
            ctx.log.warn(fields, 'elevated: confirm with a clinical thermometer');
          else ctx.log.info(fields, 'screened');
        },
        { name: 'screeningLog' },
      );
    },
    stop() {
      off?.();
    },
  };
}
