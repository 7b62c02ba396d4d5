/**
 * The controller: configuration → stores → cameras (source → pipeline → screening) → features →
 * HTTP. It starts the features in list order (appliance/featureList.ts) and stops them in reverse;
 * a feature that fails to start is left out and named in health, and screening runs on. Parts talk
 * through the event bus; this is the only module that knows every part.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { VisibleDetector } from './camera/visibleSource.ts';
import type { ApplianceConfig, LoadedConfig } from './config/load.ts';
import { EventBus } from './core/eventBus.ts';
import type { FeatureHealth, FeatureState, HealthReport } from './core/health.ts';
import { log } from './core/log.ts';
import { featureList } from './featureList.ts';
import type { Feature, FeatureContext } from './features/feature.ts';
import { createHttpApp } from './http/httpApp.ts';
import { CameraRuntime } from './pipeline/cameraRuntime.ts';
import { openStores, type Stores } from './store/store.ts';

export interface ApplianceOptions {
  loaded: LoadedConfig;
  /** No HTTP server (batch runs). */
  headless?: boolean;
  /** The features to run; the standard list by default. */
  features?: Feature[];
  /** `--events FILE|-` for the standard list. */
  eventLines?: string;
}

export interface Appliance {
  readonly bus: EventBus;
  readonly config: ApplianceConfig;
  /** The HTTP port actually bound (0 when headless). */
  readonly port: number;
  /** The HTTP server (null when headless). */
  readonly server: Server | null;
  readonly stores: Stores;
  readonly cameras: readonly CameraRuntime[];
  /** The features as started, with their state. */
  readonly features: readonly Feature[];
  featureStates(): FeatureHealth[];
  health(): HealthReport;
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
  // Opens (or creates) the data folder; a file it cannot read stops the start here.
  const stores = await openStores(config.dataDir);
  const visibleDetection = await loadVisibleDetector(config);
  const cameras = config.cameras.map(
    (camera) =>
      new CameraRuntime({
        config,
        camera,
        profile: profiles.get(camera.profile)!,
        bus,
        stores,
        visibleDetection,
      }),
  );
  let resolveFinished: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    resolveFinished = resolve;
  });
  for (const camera of cameras) {
    camera.onEnded(() => {
      if (cameras.every((c) => c.ended)) resolveFinished();
    });
  }

  const http = options.headless ? null : createHttpApp();
  const features = options.features ?? featureList({ eventLines: options.eventLines });
  const states = new Map<Feature, { state: FeatureState; reason: string | null }>();
  const featureStates = (): FeatureHealth[] =>
    features.map((feature) => {
      const { state, reason } = states.get(feature) ?? { state: 'stopped' as const, reason: null };
      let detail: Record<string, unknown> | undefined;
      let problem: string | null = null;
      if (state === 'running' && feature.health) {
        try {
          const { problem: reported, ...rest } = feature.health();
          detail = rest;
          problem = reported ?? null;
        } catch (error) {
          problem = `health check failed: ${(error as Error).message}`;
        }
      }
      return { name: feature.name, state, reason: reason ?? problem, ...(detail ? { detail } : {}) };
    });
  const context = (feature: Feature): FeatureContext => ({
    bus,
    config,
    stores,
    log: log.child({ feature: feature.name }),
    cameras: cameras.map((camera) => ({
      id: camera.id,
      name: camera.name,
      profile: camera.profile,
      health: () => camera.health(),
    })),
    http,
    features: featureStates,
    startedAt,
  });
  const started: Feature[] = [];
  for (const feature of features) {
    states.set(feature, { state: 'starting', reason: null });
    try {
      await feature.start(context(feature));
      states.set(feature, { state: 'running', reason: null });
      started.push(feature);
    } catch (error) {
      const reason = (error as Error).message;
      states.set(feature, { state: 'failed', reason });
      log.error(
        { feature: feature.name, err: error },
        'feature failed to start; the appliance runs without it',
      );
    }
  }

  let server: Server | null = null;
  let port = 0;
  if (http) {
    server = await new Promise<Server>((resolve, reject) => {
      const s = http.app.listen(config.server.port, config.server.host, () => resolve(s));
      s.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? new Error(`port ${config.server.port} is already in use; choose another with --port`)
            : error,
        ),
      );
    });
    http.attach(server);
    port = (server.address() as AddressInfo).port;
    log.info({ url: `http://localhost:${port}` }, 'UI and API listening');
  }

  for (const camera of cameras) camera.start();

  const health = (): HealthReport => {
    const feature = features.find((f) => f.name === 'health' && states.get(f)?.state === 'running') as
      | (Feature & { report?: () => HealthReport })
      | undefined;
    if (feature?.report) return feature.report();
    throw new Error('the health feature is not running');
  };

  let stopping: Promise<void> | null = null;
  return {
    bus,
    config,
    port,
    server,
    stores,
    cameras,
    features,
    featureStates,
    health,
    finished,
    failures: () => cameras.flatMap((camera) => (camera.failure ? [camera.failure] : [])),
    stop() {
      stopping ??= (async () => {
        // Captures first (no new frames; their threads must be released before the process can
        // exit), then let queued listeners catch up (the last `end` events reach the store), then
        // the features in reverse order, the HTTP server and the stores.
        await Promise.all(cameras.map((camera) => camera.stop()));
        await visibleDetection.close();
        await bus.drain();
        for (const feature of [...started].reverse()) {
          states.set(feature, { state: 'stopping', reason: null });
          try {
            await feature.stop();
          } catch (error) {
            log.error({ feature: feature.name, err: error }, 'feature failed to stop');
          }
          states.set(feature, { state: 'stopped', reason: null });
        }
        if (server) {
          const s = server;
          await new Promise<void>((resolve) => s.close(() => resolve()));
          s.closeAllConnections?.();
        }
        stores.close();
      })();
      return stopping;
    },
  };
}

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
