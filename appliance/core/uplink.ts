/**
 * The uplink contract shared by the appliance's uplink feature and the reference receiver
 * (`canthus receive`): topic names, the CloudEvents-style envelope and the Standard Webhooks
 * signature. docs/uplink.md is the prose version; docs/uplink-schemas/ the JSON Schemas.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SPEC_VERSION = '1.0';

/** Outbox topics and the envelope `type` each becomes. */
export type OutboxTopic = 'screening' | 'alert' | 'snapshot' | 'calibration' | 'registration';
export const OUTBOX_TOPICS: readonly OutboxTopic[] = [
  'screening',
  'alert',
  'snapshot',
  'calibration',
  'registration',
];

/** The commands an appliance answers on `…/request/<name>`. */
export const COMMANDS = ['ping', 'health', 'events', 'snapshot', 'video/start', 'video/stop'] as const;
export type CommandName = (typeof COMMANDS)[number];

export interface Envelope<T = unknown> {
  specversion: typeof SPEC_VERSION;
  /** Unique per source; receivers deduplicate on it (the same on every retry). */
  id: string;
  /** `<applianceId>/<cameraId>`, or `<applianceId>` for appliance-wide messages. */
  source: string;
  /** e.g. `canthus.screening.end`, `canthus.alert`. */
  type: string;
  /** When the event happened (ISO 8601). */
  time: string;
  datacontenttype: 'application/json';
  /** The person (tracker id) for screening events and alerts. */
  subject?: string;
  /** True when the event was produced before the current connection (a replay after an outage). */
  historical: boolean;
  data: T;
}

export function topics(prefix: string, applianceId: string) {
  const base = `${prefix}/${applianceId}`;
  return {
    base,
    availability: `${base}/availability`,
    health: `${base}/health`,
    event: (topic: OutboxTopic) => `${base}/${topic}`,
    reference: (cameraId: string) => `${base}/reference/${cameraId}`,
    video: (cameraId: string) => `${base}/video/${cameraId}`,
    requests: `${base}/request/#`,
    requestPrefix: `${base}/request/`,
    response: (name: string) => `${base}/response/${name}`,
  };
}

/** Envelope `id` of an outbox row. An alert (and its snapshot) shares its event id with the
 * screening event that raised it, so its envelope id gets a suffix: `source` + `id` stay unique, as
 * CloudEvents wants. */
export function envelopeId(topic: string, id: string): string {
  return topic === 'alert' ? `${id}-alert` : topic === 'snapshot' ? `${id}-snapshot` : id;
}

/** Builds the envelope of an outbox row (payload as stored: JSON text). */
export function outboxEnvelope(
  applianceId: string,
  row: { topic: string; id: string; payload: string; createdAt: number },
  historical: boolean,
): Envelope {
  const payload = JSON.parse(row.payload) as Record<string, unknown>;
  const cameraId = typeof payload.cameraId === 'string' ? payload.cameraId : null;
  const source = cameraId ? `${applianceId}/${cameraId}` : applianceId;
  const at = typeof payload.at === 'number' ? payload.at : row.createdAt;
  const base = { specversion: SPEC_VERSION, id: envelopeId(row.topic, row.id), source, historical } as const;
  switch (row.topic) {
    case 'screening':
      return {
        ...base,
        type: `canthus.screening.${String(payload.kind)}`,
        time: new Date(at).toISOString(),
        datacontenttype: 'application/json',
        subject: String(payload.personId),
        data: payload,
      };
    case 'alert':
      return {
        ...base,
        type: 'canthus.alert',
        time: new Date(at).toISOString(),
        datacontenttype: 'application/json',
        subject: String(payload.personId),
        data: { screeningEventId: row.id, screening: payload },
      };
    case 'snapshot':
      // Stored ready to send (images already base64): see the uplink feature's snapshots.
      return {
        ...base,
        type: 'canthus.snapshot',
        time: new Date(at).toISOString(),
        datacontenttype: 'application/json',
        subject: String(payload.personId),
        data: payload,
      };
    default: {
      const committed = typeof payload.committedAt === 'string' ? payload.committedAt : null;
      return {
        ...base,
        type: `canthus.${row.topic}.committed`,
        time: committed ?? new Date(row.createdAt).toISOString(),
        datacontenttype: 'application/json',
        data: payload,
      };
    }
  }
}

/** A secret as Standard Webhooks reads it: `whsec_<base64>` is base64 key material, else UTF-8. */
function secretKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
}

/** `v1,<base64 HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>` (Standard Webhooks). */
export function signWebhook(secret: string, id: string, timestampS: number, body: string): string {
  const mac = createHmac('sha256', secretKey(secret)).update(`${id}.${timestampS}.${body}`).digest('base64');
  return `v1,${mac}`;
}

export type WebhookVerdict = { ok: true } | { ok: false; reason: string };

/**
 * Checks a webhook as a receiver must: headers present, timestamp within `toleranceS` of now (a
 * replayed capture is refused), and one of the space-separated `v1,` signatures matching the body
 * exactly as received.
 */
export function verifyWebhook(options: {
  secret: string;
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
  body: string;
  toleranceS?: number;
  nowS?: number;
}): WebhookVerdict {
  const { id, timestamp, signature, body } = options;
  if (!id || !timestamp || !signature)
    return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature header' };
  if (!/^\d{1,12}$/.test(timestamp))
    return { ok: false, reason: `webhook-timestamp "${timestamp}" is not a number` };
  const now = options.nowS ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceS ?? 300;
  const age = now - Number(timestamp);
  if (Math.abs(age) > tolerance)
    return { ok: false, reason: `webhook-timestamp is ${age} s from now (allowed: ±${tolerance} s)` };
  const expected = Buffer.from(signWebhook(options.secret, id, Number(timestamp), body).slice(3), 'base64');
  for (const candidate of signature.split(' ')) {
    const [version, value] = candidate.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const given = Buffer.from(value, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, reason: 'webhook-signature does not match the body' };
}
