/**
 * One camera, assembled: its source (GStreamer), the visible stream of a bi-spectrum camera with
 * its face source, the screening stage and the frame pipeline, joined by the one-frame slot; its
 * counters and its health. Committed calibrations and registrations reach it over the bus.
 */
import { type Rotation, rotatedSize, rotateFrame } from '../camera/rotate.ts';
import type { CameraSource } from '../camera/sources.ts';
import { createSource, parseSourceUri, redactSource } from '../camera/sources.ts';
import {
  createVisibleGstSource,
  parseVisibleSourceUri,
  VisibleCapture,
  type VisibleDetector,
} from '../camera/visibleSource.ts';
import {
  type ApplianceConfig,
  type CameraConfig,
  cameraReference,
  referenceWithCalibration,
} from '../config/load.ts';
import type { CameraProfile } from '../core/cameraProfile.ts';
import type { EventBus } from '../core/eventBus.ts';
import type { CameraHealth } from '../core/health.ts';
import { log } from '../core/log.ts';
import type { RawFrame } from '../core/types.ts';
import { createScreeningStage } from '../screening/createScreeningStage.ts';
import type { Stores } from '../store/store.ts';
import { CameraPipeline } from './cameraPipeline.ts';
import { WorkerFramePath } from './cameraWorker.ts';
import { FrameSlot } from './frameSlot.ts';
import { RateMeter } from './rateMeter.ts';
import { RegisteredFaces } from './registeredFaces.ts';

export interface CameraRuntimeOptions {
  config: ApplianceConfig;
  camera: CameraConfig;
  profile: CameraProfile;
  bus: EventBus;
  stores: Pick<Stores, 'calibrations' | 'registrations'>;
  visibleDetection: { detect: VisibleDetector | null; problem: string | null };
}

export class CameraRuntime {
  readonly id: string;
  readonly name: string;
  readonly profile: CameraProfile;
  /** Clockwise rotation applied right after capture (camera setting `rotate`). */
  readonly rotate: Rotation;
  /** The size of the frames after rotation: what detection, snapshots and the UI see. */
  readonly frameWidth: number;
  readonly frameHeight: number;
  readonly source: CameraSource;
  /**
   * The frame path: in a worker thread of its own (`processing.worker`, thermal-only cameras), or on
   * the main thread (bi-spectrum cameras: their visible faces come from the main thread's ONNX).
   */
  readonly pipeline: CameraPipeline | WorkerFramePath;
  readonly visible: VisibleCapture | null;
  readonly faces: RegisteredFaces | null;
  readonly framesIn = new RateMeter();
  readonly skipped = new RateMeter();
  ended = false;
  /** Why a recording could not be replayed (a recording that goes offline is not retried). */
  failure: string | null = null;
  readonly #config: CameraConfig;
  readonly #unsubscribe: (() => void)[] = [];
  #onEnded: () => void = () => {};

  constructor(o: CameraRuntimeOptions) {
    const { camera, profile, bus } = o;
    this.id = camera.id;
    this.name = camera.name ?? camera.id;
    this.profile = profile;
    this.#config = camera;
    this.rotate = camera.rotate ?? 0;
    ({ width: this.frameWidth, height: this.frameHeight } = rotatedSize(
      profile.width,
      profile.height,
      this.rotate,
    ));
    const spec = parseSourceUri(camera.source);
    this.source = createSource(camera.id, spec, profile);
    this.visible = camera.visibleSource
      ? new VisibleCapture({
          cameraId: camera.id,
          uri: camera.visibleSource,
          gst: createVisibleGstSource(
            camera.id,
            parseVisibleSourceUri(camera.visibleSource),
            profile.visible!,
          ),
          fps: profile.visible!.fps,
        })
      : null;
    const faces = this.visible
      ? new RegisteredFaces({
          cameraId: camera.id,
          registration: o.stores.registrations.latest(camera.id),
          capture: this.visible,
          detectorProblem: o.visibleDetection.problem,
        })
      : null;
    this.faces = faces;
    if (this.visible && faces && o.visibleDetection.detect) {
      this.visible.useDetector(o.visibleDetection.detect, () => faces.registration !== null);
    }
    const calibration = o.stores.calibrations.latest(camera.id);
    const reference = referenceWithCalibration(cameraReference(o.config, camera), calibration);
    const inWorker = o.config.processing?.worker === true && !this.visible;
    let stage: ReturnType<typeof createScreeningStage> | null = null;
    if (inWorker) {
      this.pipeline = new WorkerFramePath({
        config: o.config,
        cameraId: camera.id,
        profile,
        reference,
        calibrationId: calibration?.id ?? null,
        bus,
        onSkip: () => this.skipped.add(Date.now()),
        onHealth: (problem) =>
          bus.emit('camera.state', {
            cameraId: camera.id,
            state: problem ? 'offline' : this.source.gst.stats().state,
            reason: problem ?? 'processing running again',
          }),
      });
    } else {
      stage = createScreeningStage({
        cameraId: camera.id,
        config: o.config,
        profile,
        bus,
        // Bi-spectrum cameras: visible faces mapped with the registration; the thermal detector otherwise.
        faceSource: faces ? (frame, exclude) => faces.faces(frame, exclude) : null,
      });
      this.pipeline = new CameraPipeline({
        cameraId: camera.id,
        profile,
        reference,
        calibrationId: calibration?.id ?? null,
        bus,
        stage,
      });
    }
    const path = this.pipeline;
    // Commits take effect from the next frame (inline: setting a field is constant work).
    this.#unsubscribe.push(
      bus.on(
        'calibration.committed',
        ({ record }) => {
          if (record.cameraId !== camera.id) return;
          this.pipeline.setReference(
            referenceWithCalibration(this.pipeline.referenceConfig, record),
            record.id,
          );
        },
        { name: `camera ${camera.id}: calibration`, delivery: 'inline' },
      ),
      bus.on(
        'settings.changed',
        ({ screening }) => (stage ?? (path as WorkerFramePath)).setScreening(screening),
        {
          name: `camera ${camera.id}: settings`,
          delivery: 'inline',
        },
      ),
      bus.on(
        'registration.committed',
        ({ record }) => {
          if (faces && record.cameraId === camera.id) faces.registration = record;
        },
        { name: `camera ${camera.id}: registration`, delivery: 'inline' },
      ),
    );

    // Fast replays process every frame in order (the capture waits); everything else lets the latest frame win.
    const processNow = spec.kind === 'recording' && spec.pace === 'fast';
    const slot =
      path instanceof CameraPipeline
        ? new FrameSlot<RawFrame>(
            (frame) => path.process(frame),
            () => this.skipped.add(Date.now()),
          )
        : null;
    const rotate = this.rotate;
    this.source.gst.onFrame((captured) => {
      this.framesIn.add(Date.now());
      // Upright before anything reads the frame: radiometry, the reference, detection, snapshots, UI.
      const frame = rotateFrame(captured, rotate);
      this.visible?.attach(frame);
      if (path instanceof WorkerFramePath) {
        // The returned promise holds the next pull while the worker has enough frames (fast replays).
        if (processNow) return path.submit(frame);
        path.offer(frame);
      } else if (processNow) path.process(frame);
      else slot?.offer(frame);
      return undefined;
    });
    this.source.gst.onState((state, reason) => {
      log.info({ camera: camera.id, state, reason }, 'camera state');
      bus.emit('camera.state', { cameraId: camera.id, state, reason });
      if (state === 'offline' && spec.kind === 'recording' && !this.ended) {
        this.failure = `camera ${camera.id}: ${reason}`;
        void this.source.stop();
      }
      if (state === 'ended' || this.failure) {
        // Let the last frame in the slot (or the worker) be processed before closing the tracks.
        setImmediate(() => {
          void Promise.resolve(this.pipeline.flush(Date.now())).then(() => {
            this.ended = true;
            this.#onEnded();
          });
        });
      }
    });
    this.visible?.gst.onState((state, reason) => {
      log.info({ camera: camera.id, stream: 'visible', state, reason }, 'camera state');
    });
  }

  /** Called when a finite source (a recording) has ended or failed. */
  onEnded(listener: () => void): void {
    this.#onEnded = listener;
  }

  start(): void {
    this.source.start();
    this.visible?.start();
  }

  /**
   * Every capture stopped and its threads released (the process can exit after this). Persons still
   * in view get their `end` event now, with what was measured, rather than none.
   */
  async stop(): Promise<void> {
    for (const off of this.#unsubscribe.splice(0)) off();
    await Promise.all([this.source.stop(), this.visible?.stop()]);
    if (!this.ended) await this.pipeline.flush(Date.now());
    if (this.pipeline instanceof WorkerFramePath) await this.pipeline.stop();
  }

  health(): CameraHealth {
    const now = Date.now();
    const stats = this.source.gst.stats();
    const reference = this.pipeline.reference;
    const worker = this.pipeline instanceof WorkerFramePath ? this.pipeline : null;
    // A dead processing worker (being restarted) means the camera is not screening, whatever capture says.
    const processingProblem = worker?.problem ?? null;
    return {
      id: this.id,
      name: this.name,
      profile: this.profile.id,
      source: redactSource(this.#config.source),
      state: processingProblem ? 'offline' : stats.state,
      reason: processingProblem ?? stats.reason,
      since: new Date(stats.since).toISOString(),
      framesPerSecond: {
        in: this.framesIn.perSecond(now),
        processed: this.pipeline.processed.perSecond(now),
        skipped: this.skipped.perSecond(now),
      },
      totals: {
        in: stats.framesIn,
        processed: this.pipeline.processed.total,
        skipped: this.skipped.total + stats.framesDroppedAtSource,
        droppedAtSource: stats.framesDroppedAtSource,
        flatField: this.pipeline.flatFieldFrames.total,
      },
      lastFrameAt: stats.lastFrameAt ? new Date(stats.lastFrameAt).toISOString() : null,
      processingMs: Math.round(this.pipeline.lastProcessingMs * 100) / 100,
      reference: reference ? { ...reference, region: this.pipeline.referenceRegion } : null,
      calibrationId: this.pipeline.calibrationId,
      screened: { normal: 0, elevated: 0, retest: 0, invalid: 0 },
      tracksNotPersons: this.pipeline.tracksNotPersons,
      visible: this.visible?.health(redactSource) ?? null,
      faces: this.faces?.health() ?? null,
      processing: worker?.health() ?? { thread: 'main' },
    };
  }
}
