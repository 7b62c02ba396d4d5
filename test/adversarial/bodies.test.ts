/**
 * Hostile bodies on every POST route of the running appliance (issue 11, defects 2 and 4): deeply
 * nested, oversized, streamed past the limit, invalid JSON quoting a password, the wrong media type.
 * Each gets a plain 4xx naming what is wrong and what is allowed: never a 500, never a logged stack
 * trace, never the secret back. The routes are read from the app's routers, so a route added later
 * is covered without editing this file.
 */
import http from 'node:http';
import type { Express } from 'express';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../appliance/config/load.ts';
import { log } from '../../appliance/core/log.ts';
import { type Appliance, startAppliance } from '../../appliance/main.ts';
import { tempDir } from '../helpers/tempDir.ts';

const SECRET = 'Passw0rd-hunter2-SECRET';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every POST route under /api, with `:param`s filled in. */
function postRoutes(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route?.methods.post) found.push(`/api${layer.route.path.replace(/:\w+/g, 'x')}`);
      else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return [...new Set(found)];
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** One request with full control of headers and body (chunks are streamed in order). */
function send(
  port: number,
  path: string,
  headers: Record<string, string>,
  chunks: (string | Buffer)[],
  cookie = '',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { ...headers, ...(cookie ? { Cookie: cookie } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    // The server may answer and close before the whole of an oversized body is written.
    req.on('error', (error) =>
      error.message.includes('EPIPE') || error.message.includes('ECONNRESET') ? undefined : reject(error),
    );
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

const json = { 'Content-Type': 'application/json' };

describe('hostile bodies on every POST route', () => {
  let appliance: Appliance;
  let routes: string[];
  let adminCookie = '';
  const errorLogs = vi.spyOn(log, 'error');

  beforeAll(async () => {
    const dataDir = tempDir();
    const loaded = loadConfig({ dataDir, port: 0 });
    loaded.config.server.host = '127.0.0.1';
    appliance = await startAppliance({ loaded });
    const app = appliance.server!.listeners('request')[0] as Express;
    routes = postRoutes(app);
    const token = (await import('node:fs')).readFileSync(`${dataDir}/setup-token`, 'utf8').trim();
    const setup = await send(appliance.port, '/api/setup', json, [
      JSON.stringify({ token, username: 'admin', password: 'a long passphrase for tests' }),
    ]);
    expect(setup.status).toBe(201);
    adminCookie = String(setup.headers['set-cookie']?.[0] ?? '').split(';')[0];
  });
  afterAll(async () => {
    await appliance?.stop();
  });

  it('finds the POST routes of every feature', () => {
    expect(routes).toEqual(
      expect.arrayContaining([
        '/api/setup',
        '/api/login',
        '/api/logout',
        '/api/users',
        '/api/calibration/sessions',
        '/api/calibration/sessions/x/commit',
        '/api/registration/x',
      ]),
    );
  });

  it('answers a 10 KB body nested 5 000 deep with a 400 naming the depth limit, anonymous or admin', async () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const deepObject = `{"password":${'{"a":'.repeat(1000)}1${'}'.repeat(1000)}}`;
    for (const route of routes) {
      for (const cookie of ['', adminCookie]) {
        for (const body of [deep, deepObject]) {
          const answer = await send(appliance.port, route, json, [body], cookie);
          expect(answer.status, `${route} ${cookie ? 'admin' : 'anonymous'}`).toBe(400);
          expect(JSON.parse(answer.text).error).toBe(
            'request body nests objects and arrays more than 32 levels deep (allowed: at most 32)',
          );
        }
      }
    }
  });

  it('lets 32 levels through to validation, which answers 400 without echoing a password', async () => {
    const nested = `${'{"a":'.repeat(31)}"${SECRET}"${'}'.repeat(31)}`;
    for (const route of routes) {
      const answer = await send(
        appliance.port,
        route,
        json,
        [`{"password":${nested},"x":"${SECRET}"}`],
        adminCookie,
      );
      expect(answer.status, route).toBeGreaterThanOrEqual(400);
      expect(answer.status, route).toBeLessThan(500);
      expect(answer.text).not.toContain(SECRET);
    }
  });

  it('refuses a declared 1 MB body before reading it, and a streamed one at 256 KB (413)', async () => {
    const big = Buffer.alloc(1024 * 1024, 0x20);
    for (const route of routes) {
      const declared = await send(appliance.port, route, { ...json, 'Content-Length': String(big.length) }, [
        big,
      ]);
      expect(declared.status, route).toBe(413);
      expect(JSON.parse(declared.text).error).toBe(
        'request body is larger than 262144 bytes (allowed: at most 256 KB)',
      );
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const streamed = await send(appliance.port, route, { ...json, 'Transfer-Encoding': 'chunked' }, [
        '[',
        ...Array.from({ length: 6 }, () => chunk),
      ]);
      expect(streamed.status, route).toBe(413);
    }
  });

  it('answers invalid JSON holding a password with a 400 that repeats none of it', async () => {
    const bodies = [
      `{"username":"admin","password":"${SECRET}",]`,
      `{"username":"admin","password":"${SECRET}`,
      `{"password": ${SECRET}}`,
    ];
    for (const route of routes) {
      for (const body of bodies) {
        const answer = await send(appliance.port, route, json, [body]);
        expect(answer.status, route).toBe(400);
        expect(answer.text).not.toContain(SECRET);
        expect(answer.text).not.toContain('hunter2');
        expect(JSON.parse(answer.text).error).toMatch(
          /^request body is not valid JSON: .* \(the body is not repeated here\)$/,
        );
      }
    }
  });

  it('gives a JSON request without a body a 4xx that does not contradict itself, and non-JSON a 415', async () => {
    const empty = await send(appliance.port, '/api/login', json, []);
    expect(empty.status).toBe(400);
    expect(JSON.parse(empty.text).error).toContain('missing field "username"');
    const form = await send(appliance.port, '/api/login', { 'Content-Type': 'text/plain' }, [
      `password=${SECRET}`,
    ]);
    expect(form.status).toBe(415);
    expect(JSON.parse(form.text).error).toBe(
      'POST /api/login needs Content-Type: application/json (got "text/plain")',
    );
    const latin = await send(
      appliance.port,
      '/api/login',
      { 'Content-Type': 'application/json; charset=latin1' },
      ['{}'],
    );
    expect(latin.status).toBe(415);
  });

  it('logged no error and no stack trace for any of these requests', () => {
    expect(errorLogs).not.toHaveBeenCalled();
  });
});
