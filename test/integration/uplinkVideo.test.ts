/**
 * Video on request over MQTT under a throttled uplink budget, against a real Mosquitto: the video
 * degrades (quality down, frames skipped) and stays within the budget, while alerts and `end`
 * events still arrive within 1 s of the moment they were stored; the `snapshot` command answers
 * with a picture; video stops by itself after its duration.
 */
import path from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulateRecording } from '../../appliance/cli/simulate.ts';
import { loadConfig } from '../../appliance/config/load.ts';
import type { Envelope } from '../../appliance/core/uplink.ts';
import { startAppliance } from '../../appliance/main.ts';
import { tempDir, waitFor } from '../helpers/tempDir.ts';
import { Broker, storedEvents, uplinkSchemas, writeConfig } from '../helpers/uplink.ts';

/** Bytes/s: below what 2 frames/s at quality 50 weigh (≈ 2 × 10 KB), so video must degrade. */
const BUDGET = 8000;

let dir: string;
let broker: Broker;
let recording: string;

beforeAll(async () => {
  dir = tempDir('canthus-uplink-video-');
  recording = path.join(dir, 'rec');
  // ≈ 4 people at real pace (≈ 25 s), half of them febrile: alerts while the video runs.
  simulateRecording({ out: recording, profile: 'simulator', seed: 7, people: 4, feverRate: 0.5 });
  broker = await Broker.start(path.join(dir, 'broker'));
});
afterAll(async () => {
  await broker?.stop();
});

describe('video on request under a throttled uplink budget', () => {
  let appliance: Awaited<ReturnType<typeof startAppliance>> | null = null;
  let client: MqttClient;
  const events: { envelope: Envelope; receivedAt: number }[] = [];
  const frames: { bytes: number; quality: number; receivedAt: number }[] = [];
  const responses = new Map<string, Record<string, unknown>>();

  beforeAll(async () => {
    client = connect(broker.url, { protocolVersion: 5, clientId: 'video-test' });
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    client.on('message', (topic, payload, packet) => {
      const receivedAt = Date.now();
      if (topic.startsWith('canthus/box-video/video/')) {
        const quality = Number(packet.properties?.userProperties?.quality);
        frames.push({ bytes: payload.length, quality, receivedAt });
      } else if (topic.includes('/response/')) {
        responses.set(packet.properties?.correlationData?.toString() ?? '', JSON.parse(payload.toString()));
      } else if (/\/(screening|alert)$/.test(topic)) {
        events.push({ envelope: JSON.parse(payload.toString()) as Envelope, receivedAt });
      }
    });
    await client.subscribeAsync('canthus/box-video/#', { qos: 1 });
  });
  afterAll(async () => {
    await client?.endAsync();
    await appliance?.stop();
  });

  const request = async (name: string, body: object, correlation: string) => {
    await client.publishAsync(`canthus/box-video/request/${name}`, JSON.stringify(body), {
      qos: 1,
      properties: { correlationData: Buffer.from(correlation) },
    });
    return waitFor(() => responses.get(correlation), 5000, `the answer to ${name}`);
  };

  it('keeps alerts within 1 s of their event while video degrades within the budget', async () => {
    const data = path.join(dir, 'box');
    writeConfig(data, {
      applianceId: 'box-video',
      cameras: [
        {
          id: 'entrance-1',
          profile: 'simulator',
          source: `recording:${recording}`,
          reference: { warmupS: 1, stableForS: 1 },
        },
      ],
      uplink: {
        enabled: true,
        transport: 'mqtt',
        mqtt: { url: broker.url, keepaliveS: 5, reconnectMs: 300 },
        budgetBytesPerS: BUDGET,
        video: { fps: 2, quality: 50, minQuality: 15, maxDurationS: 120 },
      },
    });
    appliance = await startAppliance({ loaded: loadConfig({ dataDir: data }), headless: true });
    const a = appliance;
    await waitFor(
      () =>
        (a.featureStates().find((f) => f.name === 'uplink')?.detail as { connection?: { state: string } })
          ?.connection?.state === 'connected',
      10_000,
      'the uplink connected',
    );
    // A picture of the next frame, on request.
    const snapshot = await request('snapshot', { correlationId: 's-1' }, 'corr-snapshot');
    expect(snapshot).toMatchObject({ ok: true, correlationId: 's-1', result: { contentType: 'image/jpeg' } });
    const jpeg = Buffer.from((snapshot.result as { data: string }).data, 'base64');
    expect(jpeg.subarray(0, 2).toString('hex')).toBe('ffd8');
    expect(uplinkSchemas()('response', snapshot)).toBeNull();

    const started = await request('video/start', { durationS: 100 }, 'corr-video');
    expect(started).toMatchObject({ ok: true, result: { cameraId: 'entrance-1', fps: 2 } });
    const videoFrom = Date.now();
    await a.finished;
    await a.bus.drain();
    const videoUntil = Date.now();
    const stored = storedEvents(data);
    expect(stored.alerts.length, 'the recording should raise alerts while the video runs').toBeGreaterThan(0);
    await waitFor(
      () => events.filter((e) => e.envelope.type === 'canthus.alert').length >= stored.alerts.length,
      5000,
      'every alert',
    );

    // Video came, degraded, and within the budget: at most the budget over the run plus one
    // second's burst (the bucket) and one frame that may go into debt.
    expect(frames.length, 'no video frame arrived').toBeGreaterThanOrEqual(5);
    const seconds = (videoUntil - videoFrom) / 1000;
    const videoBytes = frames.reduce((sum, f) => sum + f.bytes, 0);
    const biggest = Math.max(...frames.map((f) => f.bytes));
    expect(videoBytes).toBeLessThanOrEqual(BUDGET * seconds + BUDGET + biggest);
    expect(Math.min(...frames.map((f) => f.quality)), 'quality never stepped down').toBeLessThan(50);
    const detail = a.featureStates().find((f) => f.name === 'uplink')?.detail as {
      budget: { bytesPerS: number; videoBytesPerS: number };
      video: { active: boolean; skippedForBudget: number; framesSent: number };
    };
    expect(detail.budget.bytesPerS).toBe(BUDGET);
    expect(detail.video).toMatchObject({ active: true });
    expect(detail.video.skippedForBudget, 'no frame was skipped for the budget').toBeGreaterThan(0);

    // Alerts and `end`s: received within 1 s of the stored event time (the envelope's `time`).
    const late = events
      .filter((e) => e.envelope.type === 'canthus.alert' || e.envelope.type === 'canthus.screening.end')
      .map((e) => ({ id: e.envelope.id, delayMs: e.receivedAt - Date.parse(e.envelope.time) }));
    const delays = late.map((e) => e.delayMs);
    console.info(
      `video: ${frames.length} frames, ${Math.round(videoBytes / seconds)} B/s of ${BUDGET}, quality ${Math.min(...frames.map((f) => f.quality))}–${Math.max(...frames.map((f) => f.quality))}, ${detail.video.skippedForBudget} skipped; alert delays ms: max ${Math.max(...late.filter((e) => e.id.endsWith('-alert')).map((e) => e.delayMs))}, end delays ms: max ${Math.max(...delays)}, n=${delays.length}`,
    );
    expect(
      late.filter((e) => e.delayMs > 1000),
      'alerts or ends later than 1 s',
    ).toEqual([]);

    const stopped = await request('video/stop', {}, 'corr-stop');
    expect(stopped).toMatchObject({ ok: true, result: { stopped: true } });
    const after = frames.length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(frames.length).toBe(after);
  }, 120_000);

  it('stops video by itself after the requested duration', async () => {
    // The camera has ended: frames no longer come; the timer alone must end the session.
    const started = await request('video/start', { durationS: 1 }, 'corr-short');
    expect(started).toMatchObject({ ok: true });
    const video = () =>
      (appliance!.featureStates().find((f) => f.name === 'uplink')!.detail as { video: { active: boolean } })
        .video;
    expect(video().active).toBe(true);
    await waitFor(() => video().active === false, 3000, 'video stopped after its duration');
  });
});
