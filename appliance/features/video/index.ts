/**
 * Live video: annotated thermal frames, rendered only while someone watches (see hub.ts).
 *   WS  /ws/video?camera=ID&palette=iron|white-hot|rainbow&range=auto|LOW..HIGH&view=thermal|visible|blend
 *                                                            binary JPEG messages (staff session)
 *   GET /api/cameras/:id/mjpeg?palette=…&range=…&view=…      multipart MJPEG for VMS software and ffmpeg (staff)
 *   GET /api/cameras/:id/still?view=thermal|visible          one JPEG of the next frame, unannotated,
 *                                                            for marking registration points (admin)
 *   GET /api/cameras                                         the cameras, palettes and views (staff)
 * The page draws the WebSocket frames on a canvas: MJPEG in an <img> freezes on iOS Safari.
 *
 * Visible and blend views exist only for bi-spectrum cameras, and only where the site allows faces
 * to be shown on its own screens: `privacy.showVisibleImages` (off by default — hospitals that
 * forbid faces leave it off, and then no page and no stream shows a visible image). Whether faces
 * may leave the site is a separate choice (`uplink.snapshot`). Blend needs the committed registration.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Router } from 'express';
import { WebSocket, WebSocketServer } from 'ws';
import { ServiceError } from '../../core/errors.ts';
import type { EventBusMap } from '../../core/events.ts';
import { requireRole } from '../../http/guards.ts';
import {
  authorizeUpgrade,
  endWithSession,
  refuseUpgrade,
  SESSION_ENDED_CLOSE,
  upgradeQuery,
} from '../../http/websocket.ts';
import {
  colorize,
  encode,
  encodeRgb,
  outputScale,
  PALETTE_NAMES,
  type PaletteName,
  VIEW_NAMES,
  type ViewName,
} from '../../render/frame.ts';
import type { Feature, FeatureContext } from '../feature.ts';
import { VideoHub } from './hub.ts';

/**
 * A viewer with more than this still to send skips frames. About two frames at 512×384: enough to
 * keep a fast link busy, small enough that a stalled viewer holds little memory.
 */
export const MAX_BUFFERED_BYTES = 128 * 1024;
const BOUNDARY = 'canthusframe';

export function videoFeature(): Feature & { readonly hub: VideoHub | null } {
  let hub: VideoHub | null = null;
  let wss: WebSocketServer | null = null;
  const streams = new Set<() => void>();
  let offSettings: (() => void) | null = null;
  return {
    name: 'video',
    get hub() {
      return hub;
    },
    start(ctx) {
      if (!ctx.http) return;
      const http = ctx.http;
      let unit = ctx.config.screening.unit;
      const registrations = ctx.stores.registrations;
      const videoHub = new VideoHub(ctx.bus, unit, (cameraId) => registrations.latest(cameraId));
      hub = videoHub;
      // °C/°F is a site setting an admin may change at any time: the scale follows from the next frame.
      offSettings = ctx.bus.on(
        'settings.changed',
        (event) => {
          unit = event.screening.unit;
          videoHub.setUnit(unit);
        },
        { name: 'video.settings' },
      );
      const choose = (
        cameraId: string | null,
        palette: string | null,
        range: string | null,
        view: string | null,
      ) => pickStream(ctx, cameraId, palette, range, view);

      const server = new WebSocketServer({ noServer: true, maxPayload: 1024 });
      wss = server;
      http.onUpgrade('/ws/video', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        if (!authorizeUpgrade(http, req, socket, 'staff')) return;
        const query = upgradeQuery(req);
        let stream: StreamChoice;
        try {
          for (const key of query.keys())
            if (!['camera', 'palette', 'range', 'view'].includes(key))
              throw new ServiceError(
                'invalid',
                `unknown parameter "${key}" (allowed: camera, palette, range, view)`,
              );
          stream = choose(query.get('camera'), query.get('palette'), query.get('range'), query.get('view'));
        } catch (error) {
          const kind = (error as ServiceError).kind;
          refuseUpgrade(
            socket,
            kind === 'not-found' ? 404 : kind === 'forbidden' ? 403 : kind === 'conflict' ? 409 : 400,
            (error as Error).message,
          );
          return;
        }
        server.handleUpgrade(req, socket, head, (ws) => {
          const remove = videoHub.add({
            ...stream,
            ready: () => ws.readyState === WebSocket.OPEN && ws.bufferedAmount < MAX_BUFFERED_BYTES,
            send: (jpeg) => ws.send(jpeg, { binary: true }),
          });
          const stopWatching = endWithSession(http, req, () =>
            ws.close(SESSION_ENDED_CLOSE, 'session ended'),
          );
          ws.on('close', () => {
            remove();
            stopWatching();
          });
          ws.on('error', () => ws.terminate());
        });
      });

      const router = Router();
      const staff = requireRole('staff');
      router.get('/cameras', staff, (_req, res) => {
        res.setHeader('Cache-Control', 'no-store');
        res.json({
          palettes: PALETTE_NAMES,
          unit,
          visibleAllowed: visibleAllowed(ctx),
          cameras: ctx.cameras.map((camera) => ({
            id: camera.id,
            name: camera.name,
            // Upright size (a camera turned 90° shows height × width).
            width: camera.frameWidth ?? camera.profile.width,
            height: camera.frameHeight ?? camera.profile.height,
            bispectrum: camera.profile.visible !== null,
            visible: camera.profile.visible
              ? { width: camera.profile.visible.width, height: camera.profile.visible.height }
              : null,
            registered: registrations.latest(camera.id) !== null,
            // The views this viewer may ask for now.
            views: viewsOf(ctx, camera.id),
          })),
        });
      });
      router.get('/cameras/:id/mjpeg', staff, (req, res) => {
        for (const key of Object.keys(req.query))
          if (key !== 'palette' && key !== 'range' && key !== 'view')
            throw new ServiceError('invalid', `unknown parameter "${key}" (allowed: palette, range, view)`);
        const text = (name: string) => {
          const value = req.query[name];
          if (value !== undefined && typeof value !== 'string')
            throw new ServiceError('invalid', `${name}: give it once, as text`);
          return value ?? null;
        };
        const stream = choose(String(req.params.id), text('palette'), text('range'), text('view'));
        res.writeHead(200, {
          'Content-Type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`,
          'Cache-Control': 'no-store',
          Connection: 'close',
        });
        const remove = videoHub.add({
          ...stream,
          ready: () => !res.destroyed && res.writableLength < MAX_BUFFERED_BYTES,
          send: (jpeg) => {
            res.write(`--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`);
            res.write(jpeg);
            res.write('\r\n');
          },
        });
        const end = () => {
          remove();
          stopWatching();
          streams.delete(close);
        };
        const close = () => {
          end();
          res.end();
        };
        const stopWatching = endWithSession(http, req, close);
        streams.add(close);
        res.on('close', end);
      });
      router.get('/cameras/:id/still', requireRole('admin'), async (req, res) => {
        for (const key of Object.keys(req.query))
          if (key !== 'view') throw new ServiceError('invalid', `unknown parameter "${key}" (allowed: view)`);
        const view = req.query.view ?? 'thermal';
        if (view !== 'thermal' && view !== 'visible')
          throw new ServiceError('invalid', `view: must be thermal or visible (got ${JSON.stringify(view)})`);
        const { cameraId } = pickStream(ctx, String(req.params.id), null, null, view);
        const jpeg = await nextStill(ctx, cameraId, view);
        res.setHeader('Cache-Control', 'no-store');
        res.type('image/jpeg').send(jpeg);
      });
      http.api.use(router);
    },
    stop() {
      offSettings?.();
      for (const close of [...streams]) close();
      for (const client of wss?.clients ?? []) client.terminate();
      wss?.close();
      hub?.close();
    },
    health() {
      return hub ? { ...hub.stats() } : {};
    },
  };
}

interface StreamChoice {
  cameraId: string;
  palette: PaletteName;
  range: { lowC: number; highC: number } | null;
  view: ViewName;
}

/** The site allows visible images (faces) to be pictured: see the module comment. */
function visibleAllowed(ctx: FeatureContext): boolean {
  return ctx.config.privacy?.showVisibleImages === true;
}

/** A bi-spectrum camera whose visible stream is configured (`visibleSource`): its frames carry a visible partner. */
function hasVisibleStream(ctx: FeatureContext, cameraId: string): boolean {
  return Boolean(ctx.config.cameras.find((c) => c.id === cameraId)?.visibleSource);
}

/** The views a camera offers now: thermal always; visible and blend as the module comment says. */
function viewsOf(ctx: FeatureContext, cameraId: string): ViewName[] {
  const camera = ctx.cameras.find((c) => c.id === cameraId);
  if (!camera?.profile.visible || !hasVisibleStream(ctx, cameraId) || !visibleAllowed(ctx))
    return ['thermal'];
  return ctx.stores.registrations.latest(cameraId) ? ['thermal', 'visible', 'blend'] : ['thermal', 'visible'];
}

/** How long a still waits for the camera's next frame (with its visible partner). */
const STILL_WAIT_MS = 5_000;

/**
 * One JPEG of the camera's next frame, unannotated: the thermal image in iron at the live view's
 * scale, or the visible frame at full size (registration points are marked in its pixels).
 */
function nextStill(ctx: FeatureContext, cameraId: string, view: 'thermal' | 'visible'): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (off: () => void, result: Promise<Buffer> | Error) => {
      done = true;
      clearTimeout(timer);
      off();
      if (result instanceof Error) reject(result);
      else result.then(resolve, reject);
    };
    const off = ctx.bus.on(
      'frame',
      (event: EventBusMap['frame']) => {
        if (done || event.cameraId !== cameraId) return;
        const { thermal } = event;
        if (view === 'visible') {
          const visible = thermal.visible;
          // A thermal frame without its visible partner: wait for the next one.
          if (!visible) return;
          const rgb = Buffer.allocUnsafe(visible.width * visible.height * 3);
          rgb.set(visible.rgb.subarray(0, rgb.length));
          finish(off, encodeRgb(rgb, visible.width, visible.height, visible.width, 85));
          return;
        }
        const scale = outputScale(thermal.width);
        const colored = colorize(thermal.celsius, thermal.width, thermal.height, 'iron');
        const empty = `<svg xmlns="http://www.w3.org/2000/svg" width="${thermal.width * scale}" height="${thermal.height * scale}"/>`;
        finish(off, encode(colored, empty, scale, 85));
      },
      { name: 'video.still' },
    );
    const timer = setTimeout(() => {
      if (done) return;
      const camera = ctx.cameras.find((c) => c.id === cameraId)!.health();
      finish(
        off,
        new ServiceError(
          'unavailable',
          `no ${view === 'visible' ? 'visible ' : ''}frame from camera "${cameraId}" in ${STILL_WAIT_MS / 1000} s (camera ${camera.state}${camera.reason ? `: ${camera.reason}` : ''})`,
        ),
      );
    }, STILL_WAIT_MS);
  });
}

/** A fixed range "LOW..HIGH" in °C (e.g. 20..40), or null for `auto` / none. */
export function parseRange(range: string | null): { lowC: number; highC: number } | null {
  if (range === null || range === 'auto') return null;
  const match = /^(-?\d+(?:\.\d+)?)\.\.(-?\d+(?:\.\d+)?)$/.exec(range);
  const lowC = match ? Number(match[1]) : Number.NaN;
  const highC = match ? Number(match[2]) : Number.NaN;
  if (!match || lowC < -40 || highC > 150 || highC - lowC < 1)
    throw new ServiceError(
      'invalid',
      `range: must be auto or LOW..HIGH in °C, at least 1 °C wide, within -40..150, e.g. 20..40 (got ${JSON.stringify(range)})`,
    );
  return { lowC, highC };
}

/** The camera, palette, range and view a viewer asks for, or a refusal naming what is allowed. */
function pickStream(
  ctx: FeatureContext,
  cameraId: string | null,
  palette: string | null,
  range: string | null,
  view: string | null = null,
): StreamChoice {
  const ids = ctx.cameras.map((camera) => camera.id);
  const id = cameraId ?? ids[0];
  if (!ids.includes(id))
    throw new ServiceError('not-found', `no camera "${id}" (cameras: ${ids.join(', ') || 'none'})`);
  const chosen = palette ?? 'iron';
  if (!(PALETTE_NAMES as readonly string[]).includes(chosen))
    throw new ServiceError(
      'invalid',
      `palette: must be one of ${PALETTE_NAMES.join(', ')} (got ${JSON.stringify(chosen)})`,
    );
  const wanted = view ?? 'thermal';
  if (!(VIEW_NAMES as readonly string[]).includes(wanted))
    throw new ServiceError(
      'invalid',
      `view: must be one of ${VIEW_NAMES.join(', ')} (got ${JSON.stringify(wanted)})`,
    );
  if (wanted !== 'thermal') {
    const camera = ctx.cameras.find((c) => c.id === id)!;
    if (!camera.profile.visible) {
      const bispectrum = ctx.cameras.filter((c) => c.profile.visible).map((c) => c.id);
      throw new ServiceError(
        'invalid',
        `view: camera "${id}" (profile "${camera.profile.id}") is thermal only: the ${wanted} view is for bi-spectrum cameras (${bispectrum.length ? `here: ${bispectrum.join(', ')}` : 'none here'}); allowed: thermal`,
      );
    }
    if (!hasVisibleStream(ctx, id))
      throw new ServiceError(
        'invalid',
        `view: camera "${id}" has no visible stream configured (cameras[].visibleSource in the site configuration); allowed: thermal`,
      );
    if (!visibleAllowed(ctx))
      throw new ServiceError(
        'forbidden',
        `view: visible images are not shown on this site (privacy.showVisibleImages is false; an admin sets it to true in the site configuration to allow faces on the appliance's screens); allowed: thermal`,
      );
    if (wanted === 'blend' && !ctx.stores.registrations.latest(id))
      throw new ServiceError(
        'conflict',
        `view: blend needs camera "${id}"'s registration (visible → thermal), and none is committed: an admin marks point pairs on the Registration page first; allowed now: thermal, visible`,
      );
  }
  return { cameraId: id, palette: chosen as PaletteName, range: parseRange(range), view: wanted as ViewName };
}
