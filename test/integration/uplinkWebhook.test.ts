/**
 * The webhook uplink against a real HTTP endpoint: a receiver that answers 500 for a while, then
 * the reference receiver's verdicts; a refusing endpoint parks events; `canthus receive` (the CLI,
 * as a process) rejects a tampered body and a stale timestamp.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver } from '../../appliance/cli/receive.ts';
import { simulateRecording } from '../../appliance/cli/simulate.ts';
import { type Envelope, signWebhook } from '../../appliance/core/uplink.ts';
import { tempDir, waitFor } from '../helpers/tempDir.ts';
import {
  flakyEndpoint,
  freePort,
  REPO_ROOT,
  runAppliance,
  storedEvents,
  writeConfig,
} from '../helpers/uplink.ts';

const SECRET = 'whsec_dGVzdC1zZWNyZXQtZm9yLXRoZS11cGxpbmstdGVzdHM=';

let dir: string;
let recording: string;

beforeAll(() => {
  dir = tempDir('canthus-uplink-webhook-');
  recording = path.join(dir, 'rec');
  simulateRecording({ out: recording, profile: 'simulator', seed: 5, people: 3, feverRate: 0.5 });
});

/** The ids of the events the endpoint refused, in the order it refused them. */
const refusedIds = (endpoint: { refused: { id: string }[] }) => endpoint.refused.map((r) => r.id);

function webhookConfig(applianceId: string, url: string) {
  return {
    applianceId,
    uplink: {
      enabled: true,
      transport: 'webhook',
      webhook: { url, secret: SECRET, timeoutMs: 2000 },
      retryInitialMs: 100,
      retryMaxMs: 800,
      flushOnStopMs: 15_000,
    },
  };
}

describe('the webhook uplink', () => {
  it('retries through 500s with the same webhook-id, then delivers every stored event once', async () => {
    const receiver = await startReceiver({
      webhookPort: 0,
      out: path.join(dir, 'flaky.jsonl'),
      secret: SECRET,
      report: () => {},
    });
    // 500 for 6 s from the first request (not from now: on a loaded machine the appliance may take
    // longer than that to start, and the test would then never see a failure).
    let failUntil: number | null = null;
    const endpoint = await flakyEndpoint(() => {
      failUntil ??= Date.now() + 6000;
      return Date.now() < failUntil ? 500 : null;
    }, receiver);
    try {
      const data = path.join(dir, 'flaky');
      writeConfig(data, webhookConfig('box-webhook', endpoint.url));
      const run = runAppliance({ data, source: `recording:${recording}?pace=fast` });
      expect(await run.exited, run.output()).toBe(0);
      const stored = storedEvents(data);
      expect(stored.unsent, 'outbox rows left after the endpoint recovered').toBe(0);
      expect(refusedIds(endpoint).length, 'the endpoint never answered 500').toBeGreaterThan(0);
      const received = receiver.lines.map((line) => line.envelope!);
      const screening = received.filter((e) => e.type.startsWith('canthus.screening.')).map((e) => e.id);
      expect(screening.sort()).toEqual(stored.screening);
      const alerts = received
        .filter((e) => e.type === 'canthus.alert')
        .map((e) => (e.data as { screeningEventId: string }).screeningEventId);
      expect(alerts.sort()).toEqual(stored.alerts);
      // Each id refused with a 500 arrived later under the same id (webhook-id stable across retries).
      const arrived = new Set(received.map((e) => e.id));
      expect(refusedIds(endpoint).filter((id) => !arrived.has(id))).toEqual([]);
      expect(receiver.stats()).toMatchObject({ rejected: 0, gaps: [] });
      // Sent while the endpoint failed → historical when it recovered.
      expect(received.some((e) => e.historical)).toBe(true);
    } finally {
      await endpoint.close();
      await receiver.stop();
    }
  }, 90_000);

  it('parks events a receiver refuses for good (4xx): kept in the store, tried once, not retried', async () => {
    const endpoint = await flakyEndpoint(() => 422, { port: 1 });
    try {
      const data = path.join(dir, 'refused');
      writeConfig(data, {
        ...webhookConfig('box-refused', endpoint.url),
        uplink: { ...webhookConfig('box-refused', endpoint.url).uplink, flushOnStopMs: 5000 },
      });
      const run = runAppliance({ data, source: `recording:${recording}?pace=fast` });
      expect(await run.exited, run.output()).toBe(0);
      const stored = storedEvents(data);
      // Nothing retried for ever: each event was tried once and parked.
      expect(refusedIds(endpoint).length).toBe(new Set(refusedIds(endpoint)).size);
      expect(stored.unsent).toBe(0);
      expect(stored.parked).toBe(refusedIds(endpoint).length);
      expect(stored.parked).toBeGreaterThan(0);
      expect(run.output()).toContain('the receiver refused an event for good: parked');
    } finally {
      await endpoint.close();
    }
  }, 90_000);
});

describe('canthus receive --webhook-port', () => {
  let port: number;
  let child: ReturnType<typeof spawn>;
  let stderr = '';
  let out: string;

  beforeAll(async () => {
    port = await freePort();
    out = path.join(tempDir(), 'received.jsonl');
    child = spawn(
      process.execPath,
      ['bin/canthus.js', 'receive', '--webhook-port', String(port), '--out', out],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, CANTHUS_WEBHOOK_SECRET: SECRET },
      },
    );
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await waitFor(() => stderr.includes('webhooks on'), 15_000, `canthus receive to listen (${stderr})`);
  });
  afterAll(() => {
    child?.kill('SIGKILL');
  });

  const envelope = (id: string): Envelope => ({
    specversion: '1.0',
    id,
    source: 'box-1/entrance-1',
    type: 'canthus.calibration.committed',
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    historical: false,
    data: { id: 'cal-1', cameraId: 'entrance-1', committedAt: new Date().toISOString() },
  });
  const post = async (id: string, body: string, timestamp: number, signature: string) =>
    fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signature,
      },
      body,
    });

  it('accepts a signed webhook once, and answers its retry as a duplicate', async () => {
    const body = JSON.stringify(envelope('01J0000000000000000000001'));
    const now = Math.floor(Date.now() / 1000);
    const first = await post(
      '01J0000000000000000000001',
      body,
      now,
      signWebhook(SECRET, '01J0000000000000000000001', now, body),
    );
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ received: true, duplicate: false });
    const again = await post(
      '01J0000000000000000000001',
      body,
      now + 1,
      signWebhook(SECRET, '01J0000000000000000000001', now + 1, body),
    );
    expect(await again.json()).toEqual({ received: true, duplicate: true });
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
  });

  it('rejects a tampered body and a stale timestamp', async () => {
    const id = '01J0000000000000000000002';
    const body = JSON.stringify(envelope(id));
    const now = Math.floor(Date.now() / 1000);
    const signature = signWebhook(SECRET, id, now, body);
    const tampered = await post(id, body.replace('cal-1', 'cal-2'), now, signature);
    expect(tampered.status).toBe(401);
    expect(((await tampered.json()) as { error: string }).error).toContain('does not match');
    const stale = now - 3600;
    const old = await post(id, body, stale, signWebhook(SECRET, id, stale, body));
    expect(old.status).toBe(401);
    expect(((await old.json()) as { error: string }).error).toContain('from now');
    const wrongKey = await post(
      id,
      body,
      now,
      signWebhook('whsec_b3RoZXIta2V5LW90aGVyLWtleS1vdGhlcg==', id, now, body),
    );
    expect(wrongKey.status).toBe(401);
    expect(readFileSync(out, 'utf8')).not.toContain(id);
    expect(stderr).toContain(`webhook ${id} refused`);
  });
});
