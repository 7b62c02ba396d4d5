/**
 * Live video: annotated thermal frames, rendered only while someone watches (see hub.ts).
 *   WS  /ws/video?camera=ID&palette=iron|white-hot|rainbow&range=auto|LOW..HIGH   binary JPEG messages (staff session)
 *   GET /api/cameras/:id/mjpeg?palette=…&range=…             multipart MJPEG for VMS software and ffmpeg (staff)
 *   GET /api/cameras                                         the cameras and palettes (staff)
 * The page draws the WebSocket frames on a canvas: MJPEG in an <img> freezes on iOS Safari.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Router } from 'express';
import { WebSocket, WebSocketServer } from 'ws';
import { ServiceError } from '../../core/errors.ts';
import { requireRole } from '../../http/guards.ts';
import { authorizeUpgrade, refuseUpgrade, upgradeQuery } from '../../http/websocket.ts';
import { PALETTE_NAMES, type PaletteName } from '../../render/frame.ts';
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
      const videoHub = new VideoHub(ctx.bus, unit);
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
      const choose = (cameraId: string | null, palette: string | null, range: string | null) =>
        pickStream(ctx, cameraId, palette, range);

      const server = new WebSocketServer({ noServer: true, maxPayload: 1024 });
      wss = server;
      http.onUpgrade('/ws/video', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        if (!authorizeUpgrade(http, req, socket, 'staff')) return;
        const query = upgradeQuery(req);
        let stream: StreamChoice;
        try {
          for (const key of query.keys())
            if (!['camera', 'palette', 'range'].includes(key))
              throw new ServiceError(
                'invalid',
                `unknown parameter "${key}" (allowed: camera, palette, range)`,
              );
          stream = choose(query.get('camera'), query.get('palette'), query.get('range'));
        } catch (error) {
          refuseUpgrade(
            socket,
            (error as ServiceError).kind === 'not-found' ? 404 : 400,
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
          ws.on('close', remove);
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
          cameras: ctx.cameras.map((camera) => ({
            id: camera.id,
            name: camera.name,
            // Upright size (a camera turned 90° shows height × width).
            width: camera.frameWidth ?? camera.profile.width,
            height: camera.frameHeight ?? camera.profile.height,
            bispectrum: camera.profile.visible !== null,
          })),
        });
      });
      router.get('/cameras/:id/mjpeg', staff, (req, res) => {
        for (const key of Object.keys(req.query))
          if (key !== 'palette' && key !== 'range')
            throw new ServiceError('invalid', `unknown parameter "${key}" (allowed: palette, range)`);
        const text = (name: string) => {
          const value = req.query[name];
          if (value !== undefined && typeof value !== 'string')
            throw new ServiceError('invalid', `${name}: give it once, as text`);
          return value ?? null;
        };
        const stream = choose(String(req.params.id), text('palette'), text('range'));
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
          streams.delete(close);
        };
        const close = () => {
          end();
          res.end();
        };
        streams.add(close);
        res.on('close', end);
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

/** The camera, palette and range a viewer asks for, or a refusal naming what is allowed. */
function pickStream(
  ctx: FeatureContext,
  cameraId: string | null,
  palette: string | null,
  range: string | null,
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
  return { cameraId: id, palette: chosen as PaletteName, range: parseRange(range) };
}
