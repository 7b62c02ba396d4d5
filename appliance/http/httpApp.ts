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
import { BODY_LIMITS, type BodyLimits, jsonBodyParser } from './jsonBody.ts';

export const UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url));

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** Who a raw request (a WebSocket upgrade, which bypasses express) belongs to; null when anonymous. */
export type SessionLookup = (req: IncomingMessage) => SessionUser | null;

/** What a feature gets to serve HTTP. */
export interface HttpMount {
  /** Mounted under /api; routes added here are answered in the order features started. */
  readonly api: Router;
  /** Mounted at the root, for the few paths outside /api that tools expect (e.g. /metrics). */
  readonly root: Router;
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

/**
 * The UI is static files with no inline script or style: the policy allows only this origin, so an
 * injected `<script>` or `onclick` never runs. WebSockets to this origin are covered by 'self'.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

export interface HttpAppOptions {
  uiDir?: string;
  /** Body limits of the one JSON parser (defaults: 256 KB, 32 levels). */
  bodyLimits?: BodyLimits;
  /**
   * Served over TLS with a certificate browsers trust: send HSTS. Not with a self-signed one, where
   * HSTS would stop staff from accepting the certificate after checking its fingerprint.
   */
  hsts?: boolean;
}

export function createHttpApp(options: HttpAppOptions = {}): HttpApp {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use((_req, res, next) => {
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
    if (options.hsts) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
    next();
  });
  const api = Router();
  app.use('/api', requireJsonForStateChange);
  app.use('/api', jsonBodyParser(options.bodyLimits ?? BODY_LIMITS));
  app.use('/api', api);
  app.use('/api', (req, res) => {
    res.status(404).json({ error: `no API route ${req.method} ${req.baseUrl}${req.path}` });
  });
  const root = Router();
  app.use(root);
  app.use(express.static(options.uiDir ?? UI_DIR, { index: 'index.html', maxAge: 0 }));
  // Our own 404, so it keeps the headers above (express's default page replaces the CSP).
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('not found\n');
  });
  const onError: ErrorRequestHandler = (error, _req, res, _next) => {
    const { status, body } = httpAnswer(error);
    // Refusals (4xx) are the caller's doing and answered plainly; only our own faults are logged.
    if (status >= 500 && status !== 503) log.error({ err: error }, 'request failed');
    const retryAfterS = body.retryAfterS;
    if (typeof retryAfterS === 'number') res.setHeader('Retry-After', String(retryAfterS));
    if (status === 429 && !res.hasHeader('Retry-After')) res.setHeader('Retry-After', '1');
    res.status(status).json(body);
  };
  app.use(onError);

  const upgrades = new Map<string, UpgradeHandler>();
  let sessionLookup: SessionLookup | null = null;
  return {
    app,
    api,
    root,
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
