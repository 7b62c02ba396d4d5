import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIRMWARE_CONFIG_DIR, loadConfig } from '../../appliance/config/load.ts';
import type { ListenerStats } from '../../appliance/core/eventBus.ts';
import { type Appliance, startAppliance } from '../../appliance/main.ts';
import { tempDir, waitFor } from '../helpers/tempDir.ts';

/** Faster than the 9 Hz default simulator, so a listener stealing the main thread would show. */
const FAST_FPS = 30;
const WARMUP_MS = 1000;
/** Alternating windows without and with the bad listeners. */
const WINDOWS = 3;
const WINDOW_MS = 2000;

/** A data folder with a 30 Hz, 160×120 simulator profile and a camera configured on it. */
function fastSimulatorData(dir: string): string {
  const profile = JSON.parse(
    readFileSync(path.join(FIRMWARE_CONFIG_DIR, 'cameras', 'simulator.json'), 'utf8'),
  );
  mkdirSync(path.join(dir, 'cameras'), { recursive: true });
  writeFileSync(
    path.join(dir, 'cameras', 'fast-sim.json'),
    JSON.stringify({
      ...profile,
      id: 'fast-sim',
      name: 'Simulated entrance, 160x120 at 30 Hz (test)',
      fps: FAST_FPS,
      width: 160,
      height: 120,
    }),
  );
  writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({
      cameras: [
        {
          id: 'entrance-1',
          profile: 'fast-sim',
          source: 'simulator:?seed=3',
          reference: { warmupS: 1, stableForS: 1 },
        },
      ],
    }),
  );
  return dir;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Subscribes a listener that throws on every frame and one that busy-waits `busyWaitMs` on every frame. */
function subscribeBadListeners(appliance: Appliance, busyWaitMs: number): () => void {
  const offThrower = appliance.bus.on(
    'frame',
    (event) => {
      throw new Error(`listener cannot cope with frame ${event.seq}`);
    },
    { name: 'test.thrower' },
  );
  const offBusy = appliance.bus.on(
    'frame',
    () => {
      const until = performance.now() + busyWaitMs;
      while (performance.now() < until) {
        // spin: a listener doing long synchronous work
      }
    },
    { name: 'test.busy' },
  );
  return () => {
    offThrower();
    offBusy();
  };
}

describe('bus listeners cannot slow the frame path', () => {
  const dataDir = fastSimulatorData(tempDir('canthus-isolation-'));

  it('keeps ≥ 90 % of the frame rate with a listener that throws and one that busy-waits on every frame', async () => {
    const loaded = loadConfig({ dataDir });
    expect(loaded.config.cameras[0].profile).toBe('fast-sim');
    const appliance = await startAppliance({ loaded, headless: true });
    const busyWaitMs = 50;
    try {
      let framesEmitted = 0;
      // Constant work: counts what the pipeline published, with and without the bad listeners.
      appliance.bus.on('frame', () => void framesEmitted++, { name: 'test.count', delivery: 'inline' });
      const pipeline = appliance.cameras[0].pipeline;
      await waitFor(() => pipeline.processed.total > 0, 15_000, 'the first processed frame');
      await sleep(WARMUP_MS);
      // Windows alternate without and with the bad listeners on the same running appliance, so
      // whatever else the machine does affects both sides alike.
      const frames = { plain: 0, bad: 0 };
      const time = { plain: 0, bad: 0 };
      let last: { thrower?: ListenerStats; busy?: ListenerStats } = {};
      for (let round = 0; round < WINDOWS; round++) {
        for (const side of ['plain', 'bad'] as const) {
          const unsubscribe = side === 'bad' ? subscribeBadListeners(appliance, busyWaitMs) : () => {};
          const firstCount = pipeline.processed.total;
          const firstAt = performance.now();
          await sleep(WINDOW_MS);
          frames[side] += pipeline.processed.total - firstCount;
          time[side] += performance.now() - firstAt;
          if (side === 'bad') {
            const stats = appliance.bus.stats();
            last = {
              thrower: stats.find((s) => s.name === 'test.thrower'),
              busy: stats.find((s) => s.name === 'test.busy'),
            };
          }
          unsubscribe();
        }
      }
      const plainFps = (frames.plain * 1000) / time.plain;
      const badFps = (frames.bad * 1000) / time.bad;
      // The profile really is faster than the default, and the machine keeps up with most of it.
      expect(plainFps).toBeGreaterThan(15);
      expect(
        badFps,
        `with listeners ${badFps.toFixed(1)} fps, without ${plainFps.toFixed(1)} fps`,
      ).toBeGreaterThanOrEqual(0.9 * plainFps);
      expect(framesEmitted).toBeGreaterThan(0.5 * plainFps * ((2 * WINDOWS * WINDOW_MS) / 1000));

      const { thrower, busy } = last;
      expect(thrower).toBeDefined();
      expect(thrower!.errors).toBeGreaterThan(10);
      expect(thrower!.errors).toBe(thrower!.delivered);
      expect(thrower!.lastError).toMatch(/^listener cannot cope with frame \d+$/);
      expect(thrower!.delivery).toBe('queued');
      expect(busy).toBeDefined();
      expect(busy!.errors).toBe(0);
      expect(busy!.delivered).toBeGreaterThanOrEqual(2);
      expect(busy!.longestMs).toBeGreaterThanOrEqual(busyWaitMs);
      // The busy listener lagged and only kept the newest frames: the rest were dropped for it alone.
      expect(busy!.dropped).toBeGreaterThan(0);
    } finally {
      await appliance.stop();
    }
  }, 40_000);
});
