/**
 * Both transports at once: a command centre on MQTT (a real Mosquitto) and a simple integration on
 * webhooks (the reference receiver behind an endpoint that answers 500 for a while). Each event
 * arrives once on each; an outbox row is marked sent only once both acknowledged it, so the
 * webhook's failures hold rows the broker already has, and nothing is lost on either side.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../../appliance/cli/receive.ts';
import { simulateRecording } from '../../appliance/cli/simulate.ts';
import type { Envelope } from '../../appliance/core/uplink.ts';
import { tempDir } from '../helpers/tempDir.ts';
import {
  Broker,
  flakyEndpoint,
  runAppliance,
  storedEvents,
  uplinkSchemas,
  writeConfig,
} from '../helpers/uplink.ts';

const SECRET = 'whsec_dGVzdC1zZWNyZXQtZm9yLXRoZS11cGxpbmstdGVzdHM=';
/** How long the webhook endpoint answers 500 from its first request. */
const FAILING_MS = 4000;

let dir: string;
let recording: string;
let broker: Broker;

beforeAll(async () => {
  dir = tempDir('canthus-uplink-dual-');
  recording = path.join(dir, 'rec');
  simulateRecording({ out: recording, profile: 'simulator', seed: 5, people: 3, feverRate: 0.5 });
  broker = await Broker.start(path.join(dir, 'broker'));
});
afterAll(async () => {
  await broker?.stop();
});

/** 500 for FAILING_MS from the first request, then forwards to the reference receiver. */
function failingThenForwarding(receiver: Receiver) {
  let failUntil: number | null = null;
  return flakyEndpoint(() => {
    failUntil ??= Date.now() + FAILING_MS;
    return Date.now() < failUntil ? 500 : null;
  }, receiver);
}

const screeningIds = (receiver: Receiver) =>
  receiver.lines
    .filter((l) => l.envelope?.type.startsWith('canthus.screening.'))
    .map((l) => (l.envelope as Envelope).id);
const alertIds = (receiver: Receiver) =>
  receiver.lines
    .filter((l) => l.envelope?.type === 'canthus.alert')
    .map((l) => (l.envelope as { data: { screeningEventId: string } }).data.screeningEventId);

describe('MQTT and webhooks configured together', () => {
  it('delivers each event once on each transport; a row is marked sent only after both acknowledged it', async () => {
    const mqttReceiver = await startReceiver({
      mqtt: broker.url,
      out: path.join(dir, 'mqtt.jsonl'),
      report: () => {},
    });
    const webhookReceiver = await startReceiver({
      webhookPort: 0,
      out: path.join(dir, 'webhook.jsonl'),
      secret: SECRET,
      report: () => {},
    });
    const endpoint = await failingThenForwarding(webhookReceiver);
    try {
      const data = path.join(dir, 'box');
      writeConfig(data, {
        applianceId: 'box-dual',
        uplink: {
          enabled: true,
          transport: ['mqtt', 'webhook'],
          mqtt: { url: broker.url, keepaliveS: 5, reconnectMs: 300 },
          webhook: { url: endpoint.url, secret: SECRET, timeoutMs: 2000 },
          retryInitialMs: 100,
          retryMaxMs: 800,
          flushOnStopMs: 15_000,
          snapshot: 'off',
        },
      });
      const run = runAppliance({ data, source: `recording:${recording}?pace=fast` });
      expect(await run.exited, run.output()).toBe(0);
      const stored = storedEvents(data);
      expect(stored.unsent, 'rows left unsent after both transports recovered').toBe(0);
      expect(stored.alerts.length, 'the recording should raise an alert').toBeGreaterThan(0);
      expect(endpoint.refused.length, 'the webhook endpoint never answered 500').toBeGreaterThan(0);

      // Every event on each transport, and once: no duplicate reached either receiver.
      for (const receiver of [mqttReceiver, webhookReceiver]) {
        expect(screeningIds(receiver).sort()).toEqual(stored.screening);
        expect(alertIds(receiver).sort()).toEqual(stored.alerts);
        expect(receiver.stats()).toMatchObject({ duplicates: 0, rejected: 0, gaps: [] });
      }

      // The outbox waited for the webhook: each row refused with a 500 had reached the broker's
      // receiver well before, yet was marked sent only after the webhook receiver had it.
      const db = new Database(path.join(data, 'events.sqlite'), { readonly: true });
      const sentAt = new Map(
        (
          db.prepare('SELECT topic, id, sent_at AS sentAt FROM outbox').all() as {
            topic: string;
            id: string;
            sentAt: number;
          }[]
        ).map((row) => [row.topic === 'alert' ? `${row.id}-alert` : row.id, row.sentAt]),
      );
      const notBoth = (
        db.prepare('SELECT count(*) AS n FROM outbox WHERE acks <> 3 OR sent_at IS NULL').get() as {
          n: number;
        }
      ).n;
      db.close();
      expect(notBoth, 'rows not acknowledged by both transports (acks: bit 1 MQTT, bit 2 webhook)').toBe(0);
      const receivedAt = (receiver: Receiver, id: string) =>
        Date.parse(receiver.lines.find((l) => l.envelope?.id === id)!.receivedAt);
      const refusedIds = [...new Set(endpoint.refused.map((r) => r.id))];
      for (const id of refusedIds) {
        const sent = sentAt.get(id);
        expect(sent, `outbox row of ${id}`).toBeDefined();
        expect(receivedAt(mqttReceiver, id), `${id} reached MQTT first`).toBeLessThan(
          receivedAt(webhookReceiver, id),
        );
        expect(sent!, `${id} marked sent before the webhook had it`).toBeGreaterThanOrEqual(
          receivedAt(webhookReceiver, id),
        );
      }
      // Health (MQTT, at connect) shows each transport on its own, and follows its schema.
      const health = mqttReceiver.lines.find((l) => l.envelope?.type === 'canthus.health')?.envelope;
      expect(health, 'no health message').toBeDefined();
      expect(uplinkSchemas()('health', health)).toBeNull();
      const uplink = (health!.data as { uplink: { transport: unknown; transports: Record<string, unknown> } })
        .uplink;
      expect(uplink.transport).toEqual(['mqtt', 'webhook']);
      expect(Object.keys(uplink.transports).sort()).toEqual(['mqtt', 'webhook']);
      // What waited past the webhook's failures reached it flagged historical.
      expect(webhookReceiver.lines.some((l) => l.envelope?.historical)).toBe(true);
    } finally {
      await endpoint.close();
      await mqttReceiver.stop();
      await webhookReceiver.stop();
    }
  }, 90_000);
});
