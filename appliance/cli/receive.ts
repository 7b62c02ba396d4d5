/**
 * `canthus receive`: the reference receiver of the uplink contract (docs/uplink.md). It subscribes
 * to `canthus/+/#` on a broker (every appliance at once) or accepts webhooks, checks what arrives
 * (webhook signature and timestamp, envelope shape), deduplicates on source + id, writes each first
 * copy as one JSON line, and reports gaps (a person whose first event is not `new`, events of a
 * person out of order). Integrators use it to try the contract; the tests use it to judge delivery.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { connect, type IPublishPacket, type MqttClient } from 'mqtt';
import { CanthusError } from '../core/errors.ts';
import { type Envelope, verifyWebhook } from '../core/uplink.ts';
import { numberIn, parsePort } from './options.ts';

export interface ReceiverOptions {
  /** Broker URL (mqtt://, mqtts://, ws://, wss://). */
  mqtt?: string;
  /** Webhook port (0: any free port). */
  webhookPort?: number;
  host?: string;
  /** JSON lines file, or `-` for stdout. */
  out: string;
  /** The webhook shared secret. */
  secret?: string;
  /** Webhook timestamps further than this from now are refused, s. */
  toleranceS?: number;
  prefix?: string;
  clientId?: string;
  username?: string;
  password?: string;
  caFile?: string;
  /** Gap reports and refusals; stderr by default. */
  report?: (line: string) => void;
}

/** One line of the output file. */
export interface ReceivedLine {
  receivedAt: string;
  via: 'mqtt' | 'webhook';
  topic: string | null;
  applianceId: string | null;
  /** `availability` lines carry `online`/`offline`; envelope lines carry the envelope. */
  availability?: string;
  /** Video frames (binary JPEG on `…/video/<cameraId>`): what arrived, not the picture. */
  video?: {
    cameraId: string;
    bytes: number;
    seq: number | null;
    capturedAt: string | null;
    quality: number | null;
  };
  envelope?: Envelope;
}

export interface ReceiverStats {
  /** First copies of events written. */
  events: number;
  duplicates: number;
  /** Webhooks refused (signature, timestamp, shape) and MQTT messages that are not envelopes. */
  rejected: number;
  gaps: string[];
}

export interface Receiver {
  /** The webhook port actually bound (0 without webhooks). */
  readonly port: number;
  readonly lines: ReceivedLine[];
  stats(): ReceiverStats;
  stop(): Promise<void>;
}

const EVENT_TOPICS = new Set(['screening', 'alert', 'snapshot', 'calibration', 'registration']);
const MAX_BODY_BYTES = 1 << 20;

export async function startReceiver(options: ReceiverOptions): Promise<Receiver> {
  if (!options.mqtt && options.webhookPort === undefined)
    throw new CanthusError('receive: give --mqtt URL or --webhook-port N');
  if (options.webhookPort !== undefined && !options.secret)
    throw new CanthusError('receive: webhooks are verified; give --secret (or CANTHUS_WEBHOOK_SECRET)');
  const report = options.report ?? ((line: string) => process.stderr.write(`canthus receive: ${line}\n`));
  const lines: ReceivedLine[] = [];
  const seen = new Set<string>();
  const persons = new Map<string, { lastId: string; ended: boolean }>();
  const stats: ReceiverStats = { events: 0, duplicates: 0, rejected: 0, gaps: [] };
  const write = (line: ReceivedLine) => {
    lines.push(line);
    const text = `${JSON.stringify(line)}\n`;
    if (options.out === '-') process.stdout.write(text);
    else appendFileSync(options.out, text);
  };
  const gap = (message: string) => {
    stats.gaps.push(message);
    report(`gap: ${message}`);
  };

  /** Takes an envelope; false when it is a duplicate. */
  const accept = (envelope: Envelope, via: ReceivedLine['via'], topic: string | null): boolean => {
    const key = `${envelope.source}|${envelope.id}`;
    if (seen.has(key)) {
      stats.duplicates++;
      return false;
    }
    seen.add(key);
    stats.events++;
    if (envelope.type.startsWith('canthus.screening.') && envelope.subject) {
      const person = `${envelope.source}|${envelope.subject}`;
      const kind = envelope.type.slice('canthus.screening.'.length);
      const known = persons.get(person);
      if (kind === 'new' && (!known || known.ended))
        persons.set(person, { lastId: envelope.id, ended: false });
      else if (!known || known.ended) {
        gap(`${person}: first event is "${kind}" (${envelope.id}); its "new" is missing`);
        persons.set(person, { lastId: envelope.id, ended: kind === 'end' });
      } else {
        if (envelope.id < known.lastId)
          gap(`${person}: ${envelope.id} arrived after the later ${known.lastId}`);
        else known.lastId = envelope.id;
        if (kind === 'end') known.ended = true;
      }
    }
    write({
      receivedAt: new Date().toISOString(),
      via,
      topic,
      applianceId: envelope.source.split('/')[0],
      envelope,
    });
    return true;
  };

  let client: MqttClient | null = null;
  if (options.mqtt) {
    const prefix = options.prefix ?? 'canthus';
    client = connect(options.mqtt, {
      protocolVersion: 5,
      // Unique even for two receivers started in the same millisecond by one process: a broker
      // drops the older of two connections with one client id.
      clientId: options.clientId ?? `canthus-receive-${process.pid}-${randomBytes(6).toString('hex')}`,
      // A persistent session: what is published while this receiver reconnects waits at the broker.
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
      reconnectPeriod: 500,
      username: options.username,
      password: options.password,
      ca: options.caFile ? readFileSync(options.caFile) : undefined,
    });
    const c = client;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new CanthusError(`receive: no connection to ${options.mqtt} within 10 s`)),
        10_000,
      );
      c.once('connect', () => {
        c.subscribe(`${prefix}/+/#`, { qos: 1 }, (error) => {
          clearTimeout(timer);
          if (error) reject(new CanthusError(`receive: cannot subscribe: ${error.message}`));
          else resolve();
        });
      });
    });
    c.on('error', (error) => report(`broker: ${error.message}`));
    c.on('message', (topic: string, payload: Buffer, packet: IPublishPacket) => {
      const parts = topic.split('/');
      const applianceId = parts[1] ?? null;
      const rest = parts.slice(2).join('/');
      if (rest.startsWith('request/')) return;
      if (rest.startsWith('video/')) {
        // Frames are not deduplicated or kept (QoS 0, live only): one line says what came.
        const user = (packet.properties?.userProperties ?? {}) as Record<string, string | string[]>;
        const one = (key: string) => (typeof user[key] === 'string' ? (user[key] as string) : null);
        const number = (key: string) => (one(key) === null ? null : Number(one(key)));
        write({
          receivedAt: new Date().toISOString(),
          via: 'mqtt',
          topic,
          applianceId,
          video: {
            cameraId: rest.slice('video/'.length),
            bytes: payload.length,
            seq: number('seq'),
            capturedAt: one('captured-at'),
            quality: number('quality'),
          },
        });
        return;
      }
      if (rest === 'availability') {
        write({
          receivedAt: new Date().toISOString(),
          via: 'mqtt',
          topic,
          applianceId,
          availability: payload.toString('utf8'),
        });
        return;
      }
      let envelope: unknown;
      try {
        envelope = JSON.parse(payload.toString('utf8'));
      } catch {
        stats.rejected++;
        report(`${topic}: not JSON`);
        return;
      }
      if (rest.startsWith('response/')) {
        write({
          receivedAt: new Date().toISOString(),
          via: 'mqtt',
          topic,
          applianceId,
          envelope: envelope as Envelope,
        });
        return;
      }
      const problem = envelopeProblem(envelope);
      if (problem) {
        stats.rejected++;
        report(`${topic}: ${problem}`);
        return;
      }
      if (EVENT_TOPICS.has(rest) || rest === 'health' || rest.startsWith('reference/'))
        accept(envelope as Envelope, 'mqtt', topic);
    });
  }

  let server: http.Server | null = null;
  let port = 0;
  if (options.webhookPort !== undefined) {
    const secret = options.secret!;
    server = http.createServer((request, response) => {
      const answer = (status: number, body: Record<string, unknown>) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (request.method !== 'POST') return answer(405, { error: 'POST only' });
      const chunks: Buffer[] = [];
      let size = 0;
      request.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      });
      request.on('end', () => {
        if (size > MAX_BODY_BYTES) {
          stats.rejected++;
          return answer(413, { error: `body over ${MAX_BODY_BYTES} bytes` });
        }
        const body = Buffer.concat(chunks).toString('utf8');
        const header = (name: string) => {
          const value = request.headers[name];
          return Array.isArray(value) ? value[0] : value;
        };
        const id = header('webhook-id');
        const verdict = verifyWebhook({
          secret,
          id,
          timestamp: header('webhook-timestamp'),
          signature: header('webhook-signature'),
          body,
          toleranceS: options.toleranceS ?? 300,
        });
        if (!verdict.ok) {
          stats.rejected++;
          report(`webhook ${id ?? '(no id)'} refused: ${verdict.reason}`);
          return answer(401, { error: verdict.reason });
        }
        let envelope: unknown;
        try {
          envelope = JSON.parse(body);
        } catch {
          stats.rejected++;
          return answer(400, { error: 'body is not JSON' });
        }
        const problem =
          envelopeProblem(envelope) ??
          ((envelope as Envelope).id !== id ? 'webhook-id differs from the envelope id' : null);
        if (problem) {
          stats.rejected++;
          report(`webhook ${id} refused: ${problem}`);
          return answer(400, { error: problem });
        }
        const first = accept(envelope as Envelope, 'webhook', null);
        answer(200, { received: true, duplicate: !first });
      });
    });
    const s = server;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(options.webhookPort, options.host ?? '127.0.0.1', () => resolve());
    });
    port = (s.address() as AddressInfo).port;
  }

  return {
    port,
    lines,
    stats: () => ({ ...stats, gaps: [...stats.gaps] }),
    async stop() {
      if (client) {
        const c = client;
        await new Promise<void>((resolve) => c.end(false, {}, () => resolve()));
      }
      if (server) {
        const s = server;
        await new Promise<void>((resolve) => s.close(() => resolve()));
        s.closeAllConnections();
      }
    },
  };
}

/** Why a message is not an uplink envelope, or null. */
export function envelopeProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const e = value as Record<string, unknown>;
  for (const field of ['specversion', 'id', 'source', 'type', 'time'] as const)
    if (typeof e[field] !== 'string' || (e[field] as string).length === 0)
      return `envelope without "${field}"`;
  if (!('data' in e)) return 'envelope without "data"';
  return null;
}

interface ReceiveCliOptions {
  mqtt?: string;
  webhookPort?: number;
  host: string;
  out: string;
  secret?: string;
  tolerance: number;
  prefix: string;
  clientId?: string;
  username?: string;
  password?: string;
  ca?: string;
}

export function registerReceiveCommand(program: Command): Command {
  return program
    .command('receive')
    .description('reference receiver for the uplink: verifies, dedupes and records events as JSON lines')
    .option('--mqtt <url>', 'subscribe to PREFIX/+/# on this broker (every appliance)')
    .option('--webhook-port <n>', 'accept signed webhooks on this port', parsePort)
    .option('--host <address>', 'webhook listen address', '127.0.0.1')
    .requiredOption('--out <file|->', 'JSON lines file to append to, - for stdout')
    .option('--secret <secret>', 'webhook shared secret (default: $CANTHUS_WEBHOOK_SECRET)')
    .option(
      '--tolerance <s>',
      'accepted webhook timestamp skew, s',
      numberIn('tolerance', 1, 86_400, true),
      300,
    )
    .option('--prefix <prefix>', 'topic prefix', 'canthus')
    .option('--client-id <id>', 'MQTT client id (a persistent session under this id)')
    .option('--username <name>', 'broker user name')
    .option('--password <password>', 'broker password (default: $CANTHUS_MQTT_PASSWORD)')
    .option('--ca <file>', 'PEM CA bundle for mqtts:// or wss://')
    .action(async (options: ReceiveCliOptions) => {
      if (Boolean(options.mqtt) === (options.webhookPort !== undefined))
        throw new CanthusError('receive: give exactly one of --mqtt URL or --webhook-port N');
      const receiver = await startReceiver({
        mqtt: options.mqtt,
        webhookPort: options.webhookPort,
        host: options.host,
        out: options.out,
        secret: options.secret ?? process.env.CANTHUS_WEBHOOK_SECRET,
        toleranceS: options.tolerance,
        prefix: options.prefix,
        clientId: options.clientId,
        username: options.username,
        password: options.password ?? process.env.CANTHUS_MQTT_PASSWORD,
        caFile: options.ca,
      });
      process.stderr.write(
        `canthus receive: ${options.mqtt ? `subscribed to ${options.prefix}/+/# on ${options.mqtt}` : `webhooks on http://${options.host}:${receiver.port}/`}, writing ${options.out}\n`,
      );
      const shutdown = async () => {
        await receiver.stop();
        const s = receiver.stats();
        process.stderr.write(
          `canthus receive: ${s.events} events, ${s.duplicates} duplicates dropped, ${s.rejected} rejected, ${s.gaps.length} gaps\n`,
        );
        process.exit(0);
      };
      process.once('SIGINT', () => void shutdown());
      process.once('SIGTERM', () => void shutdown());
    });
}
