/**
 * The HTTP face of the appliance: the JSON API under /api and the static UI. Features mount their
 * routers on `api` (in the order they start) and claim WebSocket paths with `onUpgrade`; this file
 * knows none of them.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import express, { type ErrorRequestHandler, Router } from 'express';
import { log } from '../core/log.ts';
import { httpAnswer } from './errors.ts';
import { requireJsonForStateChange } from './guards.ts';

export const UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url));

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** What a feature gets to serve HTTP. */
export interface HttpMount {
  /** Mounted under /api; routes added here are answered in the order features started. */
  readonly api: Router;
  /** Mounted at the root, for the few paths outside /api that tools expect (e.g. /metrics). */
  readonly root: Router;
  /** Claims a WebSocket path (e.g. /ws/video); upgrades to other paths are refused. */
  onUpgrade(path: string, handler: UpgradeHandler): void;
}

export interface HttpApp extends HttpMount {
  readonly app: express.Express;
  /** Routes upgrades of `server` to the claimed paths. */
  attach(server: Server): void;
}

export function createHttpApp(options: { uiDir?: string } = {}): HttpApp {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    next();
  });
  const api = Router();
  app.use('/api', requireJsonForStateChange);
  app.use('/api', express.json({ limit: '256kb' }));
  app.use('/api', api);
  app.use('/api', (req, res) => {
    res.status(404).json({ error: `no API route ${req.method} ${req.originalUrl}` });
  });
  const root = Router();
  app.use(root);
  app.use(express.static(options.uiDir ?? UI_DIR, { index: 'index.html', maxAge: 0 }));
  const onError: ErrorRequestHandler = (error, _req, res, _next) => {
    const { status, body } = httpAnswer(error);
    if (status >= 500 && status !== 503) log.error({ err: error }, 'request failed');
    const retryAfterS = body.retryAfterS;
    if (typeof retryAfterS === 'number') res.setHeader('Retry-After', String(retryAfterS));
    res.status(status).json(body);
  };
  app.use(onError);

  const upgrades = new Map<string, UpgradeHandler>();
  return {
    app,
    api,
    root,
    onUpgrade(path, handler) {
      upgrades.set(path, handler);
    },
    attach(server) {
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        const path = (req.url ?? '').split('?')[0];
        const handler = upgrades.get(path);
        if (!handler) {
          socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
          return;
        }
        handler(req, socket, head);
      });
    },
  };
}
