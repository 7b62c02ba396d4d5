/**
 * The camera's frame path in a worker thread (processing.worker): the same screening as on the main
 * thread, and a worker that dies reported and replaced. (How much a busy main thread slows each path
 * is measured by the benchmark suite, not here: docs/performance.md.)
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulateRecording } from '../../appliance/cli/simulate.ts';
import { loadConfig } from '../../appliance/config/load.ts';
import type { CameraState } from '../../appliance/core/events.ts';
import type { ScreeningEvent } from '../../appliance/core/types.ts';
import { startAppliance } from '../../appliance/main.ts';
import { PROCESSING_STOPPED_REASON, WorkerFramePath } from '../../appliance/pipeline/cameraWorker.ts';
import { tempDir, waitFor } from '../helpers/tempDir.ts';

function dataDir(worker: boolean, camera: Record<string, unknown> = {}): string {
  const dir = tempDir('canthus-worker-');
  writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({
      processing: { worker },
      cameras: [{ id: 'gate', profile: 'simulator', reference: { warmupS: 1, stableForS: 1 }, ...camera }],
    }),
  );
  return dir;
}

async function replay(
  recording: string,
  worker: boolean,
): Promise<{ events: ScreeningEvent[]; tracksNotPersons: number }> {
  const loaded = loadConfig({ dataDir: dataDir(worker), source: `recording:${recording}?pace=fast` });
  const appliance = await startAppliance({ loaded, headless: true });
  const events: ScreeningEvent[] = [];
  appliance.bus.on('screening', (event) => void events.push(event), { name: 'test', delivery: 'inline' });
  try {
    expect(appliance.cameras[0].pipeline instanceof WorkerFramePath).toBe(worker);
    await appliance.finished;
    return { events, tracksNotPersons: appliance.health().cameras[0].tracksNotPersons };
  } finally {
    await appliance.stop();
  }
}

/** What a person's screening came to, without the ids and wall times of the run. */
const verdicts = (events: ScreeningEvent[]) =>
  events
    .filter((e) => e.kind === 'end')
    .map((e) => ({
      personId: e.personId,
      decision: e.decision,
      skinC: e.skinC,
      goodFrames: e.goodFrames,
      reasons: e.reasonCodes,
      box: e.box,
      firstSeq: e.firstSeq,
      lastSeq: e.lastSeq,
    }));

describe('the frame path in a worker thread', () => {
  it('screens a replay exactly as the main thread does: the same persons, readings and alerts', async () => {
    const recording = path.join(tempDir('canthus-worker-rec-'), 'rec');
    simulateRecording({ out: recording, profile: 'simulator', seed: 7, people: 4, feverRate: 0.5 });
    const worker = await replay(recording, true);
    const main = await replay(recording, false);
    const [inWorker, onMain] = [worker.events, main.events];
    // Health counts the tracks that never became persons the same way on either thread.
    expect(worker.tracksNotPersons).toBe(main.tracksNotPersons);
    expect(verdicts(inWorker).length).toBeGreaterThanOrEqual(3);
    expect(verdicts(inWorker)).toEqual(verdicts(onMain));
    // Alerts travel with their screening event: the same people alerted, each once.
    const alerted = (events: ScreeningEvent[]) => events.filter((e) => e.alert).map((e) => e.personId);
    expect(alerted(inWorker)).toEqual(alerted(onMain));
    expect(alerted(inWorker).length).toBeGreaterThan(0);
    // The thermal crop of the best frame crossed the thread boundary intact.
    const end = inWorker.find((e) => e.kind === 'end' && e.crop);
    expect(end?.crop?.celsius).toBeInstanceOf(Float32Array);
    expect(end?.crop?.celsius.length).toBe(end!.crop!.width * end!.crop!.height);
  }, 60_000);

  it('reports a worker that died, starts another, and screens on', async () => {
    const loaded = loadConfig({ dataDir: dataDir(true, { source: 'simulator:?seed=4' }) });
    const appliance = await startAppliance({ loaded, headless: true });
    const states: { state: CameraState; reason: string }[] = [];
    appliance.bus.on('camera.state', ({ state, reason }) => void states.push({ state, reason }), {
      name: 'test.states',
      delivery: 'inline',
    });
    try {
      const framePath = appliance.cameras[0].pipeline as WorkerFramePath;
      await waitFor(() => framePath.processed.total >= 5, 20_000, 'frames processed in the worker');
      const dead = framePath.worker!;
      const processedBefore = framePath.processed.total;
      await dead.terminate();

      const down = await waitFor(
        () => {
          const camera = appliance.health().cameras[0];
          return camera.state === 'offline' ? camera : null;
        },
        5_000,
        'health to report the dead worker',
      );
      expect(down.reason).toMatch(/^processing worker died \(exited with code 1\); restarting$/);
      expect(appliance.health().status).toBe('degraded');
      expect(appliance.health().problems.join('\n')).toMatch(
        /camera gate is offline: processing worker died/,
      );

      await waitFor(
        () => framePath.processed.total >= processedBefore + 5,
        20_000,
        'frames processed by the new worker',
      );
      expect(framePath.worker).not.toBe(dead);
      const camera = appliance.health().cameras[0];
      expect(camera.state).toBe('online');
      expect(camera.processing).toMatchObject({
        thread: 'worker',
        restarts: 1,
        lastCrash: 'exited with code 1',
      });
      expect(states).toContainEqual({
        state: 'offline',
        reason: 'processing worker died (exited with code 1); restarting',
      });
      expect(states.at(-1)).toEqual({ state: 'online', reason: 'processing running again' });
    } finally {
      await appliance.stop();
    }
  }, 60_000);

  it('closes the persons in view of a worker that died, and numbers persons on after the restart', async () => {
    const loaded = loadConfig({ dataDir: dataDir(true, { source: 'simulator:?seed=3' }) });
    const appliance = await startAppliance({ loaded, headless: true });
    const events: ScreeningEvent[] = [];
    appliance.bus.on('screening', (event) => void events.push(event), { name: 'test', delivery: 'inline' });
    const inView = () => {
      const open = new Map<string, ScreeningEvent>();
      for (const e of events) {
        if (e.kind === 'end') open.delete(e.personId);
        else open.set(e.personId, e);
      }
      return [...open.keys()];
    };
    try {
      const framePath = appliance.cameras[0].pipeline as WorkerFramePath;
      const cutOff = await waitFor(() => inView()[0], 40_000, 'a person in view');
      const before = new Set(events.map((e) => e.personId));
      await framePath.worker!.terminate();

      const end = await waitFor(
        () => events.find((e) => e.kind === 'end' && e.personId === cutOff),
        5_000,
        'the end of the person in view',
      );
      expect(end.decision === 'invalid' || end.decision === 'elevated').toBe(true);
      expect(end.reasons.at(-1)).toBe(`${PROCESSING_STOPPED_REASON} (exited with code 1)`);
      expect(end.reasonCodes).toContain('measure-again');
      expect(inView()).toEqual([]);
      // Stored like any end: the person's row is final, not left open for the next start.
      await appliance.bus.drain();
      expect(appliance.stores.events.closeInterrupted()).toBe(0);

      // The next worker's first person does not take an id of this run's earlier persons.
      const mark = events.length;
      const next = await waitFor(
        () => events.slice(mark).find((e) => e.kind === 'new'),
        40_000,
        'a person found by the new worker',
      );
      expect(before.has(next.personId)).toBe(false);
      const numberOf = (id: string) => Number(id.slice(id.lastIndexOf('-') + 1));
      expect(numberOf(next.personId)).toBeGreaterThan(Math.max(...[...before].map(numberOf)));
    } finally {
      await appliance.stop();
    }
  }, 100_000);
});
