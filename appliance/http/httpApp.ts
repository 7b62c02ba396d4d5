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
import { requireJsonForStateChange, type SessionUser } from './guards.ts';

export const UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url));

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** Who a raw request (a WebSocket upgrade, which bypasses express) belongs to; null when anonymous. */
export type SessionLookup = (req: IncomingMessage) => SessionUser | null;

/**
 * The Content-Security-Policy of every response: scripts, styles and connections only from the
 * appliance itself (no inline scripts); images also from blob: (video frames drawn from blobs).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob: data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** What a feature gets to serve HTTP. */
export interface HttpMount {
  /** Mounted under /api; routes added here are answered in the order features started. */
  readonly api: Router;
  /** Claims a WebSocket path (e.g. /ws/video); upgrades to other paths are refused. */
  onUpgrade(path: string, handler: UpgradeHandler): void;
  /** Installed by the users feature: how WebSocket handlers find the session of an upgrade. */
  setSessionLookup(lookup: SessionLookup): void;
  /** The session user of a raw request; undefined when no session lookup is installed. */
  sessionUser(req: IncomingMessage): SessionUser | null | undefined;
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
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    next();
  });
  const api = Router();
  app.use('/api', requireJsonForStateChange);
  app.use('/api', express.json({ limit: '256kb' }));
  app.use('/api', api);
  app.use('/api', (req, res) => {
    res.status(404).json({ error: `no API route ${req.method} ${req.originalUrl}` });
  });
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
  let sessionLookup: SessionLookup | null = null;
  return {
    app,
    api,
    setSessionLookup(lookup) {
      sessionLookup = lookup;
    },
    sessionUser(req) {
      return sessionLookup ? sessionLookup(req) : undefined;
    },
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
