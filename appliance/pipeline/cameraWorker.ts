/**
 * A camera's frame path in a worker thread of its own (`processing.worker`): radiometry, the
 * blackbody reference and the screening stage run there (cameraWorkerThread.ts), capture (the
 * GStreamer addon) and the bus stay on the main thread. This uses the second core, and nothing on
 * the main thread — the web server, viewers, a flood of requests — can slow screening down.
 *
 * - Raw frames go to the worker with their pixels transferred, not copied. Live sources: at most one
 *   frame in the worker and one waiting; a newer frame replaces the waiting one (latest wins,
 *   counted as skipped). Fast replays: every frame in order, and the capture waits while
 *   `MAX_IN_FLIGHT` frames are in the worker (back-pressure instead of a growing queue).
 * - What the worker publishes is published here on the bus in the order it happened (an alert gets
 *   the id of its screening event as stamped here), the `frame` with its °C image transferred back.
 * - Calibration commits and settings changes are forwarded; the figures health shows are kept here.
 * - A worker that dies is reported (camera state `offline` with the reason, `camera.state` on the
 *   bus) and started again, warm (no new camera warm-up), with the calibration and settings in
 *   force. Persons in view in the dead worker get their `end` at once (decision `invalid`, the
 *   reason stated; see #closeOpenPersons), and the new worker numbers persons on from the last.
 */
import { Worker } from 'node:worker_threads';
import type { ApplianceConfig, ReferenceConfig } from '../config/load.ts';
import type { CameraProfile } from '../core/cameraProfile.ts';
import type { EventBus, EventName, PublishedEvent } from '../core/eventBus.ts';
import { log } from '../core/log.ts';
import type { RawFrame, ReferenceState, Region } from '../core/types.ts';
import { frameBuffer } from './cameraPipeline.ts';
import type { CameraWorkerData, FromCameraWorker, ToCameraWorker } from './cameraWorkerThread.ts';
import { RateMeter } from './rateMeter.ts';

/** Why a person in view when the camera's processing worker died got no reading. */
export const PROCESSING_STOPPED_REASON = "screening interrupted: the camera's processing stopped";

/** Frames a fast replay may have in the worker before the capture waits. */
const MAX_IN_FLIGHT = 3;
/** First restart delay after a crash, doubled for each crash before a frame got through, ms. */
const RESTART_INITIAL_MS = 200;
const RESTART_MAX_MS = 10_000;
/** Longest wait for the frames in the worker and the persons' end events at stop (shutdown has 10 s). */
const FLUSH_TIMEOUT_MS = 5_000;

const ENTRY = new URL('./cameraWorkerEntry.mjs', import.meta.url);

export interface WorkerFramePathOptions {
  config: ApplianceConfig;
  cameraId: string;
  profile: CameraProfile;
  reference: ReferenceConfig;
  calibrationId: string | null;
  bus: EventBus;
  /** A frame replaced before it was processed (live sources). */
  onSkip: () => void;
  /** The worker died (reason) or processes again (null). */
  onHealth?: (problem: string | null) => void;
}

export interface ProcessingHealth {
  thread: 'worker' | 'main';
  /** Times the worker died and was started again. */
  restarts: number;
  lastCrash: string | null;
  lastCrashAt: string | null;
  /** Frames in the worker right now. */
  inFlight: number;
  /** Frames the pipeline threw on (skipped; the first error is logged). */
  failedFrames: number;
}

export class WorkerFramePath {
  readonly cameraId: string;
  /** Replaced when the first worker is ready: the rate counts from when processing could start. */
  processed = new RateMeter();
  readonly flatFieldFrames = new RateMeter();
  lastProcessingMs = 0;
  readonly #o: WorkerFramePathOptions;
  /** Tracks that never became persons: the running worker's count, and its dead predecessors'. */
  #tracksNotPersons = 0;
  #tracksNotPersonsBefore = 0;
  #referenceConfig: ReferenceConfig;
  #calibrationId: string | null;
  #screening: ApplianceConfig['screening'];
  #reference: ReferenceState | null = null;
  #referenceRegion: Region | null = null;
  #worker: Worker | null = null;
  /** Frames handed to the current worker and not yet processed or replaced there. */
  #inFlight = 0;
  /** Live sources: the newest frame waiting while the worker restarts. */
  #waiting: RawFrame | null = null;
  /** Fast replays: frames held while the worker restarts, and captures waiting for room. */
  #held: RawFrame[] = [];
  #roomWaiters: (() => void)[] = [];
  #lastScreening: PublishedEvent<'screening'> | null = null;
  /** Each person in view: their last screening event (a dead worker's persons are closed from it). */
  readonly #open = new Map<string, PublishedEvent<'screening'>>();
  /** The number the next worker's first person gets: ids stay unique across restarts. */
  #nextPersonNumber = 1;
  #flushes = new Map<number, () => void>();
  #nextToken = 1;
  #stopping = false;
  #restarts = 0;
  #crashesInARow = 0;
  #restartTimer: NodeJS.Timeout | null = null;
  #lastCrash: string | null = null;
  #lastCrashAt: number | null = null;
  #problem: string | null = null;
  #failures = 0;

  constructor(options: WorkerFramePathOptions) {
    this.#o = options;
    this.cameraId = options.cameraId;
    this.#referenceConfig = options.reference;
    this.#calibrationId = options.calibrationId;
    this.#screening = options.config.screening;
    this.#spawn(false);
  }

  get calibrationId(): string | null {
    return this.#calibrationId;
  }

  get referenceConfig(): ReferenceConfig {
    return this.#referenceConfig;
  }

  get reference(): ReferenceState | null {
    return this.#reference;
  }

  /** Tracks that never became persons (hands, bodies, passers-by, brief false faces), since start. */
  get tracksNotPersons(): number {
    return this.#tracksNotPersonsBefore + this.#tracksNotPersons;
  }

  get referenceRegion(): Region | null {
    return this.#referenceRegion;
  }

  /** The worker now running (tests end it to prove a crash is survived); null while restarting. */
  get worker(): Worker | null {
    return this.#worker;
  }

  health(): ProcessingHealth {
    return {
      thread: 'worker',
      restarts: this.#restarts,
      lastCrash: this.#lastCrash,
      lastCrashAt: this.#lastCrashAt === null ? null : new Date(this.#lastCrashAt).toISOString(),
      inFlight: this.#inFlight,
      failedFrames: this.#failures,
    };
  }

  /** Why processing is not running right now (the worker died and restarts); null when it runs. */
  get problem(): string | null {
    return this.#problem;
  }

  /**
   * Live sources: the latest frame wins. Every frame goes to the worker at once (no waiting for the
   * main thread's turn); the worker replaces a frame still waiting there with a newer one.
   */
  offer(frame: RawFrame): void {
    if (this.#stopping) return;
    if (this.#worker) {
      this.#post(frame, false);
      return;
    }
    if (this.#waiting) this.#o.onSkip();
    this.#waiting = frame;
  }

  /**
   * Fast replays: every frame, in order. Resolves when there is room for the next one, so the
   * capture pulls no faster than the worker processes.
   */
  submit(frame: RawFrame): Promise<void> | undefined {
    if (this.#stopping) return undefined;
    if (this.#worker && this.#held.length === 0) this.#post(frame, true);
    else this.#held.push(frame);
    if (this.#inFlight + this.#held.length < MAX_IN_FLIGHT) return undefined;
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  setReference(reference: ReferenceConfig, calibrationId: string | null): void {
    this.#referenceConfig = reference;
    this.#calibrationId = calibrationId;
    this.#send({ type: 'reference', reference, calibrationId });
  }

  setScreening(screening: ApplianceConfig['screening']): void {
    this.#screening = screening;
    this.#send({ type: 'screening', screening });
  }

  /**
   * Every frame handed over is processed, then the persons still in view get their `end` events;
   * resolves once those are on the bus.
   */
  async flush(at: number): Promise<void> {
    const deadline = Date.now() + FLUSH_TIMEOUT_MS;
    while (this.#worker === null && this.#restartTimer !== null && Date.now() < deadline) await sleep(20);
    await this.#drained(deadline);
    const worker = this.#worker;
    if (!worker) return;
    const token = this.#nextToken++;
    const flushed = new Promise<boolean>((resolve) => {
      this.#flushes.set(token, () => resolve(true));
      worker.postMessage({ type: 'flush', at, token } satisfies ToCameraWorker);
    });
    // A worker stuck in a frame must not hold up a shutdown: the persons it holds are then closed
    // by the store at the next start.
    const timeout = new Promise<boolean>((resolve) =>
      setTimeout(() => resolve(false), Math.max(0, deadline - Date.now())).unref(),
    );
    if (!(await Promise.race([flushed, timeout]))) {
      this.#flushes.delete(token);
      log.error(
        { camera: this.cameraId },
        `camera processing worker did not flush within ${FLUSH_TIMEOUT_MS} ms`,
      );
    }
  }

  /** Ends the worker (after `flush`). */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = null;
    this.#releaseWaiters();
    for (const resolve of this.#flushes.values()) resolve();
    this.#flushes.clear();
    const worker = this.#worker;
    this.#worker = null;
    if (worker) await worker.terminate();
  }

  async #drained(deadline: number): Promise<void> {
    while (this.#worker && (this.#inFlight > 0 || this.#held.length > 0 || this.#waiting)) {
      if (Date.now() >= deadline) return;
      await sleep(5);
    }
  }

  #send(message: ToCameraWorker): void {
    // A worker started later gets the values in force through its start data.
    this.#worker?.postMessage(message);
  }

  #post(frame: RawFrame, inOrder: boolean): void {
    const worker = this.#worker!;
    this.#inFlight++;
    // The memory the worker writes this frame's °C into, its pages mapped here: page faults of a
    // fresh 1.3 MB frame (640×512) cost the worker ≈ 0.6 ms, as much as the conversion itself, and
    // this thread has time to spare while the worker has none.
    const output = frameBuffer(frame.data.length, true);
    worker.postMessage({ type: 'frame', frame, inOrder, output } satisfies ToCameraWorker, [
      frame.data.buffer as ArrayBuffer,
      output.buffer as ArrayBuffer,
    ]);
  }

  #spawn(restart: boolean): void {
    const data: CameraWorkerData = {
      config: this.#o.config,
      cameraId: this.cameraId,
      profile: this.#o.profile,
      // After a crash the camera is still warm: the reference starts over without a warm-up.
      reference: restart ? { ...this.#referenceConfig, warmupS: 0 } : this.#referenceConfig,
      calibrationId: this.#calibrationId,
      screening: this.#screening,
      firstPersonNumber: this.#nextPersonNumber,
    };
    const worker = new Worker(ENTRY, { workerData: data, name: `camera ${this.cameraId}` });
    this.#worker = worker;
    let failure: string | null = null;
    worker.on('message', (message: FromCameraWorker) => {
      if (this.#worker === worker) this.#receive(message);
    });
    worker.on('error', (error) => {
      failure = error instanceof Error ? error.message : String(error);
    });
    worker.on('exit', (code) => {
      if (this.#worker !== worker || this.#stopping) return;
      this.#crashed(failure ?? `exited with code ${code}`);
    });
    // Frames held while it was down go first, in order.
    for (const frame of this.#held.splice(0)) this.#post(frame, true);
    if (this.#waiting) {
      const frame = this.#waiting;
      this.#waiting = null;
      this.#post(frame, false);
    }
  }

  #crashed(reason: string): void {
    const lost = this.#inFlight;
    this.#worker = null;
    this.#inFlight = 0;
    for (let i = 0; i < lost; i++) this.#o.onSkip();
    this.#restarts++;
    this.#lastCrash = reason;
    this.#lastCrashAt = Date.now();
    this.#problem = `processing worker died (${reason}); restarting`;
    log.error({ camera: this.cameraId, reason, lostFrames: lost }, 'camera processing worker died');
    this.#o.onHealth?.(this.#problem);
    const delay = Math.min(RESTART_MAX_MS, RESTART_INITIAL_MS * 2 ** this.#crashesInARow);
    this.#crashesInARow++;
    this.#closeOpenPersons(reason);
    this.#tracksNotPersonsBefore += this.#tracksNotPersons;
    this.#tracksNotPersons = 0;
    this.#lastScreening = null;
    for (const resolve of this.#flushes.values()) resolve();
    this.#flushes.clear();
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = null;
      if (!this.#stopping) this.#spawn(true);
    }, delay);
    this.#releaseWaiters();
  }

  #releaseWaiters(): void {
    for (const resolve of this.#roomWaiters.splice(0)) resolve();
  }

  #receive(message: FromCameraWorker): void {
    const bus = this.#o.bus;
    switch (message.type) {
      case 'ready':
        // A worker takes ≈ 0.5 s to load the code: the rate starts when it can process.
        if (this.processed.total === 0) this.processed = new RateMeter();
        return;
      case 'event':
        if (message.referenceRegion !== undefined) this.#referenceRegion = message.referenceRegion;
        this.#publish(message.name, message.payload);
        return;
      case 'frame': {
        const now = Date.now();
        this.#done(message.skipped);
        this.processed.add(now);
        if (message.flatField) this.flatFieldFrames.add(now);
        this.lastProcessingMs = message.processingMs;
        this.#tracksNotPersons = message.tracksNotPersons;
        const payload = message.payload as unknown as PublishedEvent<'frame'>;
        this.#reference = payload.reference;
        this.#referenceRegion = payload.thermal.referenceRegion;
        if (this.#crashesInARow > 0 || this.#problem !== null) {
          this.#crashesInARow = 0;
          this.#problem = null;
          log.info({ camera: this.cameraId }, 'camera processing worker running again');
          this.#o.onHealth?.(null);
        }
        bus.emit('frame', payload);
        this.#next();
        return;
      }
      case 'failed':
        this.#done(message.skipped);
        this.#o.onSkip();
        this.#failures++;
        if (this.#failures === 1 || this.#failures % 1000 === 0) {
          log.error(
            { camera: this.cameraId, seq: message.seq, failures: this.#failures, error: message.error },
            'a frame could not be processed',
          );
        }
        this.#next();
        return;
      case 'flushed':
        this.#flushes.get(message.token)?.();
        this.#flushes.delete(message.token);
        return;
    }
  }

  /** One frame processed (or failed) in the worker, and `skipped` replaced there before it. */
  #done(skipped: number): void {
    this.#inFlight -= 1 + skipped;
    for (let i = 0; i < skipped; i++) this.#o.onSkip();
  }

  /** Room for the replay's next frame. */
  #next(): void {
    if (this.#inFlight + this.#held.length < MAX_IN_FLIGHT) this.#roomWaiters.shift()?.();
  }

  /** Keeps each open person's last event, and the next free person number. */
  #follow(event: PublishedEvent<'screening'>): void {
    if (event.kind === 'end') this.#open.delete(event.personId);
    else this.#open.set(event.personId, event);
    const number = Number(event.personId.slice(event.personId.lastIndexOf('-') + 1));
    if (Number.isInteger(number) && number >= this.#nextPersonNumber) this.#nextPersonNumber = number + 1;
  }

  /**
   * The persons in view when the worker died get their verdict now, as an `end` like any other (the
   * store, the alert list and the command centre close them): no reading can follow, so the decision
   * is `invalid` — an `elevated` one stays elevated, its alert was raised — with the reason stated.
   * The same rule as for persons left open by a crash of the whole appliance (store/eventStore.ts).
   */
  #closeOpenPersons(reason: string): void {
    const now = Date.now();
    for (const last of this.#open.values()) {
      const { id: _id, ...rest } = last;
      this.#o.bus.emit('screening', {
        ...rest,
        kind: 'end',
        at: Math.max(now, last.at),
        state: 'invalid',
        prompts: [],
        decision: last.decision === 'elevated' ? 'elevated' : 'invalid',
        reasonCodes: [...last.reasonCodes, 'measure-again'],
        reasons: [...last.reasons, `${PROCESSING_STOPPED_REASON} (${reason})`],
        alert: false,
      } as unknown as PublishedEvent<'screening'>);
    }
    this.#open.clear();
  }

  #publish(name: EventName, payload: Record<string, unknown>): void {
    const bus = this.#o.bus;
    if (name === 'screening') {
      const event = bus.emit('screening', payload as unknown as PublishedEvent<'screening'>);
      this.#lastScreening = event;
      this.#follow(event);
    } else if (name === 'alert') {
      // Raised right after its screening event, which has just been stamped here.
      const screening = this.#lastScreening;
      if (!screening) return;
      bus.emit('alert', { screening, screeningEventId: screening.id, at: payload.at as number });
    } else if (name === 'reference.state') {
      const event = bus.emit('reference.state', payload as unknown as PublishedEvent<'reference.state'>);
      this.#reference = event.current;
    } else {
      bus.emit(name, payload as never);
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
