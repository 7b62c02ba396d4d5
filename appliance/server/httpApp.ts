/**
 * The HTTP face of the appliance: JSON API under /api and the static UI. Routers are handed in by
 * main.ts, so features add their routes without this file knowing them.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type ErrorRequestHandler, type Router } from 'express';
import { log } from '../core/log.ts';

export const UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url));

export interface HttpAppOptions {
  /** Mounted under /api, in order. */
  apiRouters: Router[];
  uiDir?: string;
}

export function createHttpApp(options: HttpAppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    next();
  });
  app.use('/api', express.json({ limit: '256kb' }));
  for (const router of options.apiRouters) app.use('/api', router);
  app.use('/api', (req, res) => {
    res.status(404).json({ error: `no API route ${req.method} ${req.originalUrl}` });
  });
  app.use(express.static(options.uiDir ?? UI_DIR, { index: 'index.html', maxAge: 0 }));
  const onError: ErrorRequestHandler = (error, _req, res, _next) => {
    const status = typeof error?.status === 'number' ? error.status : 500;
    const message = status < 500 ? String(error.message) : 'internal error';
    if (status >= 500) log.error({ err: error }, 'request failed');
    res.status(status).json({ error: message });
  };
  app.use(onError);
  return app;
}

export function uiFile(...parts: string[]): string {
  return path.join(UI_DIR, ...parts);
}
