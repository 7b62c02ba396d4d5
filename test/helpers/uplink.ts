/**
 * Test helpers for the uplink: a real Mosquitto on a free loopback port with its own config file,
 * an appliance run as a child process (so it can be SIGKILLed), and the SQLite store read back.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import formats from 'ajv-formats';
import Database from 'better-sqlite3';
import { waitFor } from './tempDir.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MOSQUITTO = '/usr/sbin/mosquitto';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Mosquitto with persistence (sessions and retained messages survive a stop/start). */
export class Broker {
  readonly url: string;
  #child: ChildProcess | null = null;
  readonly #conf: string;
  log = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
    lines: string[] = [`listener ${port} 127.0.0.1`, 'allow_anonymous true'],
  ) {
    // Started as root, mosquitto drops to its own user and then cannot write its persistence file
    // into the test's 0700 folder: sessions (and what waits in them) would not survive a restart.
    if (process.getuid?.() === 0 && !lines.includes('user root')) lines = ['user root', ...lines];
    this.url = `mqtt://127.0.0.1:${port}`;
    mkdirSync(dir, { recursive: true });
    this.#conf = path.join(dir, 'mosquitto.conf');
    writeFileSync(
      this.#conf,
      [...lines, 'persistence true', `persistence_location ${dir}/`, 'max_queued_messages 100000', ''].join(
        '\n',
      ),
    );
  }

  static async start(dir: string): Promise<Broker> {
    const broker = new Broker(dir, await freePort());
    await broker.start();
    return broker;
  }

  /**
   * A broker with its own listener lines (TLS, passwords): `lines(ports)` gets `extraPorts` + 1
   * free ports; the first is `url`'s (put a plain listener on it for the test's receiver).
   */
  static async custom(
    dir: string,
    extraPorts: number,
    lines: (ports: number[]) => string[],
  ): Promise<Broker> {
    const ports = [await freePort()];
    for (let i = 0; i < extraPorts; i++) ports.push(await freePort());
    const broker = new Broker(dir, ports[0], lines(ports));
    await broker.start();
    return broker;
  }

  /** SIGHUP: mosquitto reloads its configuration, password file included. */
  reload(): void {
    this.#child?.kill('SIGHUP');
  }

  async start(): Promise<void> {
    const child = spawn(MOSQUITTO, ['-c', this.#conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk: Buffer) => {
      this.log += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.log += chunk.toString();
    });
    this.#child = child;
    await waitFor(() => accepts(this.port), 10_000, `mosquitto on port ${this.port} (log: ${this.log})`);
  }

  /** SIGTERM: mosquitto saves its persistence file and exits. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    this.#child = null;
  }
}

export interface ApplianceRun {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `canthus run --headless` as a child; killed after `limitMs` at the latest (never hangs the suite). */
export function runAppliance(args: { data: string; source: string; limitMs?: number }): ApplianceRun {
  return spawnBounded(
    ['bin/canthus.js', 'run', '--headless', '--data', args.data, '--source', args.source],
    args.limitMs,
  );
}

/**
 * Several appliances in one child process (test/helpers/fleetHost.ts), one per data folder, each
 * with the camera of its own configuration; exits 0 once all have run their recordings and stopped.
 */
export function runFleetHost(dataDirs: string[], limitMs?: number): ApplianceRun {
  return spawnBounded(['--import', 'tsx', 'test/helpers/fleetHost.ts', ...dataDirs], limitMs);
}

function spawnBounded(argv: string[], limitMs = 120_000): ApplianceRun {
  const child = spawn(process.execPath, argv, {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    // The log says what went wrong when a run fails (silent by default under the test runner).
    env: { ...process.env, CANTHUS_LOG_LEVEL: 'info' },
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const exited = new Promise<number | null>((resolve) =>
    // 'close', not 'exit': the output is complete only once the pipes are closed.
    child.once('close', (code) => {
      clearTimeout(killer);
      resolve(code);
    }),
  );
  return { child, output: () => output, exited };
}

/** Writes DATA/config.json. */
export function writeConfig(data: string, config: Record<string, unknown>): void {
  mkdirSync(data, { recursive: true });
  writeFileSync(path.join(data, 'config.json'), JSON.stringify(config));
}

/** What the appliance committed: screening event ids by person (in id order) and alert ids. */
export function storedEvents(data: string): {
  screening: string[];
  alerts: string[];
  persons: number;
  unsent: number;
  parked: number;
} {
  const db = new Database(path.join(data, 'events.sqlite'), { readonly: true });
  try {
    const ids = (sql: string) => (db.prepare(sql).all() as { id: string }[]).map((row) => row.id);
    return {
      screening: ids('SELECT id FROM screening_events ORDER BY id'),
      alerts: ids('SELECT id FROM alerts ORDER BY id'),
      persons: (db.prepare('SELECT count(*) AS n FROM persons').get() as { n: number }).n,
      unsent: (
        db.prepare('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL').get() as {
          n: number;
        }
      ).n,
      parked: (
        db.prepare('SELECT count(*) AS n FROM outbox WHERE parked_at IS NOT NULL').get() as { n: number }
      ).n,
    };
  } finally {
    db.close();
  }
}

/** The schemas of docs/uplink-schemas, checked with ajv as an integrator would. */
export function uplinkSchemas(): (schema: string, value: unknown) => string | null {
  const dir = path.join(REPO_ROOT, 'docs/uplink-schemas');
  const ajv = new Ajv({ allErrors: true, strict: false });
  // ajv-formats is CommonJS: its function is the default export's default under NodeNext.
  (formats as unknown as { default: (a: Ajv) => void }).default(ajv);
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.json')))
    ajv.addSchema(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
  return (schema, value) => {
    const validate = ajv.getSchema(`https://canthus.local/schemas/uplink/${schema}.schema.json`);
    if (!validate) throw new Error(`no schema ${schema}`);
    return validate(value) ? null : ajv.errorsText(validate.errors);
  };
}

/** The schema a message of this envelope type must follow. */
export function schemaFor(type: string): string {
  if (type.startsWith('canthus.screening.')) return 'screening';
  if (type === 'canthus.alert') return 'alert';
  if (type === 'canthus.snapshot') return 'snapshot';
  if (type === 'canthus.health') return 'health';
  if (type === 'canthus.reference.state') return 'reference';
  return 'committed';
}

/**
 * A webhook endpoint in front of a receiver (`forward`): while `failing()` names a status it answers
 * that status and records the refused event's id (and when); otherwise it forwards the request.
 */
export async function flakyEndpoint(
  failing: () => number | null,
  forward: { port: number },
): Promise<{ url: string; refused: { id: string; at: number }[]; close: () => Promise<void> }> {
  const refused: { id: string; at: number }[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const status = failing();
      if (status !== null) {
        refused.push({ id: String(request.headers['webhook-id']), at: Date.now() });
        response.writeHead(status).end();
        return;
      }
      const upstream = http.request(
        { host: '127.0.0.1', port: forward.port, method: 'POST', path: '/', headers: request.headers },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502);
          answer.pipe(response);
        },
      );
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/hook`,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
