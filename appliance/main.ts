/**
 * Wires the appliance: configuration → camera sources → frame pipelines → event bus → HTTP server
 * and event outputs. The only module that knows every part.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  activeCalibrations,
  CalibrationSessions,
  type ReferenceTarget,
  referenceWithCalibration,
} from './calibrationSessions.ts';
import { type CameraSource, createSource, parseSourceUri, redactSource } from './camera/sources.ts';
import {
  createVisibleGstSource,
  parseVisibleSourceUri,
  VisibleCapture,
  type VisibleDetector,
  type VisibleHealth,
} from './camera/visibleSource.ts';
import { type ApplianceConfig, cameraReference, type LoadedConfig } from './config/load.ts';
import { EventBus } from './core/eventBus.ts';
import { log } from './core/log.ts';
import type { Decision, RawFrame } from './core/types.ts';
import { VERSION } from './core/version.ts';
import { CameraPipeline } from './pipeline/cameraPipeline.ts';
import { FrameSlot } from './pipeline/frameSlot.ts';
import { RateMeter } from './pipeline/rateMeter.ts';
import { type FaceSourceHealth, RegisteredFaces, RegistrationService } from './registration.ts';
import { createScreeningStage } from './screening/createScreeningStage.ts';
import { Auth } from './server/auth.ts';
import { authRoutes } from './server/authRoutes.ts';
import { calibrationRoutes } from './server/calibrationRoutes.ts';
import { type CameraHealth, type Health, healthRoutes } from './server/healthRoutes.ts';
import { createHttpApp } from './server/httpApp.ts';
import { registrationRoutes } from './server/registrationRoutes.ts';
import { userRoutes } from './server/userRoutes.ts';
import { openStore, type Store } from './store/store.ts';

export interface ApplianceOptions {
  loaded: LoadedConfig;
  /** No HTTP server (batch runs). */
  headless?: boolean;
}

interface CameraRuntime {
  config: ApplianceConfig['cameras'][number];
  source: CameraSource;
  pipeline: CameraPipeline;
  framesIn: RateMeter;
  skipped: RateMeter;
  ended: boolean;
  /** Why a recording could not be replayed (a recording that goes offline is not retried). */
  failure: string | null;
  /** The visible stream of a bi-spectrum camera, when configured. */
  visible: VisibleCapture | null;
  /** Where a bi-spectrum camera's faces come from (visible via the registration, or thermal). */
  faces: RegisteredFaces | null;
  /** Persons whose screening ended, by decision. */
  screened: Record<Decision, number>;
}

/** Health of a camera with its visible stream and face source. */
type CameraHealthDetail = CameraHealth & { visible: VisibleHealth | null; faces: FaceSourceHealth | null };

export interface Appliance {
  readonly bus: EventBus;
  readonly config: ApplianceConfig;
  /** The HTTP port actually bound (0 when headless). */
  readonly port: number;
  /** The HTTP server (null when headless). */
  readonly server: Server | null;
  readonly store: Store;
  /** Users and sessions (null when headless: no HTTP, nobody to log in). */
  readonly auth: Auth | null;
  /** Calibration sessions and the committed calibration per camera. */
  readonly calibration: CalibrationSessions;
  /** Visible → thermal registrations of bi-spectrum cameras. */
  readonly registrations: RegistrationService;
  health(): Health;
  /** Resolves when every camera's source has ended (recordings); live sources never end. */
  readonly finished: Promise<void>;
  /** Recordings that could not be replayed, with the reason. */
  failures(): string[];
  stop(): Promise<void>;
}

export async function startAppliance(options: ApplianceOptions): Promise<Appliance> {
  const { config, profiles } = options.loaded;
  const bus = new EventBus();
  const startedAt = Date.now();
  const cameras: CameraRuntime[] = [];
  // Opens (or creates) the data folder; a file it cannot parse stops the start here.
  const store = await openStore(config.dataDir);
  // The latest committed calibration of each camera replaces its configured blackbody values.
  const calibrated = activeCalibrations(store);
  // Bi-spectrum registrations: the latest committed one per camera is in force from the start.
  const registrations = await RegistrationService.open({
    dataDir: store.dataDir,
    cameras: new Map(
      config.cameras.map((camera) => {
        const profile = profiles.get(camera.profile)!;
        const visible = profile.visible
          ? { width: profile.visible.width, height: profile.visible.height }
          : null;
        return [
          camera.id,
          { thermal: { width: profile.width, height: profile.height }, visible, profile: profile.id },
        ];
      }),
    ),
  });
  const visibleDetection = await loadVisibleDetector(config);
  let resolveFinished: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    resolveFinished = resolve;
  });

  for (const cameraConfig of config.cameras) {
    const profile = profiles.get(cameraConfig.profile)!;
    const spec = parseSourceUri(cameraConfig.source);
    const source = createSource(cameraConfig.id, spec, profile);
    const visible = cameraConfig.visibleSource
      ? new VisibleCapture({
          cameraId: cameraConfig.id,
          uri: cameraConfig.visibleSource,
          gst: createVisibleGstSource(
            cameraConfig.id,
            parseVisibleSourceUri(cameraConfig.visibleSource),
            profile.visible!,
          ),
          fps: profile.visible!.fps,
        })
      : null;
    if (visible && visibleDetection.detect) {
      visible.useDetector(visibleDetection.detect, () => registrations.active(cameraConfig.id) !== null);
    }
    const faces = visible
      ? new RegisteredFaces({
          cameraId: cameraConfig.id,
          registrations,
          capture: visible,
          detectorProblem: visibleDetection.problem,
        })
      : null;
    // The stage asks the pipeline where the blackbody is: never a face.
    const stage = createScreeningStage({
      cameraId: cameraConfig.id,
      config,
      profile,
      bus,
      referenceRegion: () => pipeline.referenceRegion,
    });
    const pipeline: CameraPipeline = new CameraPipeline({
      cameraId: cameraConfig.id,
      profile,
      reference: referenceWithCalibration(
        cameraReference(config, cameraConfig),
        calibrated.get(cameraConfig.id),
      ),
      bus,
      stage,
    });
    // Bi-spectrum cameras: visible faces mapped with the registration; the thermal detector otherwise.
    if (faces) stage.useFaceSource((frame, exclude) => faces.faces(frame, exclude));
    const runtime: CameraRuntime = {
      config: cameraConfig,
      source,
      pipeline,
      framesIn: new RateMeter(),
      skipped: new RateMeter(),
      ended: false,
      failure: null,
      screened: { normal: 0, elevated: 0, retest: 0, invalid: 0 },
      visible,
      faces,
    };
    // Fast replays process every frame in order (the capture waits); everything else lets the latest frame win.
    const processNow = spec.kind === 'recording' && spec.pace === 'fast';
    const slot = new FrameSlot<RawFrame>(
      (frame) => pipeline.process(frame),
      () => runtime.skipped.add(Date.now()),
    );
    source.gst.onFrame((frame) => {
      runtime.framesIn.add(Date.now());
      visible?.attach(frame);
      if (processNow) pipeline.process(frame);
      else slot.offer(frame);
    });
    source.gst.onState((state, reason) => {
      log.info({ camera: cameraConfig.id, state, reason }, 'camera state');
      bus.emit('camera.state', { cameraId: cameraConfig.id, state, reason, at: Date.now() });
      if (state === 'offline' && spec.kind === 'recording' && !runtime.ended) {
        runtime.failure = `camera ${cameraConfig.id}: ${reason}`;
        void source.stop();
      }
      if (state === 'ended' || runtime.failure) {
        // Let the last frame in the slot be processed before closing the tracks.
        setImmediate(() => {
          pipeline.flush(Date.now());
          runtime.ended = true;
          if (cameras.every((camera) => camera.ended)) resolveFinished();
        });
      }
    });
    visible?.gst.onState((state, reason) => {
      log.info({ camera: cameraConfig.id, stream: 'visible', state, reason }, 'camera state');
    });
    cameras.push(runtime);
  }

  const health = (): Health => {
    const now = Date.now();
    const cameraHealth: CameraHealthDetail[] = cameras.map((camera) => {
      const stats = camera.source.gst.stats();
      const reference = camera.pipeline.reference;
      return {
        id: camera.config.id,
        name: camera.config.name ?? camera.config.id,
        profile: camera.source.profile.id,
        source: redactSource(camera.config.source),
        state: stats.state,
        reason: stats.reason,
        since: new Date(stats.since).toISOString(),
        framesPerSecond: {
          in: camera.framesIn.perSecond(now),
          processed: camera.pipeline.processed.perSecond(now),
          skipped: camera.skipped.perSecond(now),
        },
        totals: {
          in: stats.framesIn,
          processed: camera.pipeline.processed.total,
          skipped: camera.skipped.total + stats.framesDroppedAtSource,
          droppedAtSource: stats.framesDroppedAtSource,
          flatField: camera.pipeline.flatFieldFrames.total,
        },
        lastFrameAt: stats.lastFrameAt ? new Date(stats.lastFrameAt).toISOString() : null,
        processingMs: Math.round(camera.pipeline.lastProcessingMs * 100) / 100,
        reference: reference ? { ...reference, region: camera.pipeline.referenceRegion } : null,
        visible: camera.visible?.health(redactSource) ?? null,
        faces: camera.faces?.health() ?? null,
        screened: { ...camera.screened },
      };
    });
    const down = (state: string) => state !== 'online' && state !== 'ended';
    const degraded = cameraHealth.some((c) => down(c.state) || (c.visible !== null && down(c.visible.state)));
    return {
      status: degraded ? 'degraded' : 'ok',
      version: VERSION,
      applianceId: config.applianceId,
      startedAt: new Date(startedAt).toISOString(),
      uptimeS: Math.round((now - startedAt) / 100) / 10,
      cameras: cameraHealth,
    };
  };

  const calibration = new CalibrationSessions({
    bus,
    history: store.calibrations,
    cameras: new Map<string, ReferenceTarget>(cameras.map((camera) => [camera.config.id, camera.pipeline])),
  });

  let server: Server | null = null;
  let auth: Auth | null = null;
  let port = 0;
  if (!options.headless) {
    auth = new Auth({ store });
    await auth.prepareFirstRun();
    const app = createHttpApp({
      apiRouters: [
        healthRoutes(health),
        // Before every router that needs a user: it installs the CSRF guard and the session lookup.
        authRoutes(auth),
        userRoutes(auth, store.users),
        calibrationRoutes(calibration, { applianceId: config.applianceId }),
        registrationRoutes(registrations),
      ],
    });
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.server.port, config.server.host, () => resolve(s));
      s.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? new Error(`port ${config.server.port} is already in use; choose another with --port`)
            : error,
        ),
      );
    });
    port = (server.address() as AddressInfo).port;
    log.info({ url: `http://localhost:${port}` }, 'UI and API listening');
  }

  // Whoever watches the log sees each person's outcome; elevated ones stand out as warnings.
  bus.on('screening', (event) => {
    if (event.kind !== 'end') return;
    const camera = cameras.find((c) => c.config.id === event.cameraId);
    if (camera) camera.screened[event.decision]++;
    const fields = {
      camera: event.cameraId,
      person: event.personId,
      decision: event.decision,
      estimatedCoreC: event.estimatedCoreC,
      reasons: event.reasons,
    };
    if (event.decision === 'elevated') log.warn(fields, 'elevated: confirm with a clinical thermometer');
    else log.info(fields, 'screened');
  });

  for (const camera of cameras) {
    camera.source.start();
    camera.visible?.start();
  }

  return {
    bus,
    config,
    port,
    server,
    store,
    auth,
    calibration,
    registrations,
    health,
    finished,
    failures: () => cameras.flatMap((camera) => (camera.failure ? [camera.failure] : [])),
    async stop() {
      calibration.stop();
      // Every capture must be stopped and its threads released before the process can exit.
      await Promise.all(cameras.flatMap((camera) => [camera.source.stop(), camera.visible?.stop()]));
      await visibleDetection.close();
      if (server) {
        const s = server;
        await new Promise<void>((resolve) => s.close(() => resolve()));
        s.closeAllConnections?.();
      }
    },
  };
}

/**
 * The visible streams' face model: BlazeFace's back (far-range) model. An entrance camera sees faces
 * small in its frame; on a 1920×1080 frame the front (128) model found none even at 200 px across,
 * the back (256) model found them from ≈ 75 px on, in 10–15 ms per frame on a 2-vCPU VM.
 */
export const VISIBLE_FACE_MODEL = 'blazeface-back-256';

/**
 * BlazeFace for the visible streams, loaded only when a camera has one. A model that does not load
 * leaves those cameras on their thermal detector (health says why); it never stops the start.
 */
async function loadVisibleDetector(
  config: ApplianceConfig,
): Promise<{ detect: VisibleDetector | null; problem: string | null; close: () => Promise<void> }> {
  const none = { detect: null, problem: null, close: async () => {} };
  if (!config.cameras.some((camera) => camera.visibleSource)) return none;
  try {
    const { BlazeFaceDetector } = await import('./detection/blazeface.ts');
    // One intra-op thread: steady latency, and the other cores stay free for the frame path.
    const detector = await BlazeFaceDetector.load({ modelId: VISIBLE_FACE_MODEL, intraOpNumThreads: 1 });
    return {
      detect: (frame) => detector.detect(frame.rgb, frame.width, frame.height),
      problem: null,
      close: () => detector.close(),
    };
  } catch (error) {
    const problem = (error as Error).message;
    log.warn(
      { error: problem },
      'visible face detector not loaded: bi-spectrum cameras use the thermal detector',
    );
    return { ...none, problem };
  }
}
