/**
 * `canthus run --events FILE|-`: every camera, reference and screening event as one JSON line
 * (`{"type":"camera"|"reference"|"screening", ...}`), to a file or stdout. Stops after the bus has
 * drained, so the last `end` events are written.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Feature } from '../feature.ts';

export function eventLinesFeature(target: string): Feature {
  let out: NodeJS.WritableStream | WriteStream | null = null;
  const unsubscribe: (() => void)[] = [];
  return {
    name: 'eventLines',
    start(ctx) {
      const stream = target === '-' ? process.stdout : createWriteStream(target, { flags: 'a' });
      out = stream;
      const write = (line: object) => stream.write(`${JSON.stringify(line)}\n`);
      unsubscribe.push(
        ctx.bus.on('camera.state', (event) => write({ type: 'camera', ...event }), { name: 'eventLines' }),
        ctx.bus.on(
          'reference.state',
          (event) =>
            write({
              type: 'reference',
              id: event.id,
              cameraId: event.cameraId,
              at: event.at,
              previous: event.previous?.state ?? null,
              ...event.current,
            }),
          { name: 'eventLines' },
        ),
        ctx.bus.on(
          'screening',
          (event) => {
            const { crop: _crop, ...line } = event;
            write({ type: 'screening', ...line });
          },
          { name: 'eventLines' },
        ),
      );
    },
    stop() {
      for (const off of unsubscribe.splice(0)) off();
      const stream = out;
      if (!stream) return;
      return new Promise<void>((resolve) => {
        if (stream === process.stdout) stream.write('', () => resolve());
        else (stream as WriteStream).end(() => resolve());
      });
    },
  };
}
