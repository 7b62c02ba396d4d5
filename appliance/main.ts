/**
 * The controller: configuration → stores → cameras (source → pipeline → screening) → features →
 * HTTP. It starts the features in list order (appliance/featureList.ts) and stops them in reverse;
 * a feature that fails to start is left out and named in health, and screening runs on. Parts talk
 * through the event bus; this is the only module that knows every part.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { VisibleDetector } from './camera/visibleSource.ts';
import type { ApplianceConfig, LoadedConfig } from './config/load.ts';
import { CanthusError } from './core/errors.ts';
import { EventBus } from './core/eventBus.ts';
import type { FeatureHealth, FeatureState, HealthReport } from './core/health.ts';
import { log } from './core/log.ts';
import { featureList } from './featureList.ts';
import type { Feature, FeatureContext } from './features/feature.ts';
import { createHttpApp } from './http/httpApp.ts';
import { httpsRedirectServer, loadTlsCredentials } from './http/tls.ts';
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

  // TLS files are checked (or the self-signed certificate made) before anything listens.
  const tls = options.headless ? null : loadTlsCredentials(config);
  const http = options.headless ? null : createHttpApp({ hsts: tls !== null && !tls.selfSigned });
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
    configLayers: options.loaded.layers,
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
  let redirectServer: Server | null = null;
  let port = 0;
  if (http) {
    const created = tls
      ? createHttpsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, http.app)
      : createHttpServer(http.app);
    server = await listen(created, config.server.port, config.server.host, '--port');
    http.attach(server);
    port = (server.address() as AddressInfo).port;
    if (tls) {
      log.info(
        {
          url: `https://localhost:${port}`,
          certificate: tls.certFile,
          sha256Fingerprint: tls.fingerprint256,
        },
        tls.selfSigned
          ? 'UI and API listening over HTTPS with a self-signed certificate: check that browsers show this SHA-256 fingerprint before trusting it'
          : 'UI and API listening over HTTPS',
      );
      const redirectPort = config.security.tls.redirectHttpPort;
      if (redirectPort !== null) {
        redirectServer = await listen(
          httpsRedirectServer(port),
          redirectPort,
          config.server.host,
          'security.tls.redirectHttpPort',
        );
        log.info(
          { port: (redirectServer.address() as AddressInfo).port },
          'plain HTTP only redirects to HTTPS',
        );
      }
    } else {
      log.info({ url: `http://localhost:${port}` }, 'UI and API listening');
    }
  }
  checkThreadPool(config);

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
        for (const s of [server, redirectServer]) {
          if (!s) continue;
          await new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections?.();
          });
        }
        stores.close();
      })();
      return stopping;
    },
  };
}

/** Listens, turning "address in use" into a message naming the setting to change. */
function listen(server: Server, port: number, host: string, setting: string): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new CanthusError(`port ${port} is already in use; choose another with ${setting}`)
          : error,
      ),
    );
    server.listen(port, host, () => resolve(server));
  });
}

/**
 * libuv's pool (UV_THREADPOOL_SIZE, fixed at the process's first use of it) is shared: every
 * camera pipeline holds up to two threads while it waits (a pending pull and a bus poll; a
 * bi-spectrum camera has two pipelines), and file, DNS, zlib and crypto work takes the rest.
 * Password hashing does not use it (features/users/hashWorker.ts). If capture's threads do not
 * fit with room to spare, a burst of file or crypto work could leave a pull waiting: say so at start.
 */
export function threadPoolNeed(config: ApplianceConfig): number {
  const pipelines = config.cameras.reduce((n, camera) => n + (camera.visibleSource ? 2 : 1), 0);
  return 2 * pipelines + THREAD_POOL_RESERVE;
}

/** Threads kept for file, DNS, zlib and crypto work beside capture. */
export const THREAD_POOL_RESERVE = 4;

function checkThreadPool(config: ApplianceConfig): void {
  const size = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  const need = threadPoolNeed(config);
  if (size < need) {
    log.warn(
      { UV_THREADPOOL_SIZE: size, need },
      'the libuv thread pool is smaller than capture needs with room for file work: start through bin/canthus.js or set UV_THREADPOOL_SIZE before Node starts',
    );
  }
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
