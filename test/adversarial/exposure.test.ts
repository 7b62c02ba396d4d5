/**
 * What the appliance shows to whoever can reach it (issue 11, defects 7 and 8): anonymous health is
 * liveness only; every response carries a CSP without inline scripts; HTTPS with a self-signed
 * certificate whose logged fingerprint is the one served; plain HTTP only redirects; Secure cookies.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../appliance/config/load.ts';
import { log } from '../../appliance/core/log.ts';
import { type Appliance, startAppliance } from '../../appliance/main.ts';
import { tempDir } from '../helpers/tempDir.ts';

const PASSWORD = 'a long passphrase for tests';
const METRICS_TOKEN = 'monitoring-token-0123456789abcdef';
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  fingerprint256?: string;
}

function call(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const secure = url.startsWith('https:');
  return new Promise((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(
      url,
      { method: options.method ?? 'GET', headers: options.headers, rejectUnauthorized: false },
      (res) => {
        // Read now: the socket is detached from the response once it ends.
        const fingerprint256 = secure
          ? (res.socket as TLSSocket).getPeerCertificate().fingerprint256
          : undefined;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            fingerprint256,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const jsonPost = (body: unknown, cookie = '') => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json', ...(cookie ? { Cookie: cookie } : {}) },
  body: JSON.stringify(body),
});

describe('over HTTP: health, headers', () => {
  let appliance: Appliance;
  let base: string;
  let cookie = '';

  beforeAll(async () => {
    const dataDir = tempDir();
    const loaded = loadConfig({ dataDir, port: 0 });
    loaded.config.server.host = '127.0.0.1';
    loaded.config.security.metricsToken = METRICS_TOKEN;
    appliance = await startAppliance({ loaded });
    base = `http://127.0.0.1:${appliance.port}`;
    const token = readFileSync(`${dataDir}/setup-token`, 'utf8').trim();
    const setup = await call(`${base}/api/setup`, jsonPost({ token, username: 'admin', password: PASSWORD }));
    expect(setup.status).toBe(201);
    const setCookie = String((setup.headers['set-cookie'] as string[])[0]);
    expect(setCookie).not.toContain('Secure');
    cookie = setCookie.split(';')[0];
  });
  afterAll(async () => {
    await appliance?.stop();
  });

  it('answers anonymous health with liveness only; staff and the metrics token get the detail', async () => {
    const anonymous = await call(`${base}/api/health`);
    expect(anonymous.status).toBe(200);
    expect(Object.keys(JSON.parse(anonymous.text)).sort()).toEqual(['status', 'version']);
    const wrongToken = await call(`${base}/api/health`, { headers: { Authorization: 'Bearer nope' } });
    expect(Object.keys(JSON.parse(wrongToken.text)).sort()).toEqual(['status', 'version']);
    for (const headers of [{ Cookie: cookie }, { Authorization: `Bearer ${METRICS_TOKEN}` }] as Record<
      string,
      string
    >[]) {
      const detail = JSON.parse((await call(`${base}/api/health`, { headers })).text);
      expect(detail.cameras[0].id).toBe('entrance-1');
      expect(detail.cameras[0].source).toBeDefined();
    }
  });

  it('sends the CSP and the other security headers on every response, pages, files, API answers and refusals', async () => {
    const answers = [
      await call(`${base}/`),
      await call(`${base}/status.js`),
      await call(`${base}/no-such-file`),
      await call(`${base}/api/health`),
      await call(`${base}/api/nothing`),
      await call(`${base}/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain' },
        body: 'x',
      }),
      await call(`${base}/api/login`, jsonPost({ username: 'admin', password: 'wrong password here' })),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 404, 200, 404, 415, 401]);
    for (const answer of answers) {
      expect(answer.headers['content-security-policy']).toBe(CSP);
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['x-frame-options']).toBe('DENY');
      expect(answer.headers['strict-transport-security']).toBeUndefined();
    }
  });

  it('serves a UI that runs under that CSP: no inline script, handler or style', () => {
    const page = readFileSync(new URL('../../ui/index.html', import.meta.url), 'utf8');
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page).not.toMatch(/\son[a-z]+=/);
    expect(page).not.toMatch(/\sstyle=/);
  });
});

describe('over HTTPS with a self-signed certificate', () => {
  let appliance: Appliance;
  const infos = vi.spyOn(log, 'info');

  beforeAll(async () => {
    const loaded = loadConfig({ dataDir: tempDir(), port: 0 });
    loaded.config.server.host = '127.0.0.1';
    loaded.config.security.tls.selfSigned = true;
    loaded.config.security.tls.redirectHttpPort = 0;
    appliance = await startAppliance({ loaded });
  });
  afterAll(async () => {
    await appliance?.stop();
  });

  it('serves the certificate whose SHA-256 fingerprint it logged, with Secure cookies', async () => {
    const logged = infos.mock.calls.find(
      ([fields]) => typeof fields === 'object' && fields && 'sha256Fingerprint' in fields,
    );
    const fingerprint = (logged?.[0] as { sha256Fingerprint?: string } | undefined)?.sha256Fingerprint;
    expect(fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const page = await call(`https://127.0.0.1:${appliance.port}/`);
    expect(page.status).toBe(200);
    expect(page.fingerprint256).toBe(fingerprint);
    expect(page.headers['content-security-policy']).toBe(CSP);
    // HSTS would stop staff from accepting a self-signed certificate after checking it.
    expect(page.headers['strict-transport-security']).toBeUndefined();
    const token = readFileSync(`${appliance.config.dataDir}/setup-token`, 'utf8').trim();
    const setup = await call(
      `https://127.0.0.1:${appliance.port}/api/setup`,
      jsonPost({ token, username: 'admin', password: PASSWORD }),
    );
    expect(setup.status).toBe(201);
    expect(String((setup.headers['set-cookie'] as string[])[0])).toMatch(/; Secure/);
  });

  it('answers plain HTTP only with a redirect to HTTPS', async () => {
    const redirect = infos.mock.calls.find(([, message]) => message === 'plain HTTP only redirects to HTTPS');
    const port = (redirect?.[0] as { port?: number } | undefined)?.port;
    expect(port).toBeGreaterThan(0);
    const answer = await call(`http://127.0.0.1:${port}/api/health?x=1`);
    expect(answer.status).toBe(308);
    expect(answer.headers.location).toBe(`https://127.0.0.1:${appliance.port}/api/health?x=1`);
    const crafted = await call(`http://127.0.0.1:${port}/`, { headers: { Host: 'evil.example/path?' } });
    expect(crafted.status).toBe(400);
  });
});
