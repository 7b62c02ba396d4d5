/**
 * A bounded loopback load test of the live video: 20 WebSocket viewers of one camera for 8 s, one
 * of which never reads its socket. The pipeline's processed frames per second stay within 10 % of
 * what they are with no viewer, and every fast viewer keeps receiving frames.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../appliance/config/load.ts';
import type { VideoStats } from '../../appliance/features/video/hub.ts';
import { type Appliance, startAppliance } from '../../appliance/main.ts';
import { tempDir, waitFor } from '../helpers/tempDir.ts';

const VIEWERS = 20;
const WINDOW_MS = 8000;

describe('live video under 20 viewers', () => {
  const dataDir = tempDir('canthus-load-');
  let appliance: Appliance;
  let cookie: string;

  beforeAll(async () => {
    const loaded = loadConfig({ dataDir, port: 0, source: 'simulator:?seed=4' });
    loaded.config.server.host = '127.0.0.1';
    appliance = await startAppliance({ loaded });
    const token = readFileSync(path.join(dataDir, 'setup-token'), 'utf8').trim();
    const setup = await request(appliance.server!)
      .post('/api/setup')
      .send({ token, username: 'admin', password: 'load test keeper' })
      .expect(201);
    cookie = String(setup.headers['set-cookie'][0]).split(';')[0];
    await waitFor(() => appliance.health().cameras[0].totals.processed > 20, 20_000, 'the camera running');
  });
  afterAll(async () => {
    await appliance?.stop();
  });

  const processed = () => appliance.health().cameras[0].totals.processed;
  const video = () =>
    appliance.featureStates().find((f) => f.name === 'video')!.detail as unknown as VideoStats;

  /** Processed frames per second over `ms`. */
  const rate = async (ms: number) => {
    const before = processed();
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, ms));
    return (processed() - before) / ((performance.now() - started) / 1000);
  };

  it('keeps the processed frame rate and feeds every fast viewer', async () => {
    // Baseline before and after the loaded window, so a slow drift of the machine's load cancels.
    const idleBefore = await rate(WINDOW_MS / 2);
    const sockets = await Promise.all(
      Array.from(
        { length: VIEWERS },
        () =>
          new Promise<WebSocket>((resolve, reject) => {
            const ws = new WebSocket(`ws://127.0.0.1:${appliance.port}/ws/video`, {
              headers: { Cookie: cookie },
            });
            ws.once('open', () => resolve(ws));
            ws.once('error', reject);
          }),
      ),
    );
    const received = sockets.map(() => 0);
    sockets.forEach((ws, i) => {
      ws.on('message', () => {
        received[i]++;
      });
    });
    // Viewer 0 never reads: its socket is paused, so its data piles up in the kernel and then in ws.
    (sockets[0] as unknown as { _socket: Socket })._socket.pause();
    await waitFor(() => received[1] > 0, 10_000, 'the first frame');
    const statsBefore = video();
    const countsBefore = [...received];
    const loaded = await rate(WINDOW_MS);
    const statsAfter = video();
    const got = received.map((n, i) => n - countsBefore[i]);
    for (const ws of sockets) ws.terminate();
    const idleAfter = await rate(WINDOW_MS / 2);

    const idle = (idleBefore + idleAfter) / 2;
    const encoded = statsAfter.encoded - statsBefore.encoded;
    console.info(
      `video load: processed ${idle.toFixed(2)} fps idle, ${loaded.toFixed(2)} fps with ${VIEWERS} viewers; ` +
        `${encoded} frames encoded (${(encoded / (WINDOW_MS / 1000)).toFixed(1)}/s, last ${statsAfter.lastEncodeMs} ms), ` +
        `fast viewers got ${Math.min(...got.slice(1))}–${Math.max(...got.slice(1))}, the stalled one ${got[0]}; ` +
        `skipped for busy viewers ${statsAfter.skippedSlowViewer - statsBefore.skippedSlowViewer}`,
    );
    expect(idle).toBeGreaterThan(3);
    expect(Math.abs(loaded - idle) / idle).toBeLessThanOrEqual(0.1);
    // One encode per frame for all 20 viewers, and each fast viewer gets nearly every one.
    expect(encoded).toBeLessThanOrEqual(Math.ceil(loaded * (WINDOW_MS / 1000)) + 2);
    for (const n of got.slice(1)) expect(n).toBeGreaterThanOrEqual(encoded * 0.8);
  }, 60_000);
});
