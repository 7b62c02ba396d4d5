/**
 * Inside a camera's worker thread: the same `CameraPipeline` and screening stage as on the main
 * thread, fed with raw frames by `WorkerFramePath` (cameraWorker.ts). What they publish goes back to
 * the main thread in order, where it is published on the bus: `reference.state`, `screening` and
 * `alert` as they happen, then the `frame` (its °C image transferred, not copied) with how long the
 * frame took.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ApplianceConfig, ReferenceConfig } from '../config/load.ts';
import type { CameraProfile } from '../core/cameraProfile.ts';
import type { EventBus, EventName } from '../core/eventBus.ts';
import type { RawFrame, Region } from '../core/types.ts';
import { createScreeningStage } from '../screening/createScreeningStage.ts';
import { CameraPipeline } from './cameraPipeline.ts';

/** What the main thread gives a camera's worker at start (and again at a restart). */
export interface CameraWorkerData {
  config: ApplianceConfig;
  cameraId: string;
  profile: CameraProfile;
  reference: ReferenceConfig;
  calibrationId: string | null;
  screening: ApplianceConfig['screening'];
  /** The number of the first person this worker finds (a restarted worker goes on from the last). */
  firstPersonNumber: number;
}

/** Main thread → worker. */
export type ToCameraWorker =
  /**
   * `inOrder`: a fast replay's frame, processed whatever comes after it; otherwise the latest frame
   * wins. `output`: memory for a corrected frame, its pages already mapped by the main thread.
   */
  | { type: 'frame'; frame: RawFrame; inOrder: boolean; output?: Float32Array }
  | { type: 'reference'; reference: ReferenceConfig; calibrationId: string | null }
  | { type: 'screening'; screening: ApplianceConfig['screening'] }
  | { type: 'flush'; at: number; token: number };

/** Worker → main thread. */
export type FromCameraWorker =
  | { type: 'ready' }
  /** `referenceRegion`: where the blackbody is as of this event (health shows it with the state). */
  | { type: 'event'; name: EventName; payload: Record<string, unknown>; referenceRegion?: Region | null }
  | {
      type: 'frame';
      payload: Record<string, unknown>;
      seq: number;
      flatField: boolean;
      processingMs: number;
      /** Live frames replaced by a newer one since the last report. */
      skipped: number;
      /** Tracks that never became persons, since this worker started. */
      tracksNotPersons: number;
    }
  | { type: 'failed'; seq: number; error: string; skipped: number }
  | { type: 'flushed'; token: number };

/** Corrected-frame memory kept for frames to come (a few: more only holds memory). */
const MAX_SPARE_OUTPUTS = 4;

const errorText = (error: unknown) =>
  error instanceof Error ? (error.stack ?? error.message) : String(error);

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('cameraWorkerThread runs only as a worker thread');
  const data = workerData as CameraWorkerData;
  const post = (message: FromCameraWorker, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer);

  let pendingFrame: Record<string, unknown> | null = null;
  // Assigned below; the bus is handed to it first.
  let pipeline: CameraPipeline | undefined;
  // The pipeline and the stage publish through this: events leave in the order they were emitted.
  // `id` is stamped on the main thread when the event is published there (an alert's reference to
  // its screening event is filled in there too).
  const bus = {
    emit(name: EventName, payload: Record<string, unknown>) {
      if (name === 'frame') pendingFrame = payload;
      else if (name === 'reference.state')
        post({ type: 'event', name, payload, referenceRegion: pipeline?.referenceRegion ?? null });
      else post({ type: 'event', name, payload });
      return { ...payload, id: '', at: payload.at ?? Date.now() };
    },
  } as unknown as EventBus;

  const stage = createScreeningStage({
    cameraId: data.cameraId,
    config: { ...data.config, screening: data.screening },
    profile: data.profile,
    bus,
    tracker: { firstPersonNumber: data.firstPersonNumber },
  });
  pipeline = new CameraPipeline({
    cameraId: data.cameraId,
    profile: data.profile,
    reference: data.reference,
    calibrationId: data.calibrationId,
    bus,
    stage,
  });

  // Replay frames wait in order; of live frames only the newest waits (latest wins). Frames are taken
  // one per turn of the event loop, so frames that arrived meanwhile can replace a waiting one.
  const inOrder: RawFrame[] = [];
  let latest: RawFrame | null = null;
  // Memory for corrected frames from the main thread, one per frame sent (a replaced frame's stays
  // for the next). The main thread has time to spare; this thread is the frame path's bottleneck.
  const outputs: Float32Array[] = [];
  let skipped = 0;
  let scheduled = false;
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(drain);
  };
  const drain = () => {
    scheduled = false;
    const next = inOrder.shift() ?? latest;
    if (next === latest) latest = null;
    if (next) processFrame(next);
    if (inOrder.length > 0 || latest) schedule();
  };
  const processFrame = (raw: RawFrame) => {
    const reported = skipped;
    skipped = 0;
    let frame: ReturnType<CameraPipeline['process']>;
    try {
      frame = pipeline.process(raw, outputs.pop());
    } catch (error) {
      // One frame the pipeline cannot process is reported and skipped; the worker goes on.
      pendingFrame = null;
      post({ type: 'failed', seq: raw.seq, error: errorText(error), skipped: reported });
      return;
    }
    const payload = pendingFrame;
    pendingFrame = null;
    post(
      {
        type: 'frame',
        payload: payload ?? {},
        seq: frame.seq,
        flatField: frame.flatField,
        processingMs: pipeline.lastProcessingMs,
        skipped: reported,
        tracksNotPersons: pipeline.tracksNotPersons,
      },
      payload ? [frame.celsius.buffer as ArrayBuffer] : [],
    );
  };

  port.on('message', (message: ToCameraWorker) => {
    switch (message.type) {
      case 'frame':
        if (message.output && outputs.length < MAX_SPARE_OUTPUTS) outputs.push(message.output);
        if (message.inOrder) inOrder.push(message.frame);
        else {
          if (latest) skipped++;
          latest = message.frame;
        }
        schedule();
        return;
      case 'reference':
        pipeline.setReference(message.reference, message.calibrationId);
        return;
      case 'screening':
        stage.setScreening(message.screening);
        return;
      case 'flush':
        // Frames still waiting are processed first (the main thread waits for them before flushing).
        while (inOrder.length > 0 || latest) drain();
        pipeline.flush(message.at);
        post({ type: 'flushed', token: message.token });
        return;
    }
  });
  post({ type: 'ready' });
}

main();
