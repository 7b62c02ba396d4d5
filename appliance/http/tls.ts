/**
 * HTTPS served by the appliance itself: a configured certificate and key, or a self-signed
 * certificate made on first start (DATA/tls/, kept across starts) whose SHA-256 fingerprint is
 * logged so staff can compare it with what their browser shows before trusting it. With TLS on,
 * a plain-HTTP port (optional) only redirects, and session cookies are Secure.
 *
 * Node's crypto cannot issue X.509 certificates; the self-signed one is made by the `openssl`
 * command of the Debian package `openssl` (installed by scripts/setup.sh).
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import path from 'node:path';
import type { ApplianceConfig } from '../config/load.ts';
import { CanthusError } from '../core/errors.ts';
import { ensurePrivateDir, FILE_MODE } from '../store/jsonFile.ts';

export interface TlsCredentials {
  cert: Buffer;
  key: Buffer;
  /** SHA-256 fingerprint as browsers show it (AA:BB:…). */
  fingerprint256: string;
  selfSigned: boolean;
  certFile: string;
}

export function tlsEnabled(config: ApplianceConfig): boolean {
  const tls = config.security.tls;
  return (tls.certFile !== null && tls.keyFile !== null) || tls.selfSigned;
}

/** Secure cookies: as configured, or (auto) whenever the appliance serves TLS itself. */
export function secureCookies(config: ApplianceConfig): boolean {
  const setting = config.security.secureCookies;
  return setting === 'auto' ? tlsEnabled(config) : setting;
}

/** The certificate and key to serve, or null when TLS is off. Refuses unusable files clearly. */
export function loadTlsCredentials(config: ApplianceConfig): TlsCredentials | null {
  const tls = config.security.tls;
  if ((tls.certFile === null) !== (tls.keyFile === null)) {
    throw new CanthusError(
      'invalid configuration: /security/tls needs both certFile and keyFile (or neither, with selfSigned: true)',
    );
  }
  if (tls.certFile && tls.keyFile) return readCredentials(tls.certFile, tls.keyFile, false);
  if (!tls.selfSigned) return null;
  const dir = path.join(path.resolve(config.dataDir), 'tls');
  const certFile = path.join(dir, 'self-signed.crt');
  const keyFile = path.join(dir, 'self-signed.key');
  if (!existsSync(certFile) || !existsSync(keyFile))
    makeSelfSigned(dir, certFile, keyFile, config.applianceId);
  return readCredentials(certFile, keyFile, true);
}

function readCredentials(certFile: string, keyFile: string, selfSigned: boolean): TlsCredentials {
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = readFileSync(certFile);
    key = readFileSync(keyFile);
  } catch (error) {
    throw new CanthusError(
      `cannot read the TLS certificate or key (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): ${certFile}, ${keyFile}`,
    );
  }
  let fingerprint256: string;
  try {
    fingerprint256 = new X509Certificate(cert).fingerprint256;
  } catch (error) {
    throw new CanthusError(
      `TLS certificate ${certFile} is not a PEM X.509 certificate: ${(error as Error).message}`,
    );
  }
  return { cert, key, fingerprint256, selfSigned, certFile };
}

function makeSelfSigned(dir: string, certFile: string, keyFile: string, applianceId: string): void {
  ensurePrivateDir(dir);
  const host = hostname();
  const names = [...new Set([host, `${host}.local`, 'localhost'])].map((name) => `DNS:${name}`);
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '825',
        '-subj',
        `/CN=${applianceId}`,
        '-addext',
        `subjectAltName=${[...names, 'IP:127.0.0.1'].join(',')}`,
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 },
    );
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new CanthusError(
      missing
        ? 'security.tls.selfSigned needs the openssl command (Debian package openssl, installed by scripts/setup.sh); or configure certFile and keyFile'
        : `could not make a self-signed certificate with openssl: ${
            String((error as { stderr?: Buffer }).stderr ?? (error as Error).message)
              .trim()
              .split('\n')[0]
          }`,
    );
  }
  chmodSync(keyFile, FILE_MODE);
  chmodSync(certFile, FILE_MODE);
}

/** A plain-HTTP server that only redirects (308) to the same host and path over HTTPS. */
export function httpsRedirectServer(httpsPort: number): Server {
  return createServer((req, res) => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    // Only a plain host name or address: never let a crafted Host header shape the Location.
    if (!/^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])$/.test(host)) {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('this port only redirects to HTTPS\n');
      return;
    }
    const portPart = httpsPort === 443 ? '' : `:${httpsPort}`;
    res.writeHead(308, { Location: `https://${host}${portPart}${req.url ?? '/'}` }).end();
  });
}
