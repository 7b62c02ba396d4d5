/**
 * A camera read through a GStreamer pipeline that ends in `appsink name=sink`.
 *
 * - The pipeline is built once and reused: creating and disposing pipelines leaks ≈ 2 MB each,
 *   so a reconnect is a state change (stop → play), never a new pipeline.
 * - One `pull()` is pending at a time; each holds a libuv pool thread while it waits.
 * - A source that fails (error on the bus, end of a live stream, no frames for too long) goes
 *   `offline` with the reason and is retried with exponential backoff. Nothing here throws into
 *   the process: a camera that disappears never takes the appliance down.
 * - Finite sources (recordings) end: state `ended` after the last frame.
 */
import type { CameraState } from '../core/events.ts';
import type { RawFrame } from '../core/types.ts';
import { type GstAppSink, type GstBusMessage, type GstPipeline, gstreamer } from './gstreamerBinding.ts';
import type { RecordedFrameTime } from './recording.ts';

export interface GstSourceOptions {
  cameraId: string;
  /** The pipeline description; it must end in an element named `sink` (an appsink). */
  description: string;
  width: number;
  height: number;
  /**
   * 2 (default): GRAY16 thermal counts, delivered as RawFrames. 3: packed RGB (a bi-spectrum
   * camera's visible stream), delivered to `onPixels`; GStreamer pads its rows to 4 bytes.
   */
  bytesPerPixel?: 2 | 3;
  /** Nominal frame rate, used to count frames the source dropped while we were busy. */
  fps: number;
  /** Live sources are retried when they end; recordings end for good. */
  live: boolean;
  /**
   * Frame times: the wall clock at arrival (live), or the first frame's arrival plus seq / fps
   * (recordings, so a fast replay keeps the recorded timing).
   */
  timestamps?: 'arrival' | 'frame-rate';
  /**
   * Recordings with frames.jsonl: each frame's time after the first and its flat-field flag. Frame
   * times are then the first frame's arrival plus the recorded offset (a flat-field gap stays a gap),
   * and `flatField` comes from the recording.
   */
  frameTimes?: readonly RecordedFrameTime[];
  /**
   * With `frameTimes`: `realtime` delivers each frame at its recorded offset; `fast` at once.
   * Without: `realtime` says GStreamer plays the frames at their rate (`sync=true`), so no frame can
   * arrive before its time; one that does shows the first frame was pulled late (a busy start), and
   * the frame times are moved earlier to match (`timestamps: 'frame-rate'`).
   */
  pace?: 'realtime' | 'fast';
  /** Checked before each (re)start; returns why the source cannot start now, or null. */
  precheck?: () => string | null;
  /** No frame for this long means the source stalled (default: 10 s, or 30 frame intervals). */
  stallTimeoutMs?: number;
  backoff?: { initialMs: number; maxMs: number };
  now?: () => number;
}

export interface SourceStats {
  state: CameraState;
  reason: string;
  framesIn: number;
  /** Frames the source produced that never reached us (estimated from timing for live sources). */
  framesDroppedAtSource: number;
  restarts: number;
  lastFrameAt: number | null;
  since: number;
}

/** A frame as bytes, rows unpadded: what `onPixels` listeners get (RGB for visible streams). */
export interface PixelFrame {
  seq: number;
  capturedAt: number;
  width: number;
  height: number;
  pixels: Uint8Array;
}

/**
 * A listener may return a promise: the next frame is not pulled before it settles (back-pressure
 * for fast replays whose frames are processed elsewhere, e.g. in a worker thread).
 */
export type FrameListener = (frame: RawFrame) => unknown;
export type PixelListener = (frame: PixelFrame) => void;
export type StateListener = (state: CameraState, reason: string) => void;

export class GstFrameSource {
  readonly cameraId: string;
  readonly #options: GstSourceOptions;
  readonly #frameBytes: number;
  readonly #bytesPerPixel: number;
  /** Bytes per row in GStreamer's buffer (RGB rows are padded to 4 bytes). */
  readonly #rowStride: number;
  readonly #now: () => number;
  #pipeline: GstPipeline | null = null;
  #sink: GstAppSink | null = null;
  #playing = false;
  #pullPending = false;
  /** Bus pollers started and not yet seen to end (each holds a pool thread while it waits). */
  #busPollers = 0;
  /** The pipeline is in GStreamer's NULL state (stopped by us). */
  #pipelineNull = true;
  /** Bumped at every (re)start, so a pull answered for an earlier run is recognised and ignored. */
  #generation = 0;
  #stopped = false;
  #retryTimer: NodeJS.Timeout | null = null;
  /** A pulled frame waiting for its recorded time (realtime replay with frame times). */
  #paceTimer: NodeJS.Timeout | null = null;
  /** A frame listener is not ready for the next frame yet (back-pressure): no pull, no stall. */
  #heldByListener = false;
  /** When a listener last let capture go on: silence is counted from then, not from the held frame. */
  #releasedAt = 0;
  #watchdog: NodeJS.Timeout | null = null;
  #backoffMs: number;
  #startedAt = 0;
  #seq = 0;
  #firstFrameAt: number | null = null;
  #stats: SourceStats;
  #frameListeners: FrameListener[] = [];
  #pixelListeners: PixelListener[] = [];
  #stateListeners: StateListener[] = [];

  constructor(options: GstSourceOptions) {
    this.cameraId = options.cameraId;
    this.#options = options;
    this.#bytesPerPixel = options.bytesPerPixel ?? 2;
    const rowBytes = options.width * this.#bytesPerPixel;
    this.#rowStride = this.#bytesPerPixel === 3 ? Math.ceil(rowBytes / 4) * 4 : rowBytes;
    this.#frameBytes = this.#rowStride * options.height;
    this.#now = options.now ?? Date.now;
    this.#backoffMs = options.backoff?.initialMs ?? 1000;
    this.#stats = {
      state: 'starting',
      reason: 'not started',
      framesIn: 0,
      framesDroppedAtSource: 0,
      restarts: 0,
      lastFrameAt: null,
      since: this.#now(),
    };
  }

  onFrame(listener: FrameListener): void {
    this.#frameListeners.push(listener);
  }

  /** Frames as bytes (for RGB sources, which carry no thermal counts). */
  onPixels(listener: PixelListener): void {
    this.#pixelListeners.push(listener);
  }

  onState(listener: StateListener): void {
    this.#stateListeners.push(listener);
  }

  stats(): SourceStats {
    return { ...this.#stats };
  }

  start(): void {
    this.#stopped = false;
    const stallMs = this.#stallTimeoutMs();
    this.#watchdog = setInterval(() => this.#checkStall(), Math.min(1000, stallMs / 2));
    this.#watchdog.unref();
    this.#attempt();
  }

  /** Stops for good (shutdown); resolves once no bus poller holds a pool thread any more. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    if (this.#watchdog) clearInterval(this.#watchdog);
    if (this.#paceTimer) clearTimeout(this.#paceTimer);
    this.#paceTimer = null;
    this.#retryTimer = null;
    this.#watchdog = null;
    if (this.#playing) this.#stopPipeline();
    this.#playing = false;
    await this.#releaseBusPollers();
  }

  /**
   * The binding's bus poller waits on a pool thread for the next message and only notices that the
   * pipeline is stopped when one arrives; Node joins pool threads at exit, so a poller left waiting
   * hangs the process. A NULL → PAUSED → NULL round trip posts state messages that release it; the
   * round trip is repeated until every poller has been seen to end (a wake-up can be missed).
   */
  async #releaseBusPollers(): Promise<void> {
    const pipeline = this.#pipeline;
    if (!pipeline) return;
    for (let attempt = 0; attempt < 50 && this.#busPollers > 0; attempt++) {
      try {
        this.#pipelineNull = false;
        pipeline.pause();
      } finally {
        this.#stopPipeline();
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  #stopPipeline(): void {
    this.#pipeline?.stop();
    this.#pipelineNull = true;
  }

  /** The appsrc of a pipeline that has one (the simulator feeds frames through it). */
  appsrc(name: string): ReturnType<GstPipeline['findChild']> {
    return this.#ensurePipeline()?.findChild(name);
  }

  #stallTimeoutMs(): number {
    return this.#options.stallTimeoutMs ?? Math.max(10_000, (30 * 1000) / this.#options.fps);
  }

  #ensurePipeline(): GstPipeline | null {
    if (this.#pipeline) return this.#pipeline;
    try {
      const pipeline = new (gstreamer().Pipeline)(this.#options.description);
      const sink = pipeline.findChild('sink');
      if (!sink) throw new Error('the pipeline has no element named "sink"');
      this.#pipeline = pipeline;
      this.#sink = sink;
    } catch (error) {
      this.#setState('offline', `cannot build the GStreamer pipeline: ${(error as Error).message}`);
      return null;
    }
    return this.#pipeline;
  }

  #attempt(): void {
    this.#retryTimer = null;
    if (this.#stopped) return;
    const blocked = this.#options.precheck?.() ?? null;
    if (blocked) {
      this.#goOffline(blocked);
      return;
    }
    const pipeline = this.#ensurePipeline();
    if (!pipeline) {
      this.#scheduleRetry();
      return;
    }
    this.#setState(
      'starting',
      this.#stats.restarts ? `reconnecting (attempt ${this.#stats.restarts + 1})` : 'starting',
    );
    this.#startedAt = this.#now();
    this.#generation++;
    this.#pullPending = false;
    this.#playing = true;
    // The binding's bus poller ends once the pipeline is back in NULL; start a fresh one each play.
    this.#busPollers++;
    pipeline.pollBus((message) => {
      this.#onBusMessage(message);
      // The binding polls again unless the pipeline is in NULL once this callback returns.
      if (this.#pipelineNull) this.#busPollers--;
    });
    this.#pipelineNull = false;
    pipeline.play();
    this.#pullNext();
  }

  #pullNext(): void {
    if (!this.#playing || this.#pullPending || !this.#sink) return;
    this.#pullPending = true;
    const generation = this.#generation;
    this.#sink.pull((buffer) => {
      if (generation !== this.#generation) return;
      this.#pullPending = false;
      if (!this.#playing) return;
      if (!buffer) {
        this.#onStreamStopped();
        return;
      }
      const waitMs = this.#paceDelayMs();
      if (waitMs > 0) {
        // Hold the frame (and further pulls) until its recorded time.
        this.#pullPending = true;
        this.#paceTimer = setTimeout(() => {
          this.#paceTimer = null;
          this.#pullPending = false;
          if (generation !== this.#generation || !this.#playing) return;
          this.#deliver(buffer);
          this.#pullNext();
        }, waitMs);
        return;
      }
      const held = this.#deliver(buffer);
      if (held) {
        this.#pullPending = true;
        this.#heldByListener = true;
        void held.then(() => {
          this.#heldByListener = false;
          this.#releasedAt = this.#now();
          if (generation !== this.#generation) return;
          this.#pullPending = false;
          this.#pullNext();
        });
        return;
      }
      this.#pullNext();
    });
  }

  /** How long the next frame must wait for its recorded time (realtime replays with frame times). */
  #paceDelayMs(): number {
    const times = this.#options.frameTimes;
    if (this.#options.pace !== 'realtime' || !times || this.#firstFrameAt === null) return 0;
    const recorded = times[this.#seq];
    if (!recorded) return 0;
    return this.#firstFrameAt + recorded.offsetMs - this.#now();
  }

  /** Hands the frame to the listeners; a promise when one of them wants the next pull to wait. */
  #deliver(buffer: Buffer): Promise<unknown> | undefined {
    const now = this.#now();
    if (buffer.length !== this.#frameBytes) {
      this.#goOffline(
        `frame has ${buffer.length} bytes, the profile expects ${this.#options.width}×${this.#options.height}×${this.#bytesPerPixel}${this.#rowStride !== this.#options.width * this.#bytesPerPixel ? ` (rows padded to ${this.#rowStride})` : ''} = ${this.#frameBytes}: check the camera profile`,
      );
      return;
    }
    if (this.#options.live && this.#stats.lastFrameAt !== null) {
      // A live source keeps producing while we are busy; frames we never saw show as gaps in time.
      const intervals = ((now - this.#stats.lastFrameAt) * this.#options.fps) / 1000;
      if (intervals >= 1.75) this.#stats.framesDroppedAtSource += Math.floor(intervals - 0.75);
    }
    this.#stats.framesIn++;
    this.#stats.lastFrameAt = now;
    if (this.#stats.state !== 'online') {
      this.#backoffMs = this.#options.backoff?.initialMs ?? 1000;
      this.#setState('online', 'frames arriving');
    }
    this.#firstFrameAt ??= now;
    const seq = this.#seq++;
    if (
      this.#options.timestamps === 'frame-rate' &&
      this.#options.pace === 'realtime' &&
      !this.#options.frameTimes
    ) {
      // Frame times count from the first frame's arrival. Pulled late, it would leave every later time
      // ahead of its frame by that delay, for the whole replay — and the thermal and visible replays of
      // a bi-spectrum camera apart by the difference of their delays (no frame pairs on a loaded
      // machine). Played at its rate, a frame arrives at its time or after: the earliest arrival
      // minus its place in the stream is when the replay started.
      this.#firstFrameAt = Math.min(this.#firstFrameAt, Math.floor(now - (seq * 1000) / this.#options.fps));
    }
    const recorded = this.#options.frameTimes?.[seq];
    const capturedAt = recorded
      ? this.#firstFrameAt + Math.round(recorded.offsetMs)
      : this.#options.timestamps === 'frame-rate'
        ? this.#firstFrameAt + Math.round((seq * 1000) / this.#options.fps)
        : now;
    const { width, height } = this.#options;
    if (this.#pixelListeners.length > 0) {
      const pixels = unpadRows(buffer, width * this.#bytesPerPixel, this.#rowStride, height);
      for (const listener of this.#pixelListeners) listener({ seq, capturedAt, width, height, pixels });
    }
    if (this.#frameListeners.length === 0 || this.#bytesPerPixel !== 2) return;
    const data = countsOf(buffer, this.#frameBytes);
    const frame: RawFrame = { cameraId: this.cameraId, seq, capturedAt, width, height, data };
    if (recorded) frame.flatField = recorded.flatField;
    const held: Promise<unknown>[] = [];
    for (const listener of this.#frameListeners) {
      const wait = listener(frame);
      if (wait instanceof Promise) held.push(wait);
    }
    return held.length > 0 ? Promise.all(held) : undefined;
  }

  #onBusMessage(message: GstBusMessage): void {
    if (message.type === 'error') {
      const where = message._src_element_name ? ` (${message._src_element_name})` : '';
      this.#goOffline(`${message.message ?? 'pipeline error'}${where}`);
    } else if (message.type === 'eos' && this.#options.live) {
      this.#goOffline('the stream ended');
    }
  }

  #onStreamStopped(): void {
    if (this.#options.live || this.#stats.framesIn === 0) {
      this.#goOffline(
        this.#stats.framesIn === 0 && !this.#options.live
          ? 'the source produced no frames'
          : 'the stream stopped',
      );
    } else {
      this.#playing = false;
      this.#stopPipeline();
      this.#setState('ended', `end of recording after ${this.#stats.framesIn} frames`);
    }
  }

  #checkStall(): void {
    // A frame held for its recorded time (a long gap in a recording) is not a stall.
    if (!this.#playing || this.#paceTimer || this.#heldByListener) return;
    const since = this.#stats.lastFrameAt ?? this.#startedAt;
    const silentMs = this.#now() - Math.max(since, this.#startedAt, this.#releasedAt);
    if (silentMs > this.#stallTimeoutMs()) {
      this.#goOffline(`no frames for ${(silentMs / 1000).toFixed(1)} s`);
    }
  }

  #goOffline(reason: string): void {
    if (this.#playing) {
      this.#playing = false;
      this.#stopPipeline();
    }
    this.#setState('offline', reason);
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (this.#stopped || this.#retryTimer) return;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#options.backoff?.maxMs ?? 30_000, this.#backoffMs * 2);
    this.#retryTimer = setTimeout(() => {
      this.#stats.restarts++;
      this.#attempt();
    }, delay);
  }

  #setState(state: CameraState, reason: string): void {
    const changed = state !== this.#stats.state || reason !== this.#stats.reason;
    this.#stats.state = state;
    this.#stats.reason = reason;
    if (!changed) return;
    this.#stats.since = this.#now();
    for (const listener of this.#stateListeners) listener(state, reason);
  }
}

/**
 * The frame's counts as a Uint16Array that owns its memory (it is transferred to the camera's
 * worker). The binding already hands over a fresh copy of GStreamer's buffer in an ArrayBuffer of
 * its own: that is used as it is. Only a buffer that shares its ArrayBuffer (Node's pool) or sits at
 * an odd offset is copied.
 */
function countsOf(buffer: Buffer, frameBytes: number): Uint16Array {
  if (buffer.byteOffset === 0 && buffer.buffer.byteLength === frameBytes) {
    return new Uint16Array(buffer.buffer, 0, frameBytes / 2);
  }
  const data = new Uint16Array(frameBytes / 2);
  new Uint8Array(data.buffer).set(buffer);
  return data;
}

/** A copy of the buffer without GStreamer's row padding. */
function unpadRows(buffer: Buffer, rowBytes: number, stride: number, height: number): Uint8Array {
  if (rowBytes === stride) return Uint8Array.from(buffer);
  const out = new Uint8Array(rowBytes * height);
  for (let y = 0; y < height; y++) out.set(buffer.subarray(y * stride, y * stride + rowBytes), y * rowBytes);
  return out;
}
