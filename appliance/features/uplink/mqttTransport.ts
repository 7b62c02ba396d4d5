/**
 * MQTT 5 to the command centre's broker: availability (retained `online`, last will `offline`),
 * events at QoS 1 (the delivery marks a row sent on PUBACK), retained health and reference states,
 * and requests on `…/request/#`. The `mqtt` package reconnects by itself; it does not keep unsent
 * messages across a restart, which is why the outbox does.
 */
import { readFileSync } from 'node:fs';
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { UplinkConfig } from '../../config/load.ts';
import { CanthusError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { type Envelope, type OutboxTopic, topics } from '../../core/uplink.ts';
import type { OutboxRow } from '../../store/eventStore.ts';
import type { UplinkBudget } from './budget.ts';
import type { SendResult, Transport } from './delivery.ts';

/**
 * A video frame is skipped while the socket still holds more than this unsent: on a slow link the
 * frames would queue in front of the next alert (the budget is an estimate; this is the fact).
 */
const VIDEO_MAX_BUFFERED_BYTES = 32 * 1024;

/** A broker that never acknowledges within this long is treated as a failed send. */
const PUBACK_TIMEOUT_MS = 30_000;

export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'refused';

export interface MqttRequest {
  name: string;
  payload: Buffer;
  correlationData: Buffer | undefined;
}

export class MqttTransport implements Transport {
  readonly name = 'mqtt' as const;
  readonly topics: ReturnType<typeof topics>;
  #client: MqttClient | null = null;
  #state: ConnectionState = 'connecting';
  #connectedSince: number | null = null;
  #lastError: string | null = null;
  #connects = 0;
  #stopping = false;
  readonly #options: IClientOptions;
  readonly #url: string;
  readonly #log: Logger;
  readonly #budget: UplinkBudget | null;

  constructor(
    config: UplinkConfig,
    applianceId: string,
    log: Logger,
    readonly handlers: {
      onConnect: () => void;
      onDisconnect: () => void;
      onRequest: (request: MqttRequest) => void;
    },
    budget: UplinkBudget | null = null,
  ) {
    this.#log = log;
    this.#budget = budget;
    this.#url = config.mqtt.url!;
    this.topics = topics(config.mqtt.topicPrefix, applianceId);
    const mqtt = config.mqtt;
    const file = (name: string, what: string) => {
      try {
        return readFileSync(name);
      } catch (error) {
        throw new CanthusError(
          `uplink: cannot read the ${what} ${name}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
      }
    };
    this.#options = {
      protocolVersion: 5,
      clientId: mqtt.clientId ?? `canthus-${applianceId}`,
      // The outbox is the durable queue; a broker session would only duplicate it.
      clean: true,
      keepalive: mqtt.keepaliveS,
      reconnectPeriod: mqtt.reconnectMs,
      // Keep trying after a refused CONNACK (bad credentials): once the centre fixes the account,
      // the box recovers by itself and sends its backlog, without a visit to the site.
      reconnectOnConnackError: true,
      connectTimeout: 10_000,
      username: mqtt.username,
      password: mqtt.passwordFile
        ? file(mqtt.passwordFile, 'password file').toString('utf8').split('\n')[0]
        : mqtt.password,
      ca: mqtt.caFile ? file(mqtt.caFile, 'CA file') : undefined,
      cert: mqtt.certFile ? file(mqtt.certFile, 'client certificate') : undefined,
      key: mqtt.keyFile ? file(mqtt.keyFile, 'client key') : undefined,
      rejectUnauthorized: mqtt.rejectUnauthorized,
      will: { topic: this.topics.availability, payload: Buffer.from('offline'), qos: 1, retain: true },
    };
  }

  start(): void {
    const client = connect(this.#url, this.#options);
    this.#client = client;
    client.on('connect', () => {
      this.#state = 'connected';
      this.#connectedSince = Date.now();
      this.#connects++;
      if (this.#lastError) this.#log.info({ broker: this.#url }, 'uplink connected again');
      else this.#log.info({ broker: this.#url }, 'uplink connected');
      this.#lastError = null;
      client.publish(this.topics.availability, 'online', { qos: 1, retain: true });
      client.subscribe(this.topics.requests, { qos: 1 }, (error) => {
        if (error) this.#log.warn({ error: error.message }, 'uplink: cannot subscribe to requests');
      });
      this.handlers.onConnect();
    });
    client.on('close', () => {
      if (this.#state === 'connected' && !this.#stopping)
        this.#log.warn({ broker: this.#url }, 'uplink disconnected; reconnecting');
      if (this.#state !== 'refused') this.#state = 'disconnected';
      this.#connectedSince = null;
      this.handlers.onDisconnect();
    });
    client.on('error', (error: Error & { code?: number | string }) => {
      const message = describeMqttError(error);
      // Refused credentials or an unverifiable certificate will not fix themselves: say so once.
      if (message !== this.#lastError)
        this.#log.error({ broker: this.#url, error: message }, 'uplink cannot connect to the broker');
      this.#lastError = message;
      if (isRefusal(error)) this.#state = 'refused';
    });
    client.on('message', (topic: string, payload: Buffer, packet: IPublishPacket) => {
      if (!topic.startsWith(this.topics.requestPrefix)) return;
      this.handlers.onRequest({
        name: topic.slice(this.topics.requestPrefix.length),
        payload,
        correlationData: packet.properties?.correlationData,
      });
    });
  }

  ready(): boolean {
    return this.#state === 'connected' && this.#client?.connected === true;
  }

  connectedSince(): number | null {
    return this.#connectedSince;
  }

  send(row: OutboxRow, envelope: Envelope): Promise<SendResult> {
    return this.publish(this.topics.event(row.topic as OutboxTopic), JSON.stringify(envelope), {
      eventId: envelope.id,
    });
  }

  /** QoS 1 publish; resolves on PUBACK (or a failure, never rejects). */
  publish(
    topic: string,
    body: string,
    options: { eventId?: string; retain?: boolean; correlationData?: Buffer } = {},
  ): Promise<SendResult> {
    const client = this.#client;
    if (!client || !this.ready())
      return Promise.resolve({ ok: false, permanent: false, error: 'not connected' });
    // Everything but video spends the budget without waiting for it (see budget.ts).
    this.#budget?.spend(Buffer.byteLength(body) + topic.length);
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => resolve({ ok: false, permanent: false, error: `no PUBACK within ${PUBACK_TIMEOUT_MS} ms` }),
        PUBACK_TIMEOUT_MS,
      );
      client.publish(
        topic,
        body,
        {
          qos: 1,
          retain: options.retain ?? false,
          properties: {
            contentType: 'application/json',
            ...(options.eventId ? { userProperties: { 'event-id': options.eventId } } : {}),
            ...(options.correlationData ? { correlationData: options.correlationData } : {}),
          },
        },
        (error) => {
          clearTimeout(timer);
          resolve(error ? { ok: false, permanent: false, error: error.message } : { ok: true });
        },
      );
    });
  }

  /**
   * One video frame, QoS 0 (fire and forget: a retried old frame would only compete with alerts),
   * binary JPEG with its camera, frame number, capture time and quality as user properties.
   * False when not connected or the socket is still busy with earlier bytes.
   */
  publishVideo(frame: {
    cameraId: string;
    seq: number;
    capturedAt: number;
    quality: number;
    jpeg: Buffer;
  }): boolean {
    const client = this.#client;
    if (!client || !this.ready()) return false;
    const stream = client.stream as { writableLength?: number } | undefined;
    if ((stream?.writableLength ?? 0) > VIDEO_MAX_BUFFERED_BYTES) return false;
    client.publish(this.topics.video(frame.cameraId), frame.jpeg, {
      qos: 0,
      properties: {
        contentType: 'image/jpeg',
        userProperties: {
          seq: String(frame.seq),
          'captured-at': new Date(frame.capturedAt).toISOString(),
          quality: String(frame.quality),
        },
      },
    });
    return true;
  }

  health() {
    return {
      broker: redactUrl(this.#url),
      state: this.#state,
      connectedSince: this.#connectedSince ? new Date(this.#connectedSince).toISOString() : null,
      connects: this.#connects,
      lastConnectError: this.#lastError,
    };
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get lastError(): string | null {
    return this.#lastError;
  }

  /** A clean goodbye: `offline` by hand (a clean disconnect does not fire the last will). */
  async stop(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    this.#stopping = true;
    if (this.ready()) await this.publish(this.topics.availability, 'offline', { retain: true });
    await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
    this.#client = null;
  }
}

function isRefusal(error: Error & { code?: number | string }): boolean {
  // MQTT 5 reason codes: 134 bad user name or password, 135 not authorized; TLS verification errors.
  return (
    error.code === 134 ||
    error.code === 135 ||
    (typeof error.code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(error.code))
  );
}

function describeMqttError(error: Error & { code?: number | string }): string {
  if (error.code === 134)
    return 'the broker refused the user name or password (MQTT reason 134): check uplink.mqtt.username and password';
  if (error.code === 135)
    return 'the broker refused this client: not authorized (MQTT reason 135): check uplink.mqtt.username, password and the broker ACL';
  if (typeof error.code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(error.code))
    return `the broker's TLS certificate does not verify (${error.code}): check uplink.mqtt.caFile`;
  return error.message || String(error.code);
}

/** The broker URL without a password that may be written into it. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
