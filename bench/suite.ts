/**
 * `npm run bench`: the benchmark suite of issue 10, with the issue's targets printed beside each figure.
 *
 *   npm run bench [-- --json] [--soak N] [--frames N] [--persons N] [--seconds S] [--only 640x512,…]
 *                 [--soak-no-worker] [--soak-worker-heap]
 *
 * 1. Per stage, per frame (median, p99): capture (GStreamer appsink → JS copy, the interval between
 *    frames of a generator with nothing else to do), radiometry, reference, detection, measurement,
 *    tracking (the screening stage's rest: tracker, persons, decisions, events) and render + JPEG (the
 *    live view's colorize + overlay + sharp encode), at 160×120, 256×192, 384×288 and 640×512, on busy
 *    simulated entrances with 0, 2 and 6 people standing in view (bench/lib/busyEntrance.ts).
 * 2. Whole pipeline, fast replay (`recording:DIR?pace=fast` through the real appliance, headless, every
 *    feature started, a fresh data folder): processed frames/s and the real-time factor (÷ the profile's
 *    sensor rate), with no viewer and with one live viewer at 15 fps (a VideoHub viewer, as the video
 *    feature subscribes one).
 * 3. Frame-to-alert latency: the wall time a frame enters the camera pipeline → its alert on the bus →
 *    the store's commit of the person row, alert row and outbox rows (one transaction, so "in the store"
 *    and "handed to the uplink's outbox" are the same instant), over the replays and the soak.
 * 4. RSS at start and after a soak (the 160×120 replay's frames fed again and again through the started
 *    appliance's frame path — its worker thread — every feature listening; 100 000 frames by default,
 *    the issue's figure), with the main thread's heap after a full GC every tenth (the child runs with
 *    --expose-gc: a leak climbs there, the allocator's RSS noise does not); store write cost per person after `--persons` stored persons; the first
 *    processed frame after startAppliance().
 *
 * Benchmarks measure; nothing here asserts. The per-topic benchmarks stay as bench:capture,
 * bench:detection, bench:screening, bench:accuracy.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { ulid } from 'ulid';
import { GstFrameSource } from '../appliance/camera/gstreamerSource.ts';
import { readRecording } from '../appliance/camera/recording.ts';
import { Progress } from '../appliance/cli/progress.ts';
import { simulateRecording } from '../appliance/cli/simulate.ts';
import { cameraReference, loadConfig } from '../appliance/config/load.ts';
import type { CameraProfile } from '../appliance/core/cameraProfile.ts';
import { EventBus } from '../appliance/core/eventBus.ts';
import type { StageName, StageTimer } from '../appliance/core/stageTimer.ts';
import type { RawFrame, ScreeningEvent } from '../appliance/core/types.ts';
import { VideoHub } from '../appliance/features/video/hub.ts';
import { startAppliance } from '../appliance/main.ts';
import { CameraPipeline } from '../appliance/pipeline/cameraPipeline.ts';
import { WorkerFramePath } from '../appliance/pipeline/cameraWorker.ts';
import { colorize, encode, outputScale, overlaySvg } from '../appliance/render/frame.ts';
import { createScreeningStage, detectionInterval } from '../appliance/screening/createScreeningStage.ts';
import { openStores } from '../appliance/store/store.ts';
import { celsiusToRaw } from '../calibration/radiometry.ts';
import { busyFrames, collectSprites } from './lib/busyEntrance.ts';

const args = process.argv.slice(2);
const argOf = (name: string, fallback: string) =>
  args.includes(name) ? args[args.indexOf(name) + 1] : fallback;
const JSON_OUT = args.includes('--json');
const SOAK_FRAMES = Number(argOf('--soak', '100000'));
const FRAMES_PER_SCENE = Number(argOf('--frames', '100'));
const WARMUP_FRAMES = 15;
const STORE_PERSONS = Number(argOf('--persons', '100000'));
const REPLAY_FRAMES = Number(argOf('--replay-frames', '450'));
/** Internal: the soak in its own process (RSS is then the appliance's, not the suite's). */
const SOAK_CHILD = argOf('--soak-child', '');
/** The soak with the frame path on the main thread (`processing.worker: false`), for comparison. */
const SOAK_NO_WORKER = args.includes('--soak-no-worker');
/**
 * Also the camera worker's live heap every tenth, from a heap snapshot: parsing one grows the
 * process's RSS by tens of MiB, so the RSS figures of such a soak are not the appliance's.
 */
const SOAK_WORKER_HEAP = args.includes('--soak-worker-heap');
const ONLY = args.includes('--only') ? argOf('--only', '').split(',') : null;
const CAPTURE_FRAMES = 600;

const PROFILES = ['lepton35', 'infiray256', 'bispectrum-rtsp', 'flir-a640'];

const TARGETS = {
  rtfNoViewer: 10,
  rtfViewer: 5,
  alertP99Ms: 50,
  rssMiB: 300,
  rssGrowthPct: 5,
  firstFrameMs: 3000,
};

const REPO = fileURLToPath(new URL('../', import.meta.url));
const root = mkdtempSync(path.join(tmpdir(), 'canthus-bench-suite-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const loadAtStart = loadavg();

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}
const r2 = (x: number) => Math.round(x * 100) / 100;
const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);
const stats = (values: number[]) => ({
  median: r2(percentile(values, 0.5)),
  p99: r2(percentile(values, 0.99)),
});

const wantedProfiles = PROFILES.filter((id) => {
  const p = loadConfig({ dataDir: path.join(root, 'probe') }).profiles.get(id);
  return p && (!ONLY || ONLY.includes(`${p.width}x${p.height}`));
});

// The soak runs at the smallest profile, 160×120 (100 000 frames then fit in the suite's 10 minutes),
// unless --only leaves that size out.
const SOAK_PROFILE = SOAK_CHILD
  ? readRecording(SOAK_CHILD).meta.profile
  : wantedProfiles.includes('lepton35')
    ? 'lepton35'
    : wantedProfiles[0];

// Steps for the progress line: simulate + stages + 2 replays per profile, the soak, the store.
// The soak child draws nothing: its parent's line covers it.
const progress = new Progress(
  'bench',
  wantedProfiles.length * 4 + 2,
  SOAK_CHILD ? { stream: { write: () => true } } : {},
);
let step = 0;
const stepDone = (note: string) => progress.update(++step, note);

// ---------------------------------------------------------------- recordings
const recordings = new Map<string, string>();
if (SOAK_CHILD) recordings.set(SOAK_PROFILE, SOAK_CHILD);
for (const id of SOAK_CHILD ? [] : wantedProfiles) {
  const profile = loadConfig({ dataDir: path.join(root, 'probe') }).profiles.get(id)!;
  const out = path.join(root, `rec-${id}`);
  const frames = Math.max(REPLAY_FRAMES, id === SOAK_PROFILE ? 600 : 0);
  // Many fevers so a replay raises alerts to time; the progress line is the suite's own.
  simulateRecording({
    out,
    profile: id,
    seed: 11,
    seconds: frames / profile.fps,
    feverRate: 0.6,
    progress: { stream: { write: () => true } },
  });
  recordings.set(id, out);
  stepDone(`simulated ${id}`);
}

// ---------------------------------------------------------------- per stage
type Stage = 'capture' | StageName | 'render + JPEG';
const STAGES: Stage[] = [
  'capture',
  'radiometry',
  'reference',
  'detection',
  'measurement',
  'tracking',
  'render + JPEG',
];
interface StageRow {
  profile: string;
  size: string;
  sensorHz: number;
  people: number;
  stages: Record<Stage, { median: number; p99: number }>;
  /** Sum of the medians of the frame path (capture … tracking), ms. */
  framePathMedianMs: number;
  /**
   * Mean cost per frame with the detection cadence: capture's median plus every recorded stage time
   * (render excluded) ÷ frames. Detection and measurement are recorded only on the frames that detect
   * (every `detectEvery`-th), so their medians are per detection, not per frame.
   */
  framePathPerFrameMs: number;
  detectEvery: number;
  /** Frame budget for a real-time factor of 10: 1000 / (10 × sensor rate), ms. */
  budgetMs: number;
}
const stageRows: StageRow[] = [];

async function captureIntervals(profile: CameraProfile): Promise<number[]> {
  const { width, height } = profile;
  const source = new GstFrameSource({
    cameraId: 'bench',
    description: `videotestsrc num-buffers=${CAPTURE_FRAMES} pattern=snow ! video/x-raw,format=GRAY16_LE,width=${width},height=${height},framerate=1000/1 ! appsink name=sink sync=false max-buffers=1 drop=false`,
    width,
    height,
    fps: 1000,
    live: false,
    timestamps: 'frame-rate',
  });
  const intervals: number[] = [];
  let last = 0;
  await new Promise<void>((resolve) => {
    source.onFrame(() => {
      const now = performance.now();
      if (last > 0) intervals.push(now - last);
      last = now;
    });
    source.onState((state) => {
      if (state === 'ended' || state === 'offline') resolve();
    });
    source.start();
  });
  await source.stop();
  return intervals.slice(WARMUP_FRAMES);
}

const SENSOR_OBJECT = { emissivity: 1, reflectedC: 20, atmosphereC: 20, distanceM: 0, humidityPct: 50 };

for (const id of SOAK_CHILD ? [] : wantedProfiles) {
  const dataDir = path.join(root, `stages-${id}`);
  const { config, profiles } = loadConfig({ dataDir, source: `recording:${recordings.get(id)}` });
  const camera = config.cameras[0];
  const profile = profiles.get(camera.profile)!;
  const capture = await captureIntervals(profile);
  const sprites = collectSprites(profile, 12);
  for (const people of [0, 2, 6]) {
    const frames = busyFrames(profile, sprites, people, FRAMES_PER_SCENE + WARMUP_FRAMES, 7 + people, true);
    const raws = frames.map((c) => celsiusToRaw(c, profile.radiometry, SENSOR_OBJECT));
    const times = new Map<Stage, number[]>(STAGES.map((s) => [s, []]));
    let counting = false;
    const timer: StageTimer = {
      record(stage, ms) {
        if (counting) times.get(stage)!.push(ms);
      },
    };
    const bus = new EventBus();
    const pipeline = new CameraPipeline({
      cameraId: camera.id,
      profile,
      // Warm and stable from the start, so measurement runs as it does at a working entrance.
      reference: { ...cameraReference(config, camera), warmupS: 0, stableForS: 0 },
      bus,
      stage: createScreeningStage({ cameraId: camera.id, config, profile, bus, timer }),
      timer,
    });
    const startAt = Date.UTC(2026, 0, 1);
    for (let i = 0; i < raws.length; i++) {
      counting = i >= WARMUP_FRAMES;
      const raw: RawFrame = {
        cameraId: camera.id,
        seq: i,
        capturedAt: startAt + Math.round((i * 1000) / profile.fps),
        width: profile.width,
        height: profile.height,
        data: raws[i],
      };
      const thermal = pipeline.process(raw);
      // The live view of this frame, as the video hub renders it for a viewer.
      const started = performance.now();
      const colored = colorize(thermal.celsius, thermal.width, thermal.height, 'iron');
      const scale = outputScale(thermal.width);
      const svg = overlaySvg(
        { tracks: [], reference: thermal.reference, referenceRegion: thermal.referenceRegion, unit: 'C' },
        colored,
        scale,
        'iron',
      );
      await encode(colored, svg, scale);
      if (counting) times.get('render + JPEG')!.push(performance.now() - started);
    }
    times.set('capture', capture);
    const stages = Object.fromEntries(STAGES.map((s) => [s, stats(times.get(s)!)])) as StageRow['stages'];
    const framePath = STAGES.filter((s) => s !== 'render + JPEG').reduce(
      (sum, s) => sum + stages[s].median,
      0,
    );
    let recorded = 0;
    for (const s of STAGES) {
      if (s === 'render + JPEG' || s === 'capture') continue;
      for (const ms of times.get(s)!) recorded += ms;
    }
    stageRows.push({
      profile: id,
      size: `${profile.width}×${profile.height}`,
      sensorHz: profile.fps,
      people,
      stages,
      framePathMedianMs: r2(framePath),
      framePathPerFrameMs: r2(stages.capture.median + recorded / FRAMES_PER_SCENE),
      detectEvery: detectionInterval(profile.fps, config),
      budgetMs: r2(1000 / (TARGETS.rtfNoViewer * profile.fps)),
    });
  }
  stepDone(`stages ${id}`);
}

// ---------------------------------------------------------------- whole pipeline
interface ReplayRow {
  profile: string;
  size: string;
  sensorHz: number;
  viewer: boolean;
  frames: number;
  processedFps: number;
  realTimeFactor: number;
  firstFrameMs: number;
  jpegsSent: number;
  alerts: number;
}
const replayRows: ReplayRow[] = [];
const latency = { bus: [] as number[], store: [] as number[], unmatched: 0 };
/** Every recordScreening during the replays and the soak, ms: ≥ 1 ms holds the listener back 19× as long. */
const storeWrites: number[] = [];
interface SoakFigures {
  frames: number;
  /** RSS every tenth of the soak, MiB: a plateau or a climb. */
  rssEveryTenthMiB: number[];
  rssAfterStartMiB: number;
  rssStartMiB: number;
  rssEndMiB: number;
  growthPct: number;
  fps: number;
  /** Whether the frame path ran in the camera's worker thread (its heap is in RSS, not in heapUsed). */
  worker: boolean;
  /**
   * Every tenth, after a full GC of the main thread: heap used, external and array buffers
   * (`process.memoryUsage()`), and the store's WAL file, MiB (1 decimal). A heap flat after GC
   * while RSS creeps is the allocator and caches; a heap that climbs is a leak.
   */
  afterGcEveryTenth: {
    rss: number;
    heapUsed: number;
    external: number;
    arrayBuffers: number;
    walMiB: number;
    /** libvips's operation cache (sharp: the live view's and snapshots' encodes), native, bounded. */
    sharpCacheMiB: number;
    /** The camera worker's live heap (a heap snapshot, which collects garbage first); null when not asked. */
    workerHeap: number | null;
  }[];
  /** Persons (rows) in the store at the end: what a slow leak per person would scale with. */
  persons: number;
}
let soak = null as SoakFigures | null;
let sampleEnd: ScreeningEvent | null = null;

let noteFrameEntered: (raw: RawFrame) => void = () => {};

/** Frame entry → alert on the bus → store commit, for every alert of an appliance. */
function timeAlerts(appliance: Awaited<ReturnType<typeof startAppliance>>): void {
  const entered = new Map<number, number>();
  // The frame's arrival from capture (on the main thread, before it goes to the frame path, in a
  // worker or not); the soak feeds frames past capture and notes them itself.
  noteFrameEntered = (raw: RawFrame) => {
    entered.set(raw.capturedAt, performance.now());
    // Alerts are raised within seconds of a frame: older entries are not needed.
    if (entered.size > 4096) entered.delete(entered.keys().next().value!);
  };
  appliance.cameras[0].source.gst.onFrame((raw) => noteFrameEntered(raw));
  const pending = new Map<string, number>();
  appliance.bus.on(
    'alert',
    (alert) => {
      const at = entered.get(alert.at);
      if (at === undefined) {
        latency.unmatched++;
        return;
      }
      latency.bus.push(performance.now() - at);
      pending.set(alert.screeningEventId, at);
    },
    { name: 'bench.alert', delivery: 'inline' },
  );
  const events = appliance.stores.events;
  const record = events.recordScreening.bind(events);
  events.recordScreening = (event: ScreeningEvent) => {
    const started = performance.now();
    const row = record(event);
    storeWrites.push(performance.now() - started);
    const at = pending.get(event.id);
    if (at !== undefined) {
      latency.store.push(performance.now() - at);
      pending.delete(event.id);
    }
    return row;
  };
  appliance.bus.on(
    'screening',
    (event) => {
      if (event.kind === 'end' && event.skinC !== null) sampleEnd ??= event;
    },
    { name: 'bench.sample', delivery: 'inline' },
  );
}

for (const id of SOAK_CHILD ? [SOAK_PROFILE] : wantedProfiles) {
  for (const viewer of SOAK_CHILD ? [false] : [false, true]) {
    const dataDir = path.join(root, `replay-${id}-${viewer ? 'viewer' : 'none'}`);
    mkdirSync(dataDir, { recursive: true });
    if (SOAK_CHILD && SOAK_NO_WORKER) {
      writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify({ processing: { worker: false } }));
    }
    const loaded = loadConfig({ dataDir, source: `recording:${recordings.get(id)}?pace=fast` });
    const profile = loaded.profiles.get(loaded.config.cameras[0].profile)!;
    const t0 = performance.now();
    const appliance = await startAppliance({ loaded, headless: true });
    const rssAfterStart = process.memoryUsage().rss;
    timeAlerts(appliance);
    let first = 0;
    let last = 0;
    let frames = 0;
    let alerts = 0;
    appliance.bus.on(
      'frame',
      () => {
        last = performance.now();
        if (frames++ === 0) first = last;
      },
      { name: 'bench.frames', delivery: 'inline' },
    );
    appliance.bus.on('alert', () => alerts++, { name: 'bench.alerts', delivery: 'inline' });
    let sent = 0;
    let hub: VideoHub | null = null;
    if (viewer) {
      hub = new VideoHub(appliance.bus, 'C');
      let lastSent = 0;
      hub.add({
        cameraId: appliance.cameras[0].id,
        palette: 'iron',
        // A viewer at 15 frames/s: ready again 1/15 s after its last frame.
        ready: () => performance.now() - lastSent >= 1000 / 15,
        send: () => {
          lastSent = performance.now();
          sent++;
        },
      });
    }
    await appliance.finished;
    const fps = (frames - 1) / ((last - first) / 1000);
    const replayed = frames;
    if (SOAK_CHILD) {
      soak = { ...(await runSoak(appliance, profile, dataDir)), rssAfterStartMiB: mib(rssAfterStart) };
      await appliance.stop();
      process.stdout.write(`${JSON.stringify({ soak, latency, storeWrites })}\n`);
      process.exit(0);
    }
    hub?.close();
    await appliance.stop();
    replayRows.push({
      profile: id,
      size: `${profile.width}×${profile.height}`,
      sensorHz: profile.fps,
      viewer,
      frames: replayed,
      processedFps: r2(fps),
      realTimeFactor: r2(fps / profile.fps),
      firstFrameMs: Math.round(first - t0),
      jpegsSent: sent,
      alerts,
    });
    stepDone(`replay ${id}${viewer ? ' + viewer' : ''}`);
  }
}

/**
 * The recording's frames fed again and again through the started appliance's own pipeline (every
 * feature listening, the store writing), yielding to the event loop after each frame as capture does.
 */
async function runSoak(
  appliance: Awaited<ReturnType<typeof startAppliance>>,
  profile: CameraProfile,
  dataDir: string,
): Promise<Omit<SoakFigures, 'rssAfterStartMiB'>> {
  const { meta, framesPath } = readRecording(recordings.get(SOAK_PROFILE)!);
  const frameBytes = meta.width * meta.height * 2;
  const fd = openSync(framesPath, 'r');
  const camera = appliance.cameras[0];
  const startAt = Date.now() + 3_600_000;
  let rssStart = 0;
  const warm = Math.min(1000, Math.floor(SOAK_FRAMES / 10));
  const tenth = Math.max(1, Math.floor(SOAK_FRAMES / 10));
  const rssEveryTenth: number[] = [];
  const afterGc: SoakFigures['afterGcEveryTenth'] = [];
  const mib1 = (bytes: number) => Math.round(bytes / 104857.6) / 10;
  const wal = path.join(dataDir, 'events.sqlite-wal');
  // The child runs with --expose-gc: the heap figures are what is still reachable.
  const gc = (globalThis as { gc?: () => void }).gc;
  const sampleAfterGc = async () => {
    const worker =
      SOAK_WORKER_HEAP && camera.pipeline instanceof WorkerFramePath ? camera.pipeline.worker : null;
    const workerHeap = worker ? mib1(await liveHeapBytes(worker)) : null;
    gc?.();
    const m = process.memoryUsage();
    afterGc.push({
      workerHeap,
      rss: mib1(m.rss),
      heapUsed: mib1(m.heapUsed),
      external: mib1(m.external),
      arrayBuffers: mib1(m.arrayBuffers),
      walMiB: existsSync(wal) ? mib1(statSync(wal).size) : 0,
      sharpCacheMiB: r2(sharp.cache().memory.current),
    });
  };
  const started = performance.now();
  try {
    for (let i = 0; i < SOAK_FRAMES; i++) {
      if (i === warm) rssStart = process.memoryUsage().rss;
      if (i > 0 && i % tenth === 0) {
        rssEveryTenth.push(mib(process.memoryUsage().rss));
        await sampleAfterGc();
      }
      const data = new Uint16Array(frameBytes / 2);
      readSync(fd, new Uint8Array(data.buffer), 0, frameBytes, (i % meta.frameCount) * frameBytes);
      const frame: RawFrame = {
        cameraId: camera.id,
        seq: i,
        capturedAt: startAt + Math.round((i * 1000) / profile.fps),
        width: meta.width,
        height: meta.height,
        data,
      };
      noteFrameEntered(frame);
      const path_ = camera.pipeline;
      // As capture hands frames over in a fast replay: to the worker with its back-pressure, or inline.
      if (path_ instanceof WorkerFramePath) await path_.submit(frame);
      else path_.process(frame);
      await new Promise(setImmediate);
      if (i % 200 === 0) progress.update(step, `soak ${i}/${SOAK_FRAMES}`);
    }
  } finally {
    closeSync(fd);
  }
  const seconds = (performance.now() - started) / 1000;
  const rssEnd = process.memoryUsage().rss;
  rssEveryTenth.push(mib(rssEnd));
  await sampleAfterGc();
  return {
    worker: camera.pipeline instanceof WorkerFramePath,
    afterGcEveryTenth: afterGc,
    persons: appliance.stores.events.counts().persons,
    frames: SOAK_FRAMES,
    rssEveryTenthMiB: rssEveryTenth,
    rssStartMiB: mib(rssStart),
    rssEndMiB: mib(rssEnd),
    growthPct: r2(((rssEnd - rssStart) / rssStart) * 100),
    fps: r2(SOAK_FRAMES / seconds),
  };
}
/**
 * A worker's live heap, bytes: the sum of the objects in a heap snapshot of it (V8 collects garbage
 * before it takes one), so the figure is what the worker still holds.
 */
async function liveHeapBytes(worker: Worker): Promise<number> {
  const stream = await worker.getHeapSnapshot();
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const snapshot = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
    snapshot: { meta: { node_fields: string[] } };
    nodes: number[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const selfSize = fields.indexOf('self_size');
  let bytes = 0;
  for (let i = selfSize; i < snapshot.nodes.length; i += fields.length) bytes += snapshot.nodes[i];
  return bytes;
}
if (recordings.has(SOAK_PROFILE) && SOAK_FRAMES > 0) {
  progress.update(step, `soak of ${SOAK_FRAMES} frames in a child process`);
  const child = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      path.join(REPO, 'bin/run-ts.js'),
      path.join(REPO, 'bench/suite.ts'),
      '--soak-child',
      recordings.get(SOAK_PROFILE)!,
      '--soak',
      String(SOAK_FRAMES),
      ...(SOAK_NO_WORKER ? ['--soak-no-worker'] : []),
      ...(SOAK_WORKER_HEAP ? ['--soak-worker-heap'] : []),
    ],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = child.stdout.split('\n').find((l) => l.startsWith('{"soak"'));
  if (!line) throw new Error(`the soak child failed (exit ${child.status})`);
  const result = JSON.parse(line) as {
    soak: NonNullable<typeof soak>;
    latency: typeof latency;
    storeWrites: number[];
  };
  soak = result.soak;
  latency.bus.push(...result.latency.bus);
  latency.store.push(...result.latency.store);
  latency.unmatched += result.latency.unmatched;
  storeWrites.push(...result.storeWrites);
}
stepDone('soak');

// ---------------------------------------------------------------- store write cost
let store: { persons: number; firstUs: number; lastUs: number; lastP99Us: number } | null = null;
if (sampleEnd !== null && STORE_PERSONS > 0) {
  const template: ScreeningEvent = sampleEnd;
  const dataDir = path.join(root, 'store');
  mkdirSync(dataDir, { recursive: true });
  const stores = await openStores(dataDir);
  const window = Math.min(1000, Math.floor(STORE_PERSONS / 10));
  const first: number[] = [];
  const last: number[] = [];
  for (let i = 0; i < STORE_PERSONS; i++) {
    const event = {
      ...template,
      id: ulid(),
      personId: `bench-${i}`,
      at: template.at + i * 1000,
      alert: false,
    };
    const started = performance.now();
    stores.events.recordScreening(event);
    const us = (performance.now() - started) * 1000;
    if (i < window) first.push(us);
    if (i >= STORE_PERSONS - window) last.push(us);
    if (i % 2000 === 0) progress.update(step, `store ${i}/${STORE_PERSONS}`);
  }
  stores.close?.();
  store = {
    persons: STORE_PERSONS,
    firstUs: Math.round(percentile(first, 0.5)),
    lastUs: Math.round(percentile(last, 0.5)),
    lastP99Us: Math.round(percentile(last, 0.99)),
  };
}
stepDone('store');
progress.finish();

// ---------------------------------------------------------------- report
const alertStats = { bus: stats(latency.bus), store: stats(latency.store) };
const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
const firstFrame = replayRows[0]?.firstFrameMs ?? Number.NaN;
const verdicts = {
  rtfNoViewer: replayRows.filter((r) => !r.viewer).every((r) => r.realTimeFactor >= TARGETS.rtfNoViewer),
  rtfViewer: replayRows.filter((r) => r.viewer).every((r) => r.realTimeFactor >= TARGETS.rtfViewer),
  alertP99: alertStats.store.p99 <= TARGETS.alertP99Ms,
  rss: soak !== null && soak.rssEndMiB <= TARGETS.rssMiB,
  rssGrowth: soak !== null && soak.growthPct < TARGETS.rssGrowthPct,
  firstFrame: firstFrame <= TARGETS.firstFrameMs,
};
const machine = {
  node: process.version,
  cpus: (await import('node:os')).cpus().length,
  loadAverageAtStart: loadAtStart.map(r2),
  loadAverageAtEnd: loadavg().map(r2),
  when: new Date().toISOString(),
};

if (JSON_OUT) {
  process.stdout.write(
    `${JSON.stringify(
      {
        machine,
        targets: TARGETS,
        verdicts,
        stages: stageRows,
        replay: replayRows,
        alertLatencyMs: { ...alertStats, alerts: latency.bus.length, unmatched: latency.unmatched },
        storeWritesDuringReplay: {
          ...stats(storeWrites),
          count: storeWrites.length,
          atLeast1ms: storeWrites.filter((ms) => ms >= 1).length,
        },
        soak,
        store,
      },
      null,
      2,
    )}\n`,
  );
} else {
  const out: string[] = [];
  out.push(
    `canthus bench suite — Node ${machine.node}, ${machine.cpus} cores, load average ${machine.loadAverageAtStart.join(' / ')} at start, ${machine.loadAverageAtEnd.join(' / ')} at end (shared machine: wall times read high)`,
    '',
    `Per stage, ms per frame, median / p99 (${FRAMES_PER_SCENE} frames per scene after ${WARMUP_FRAMES} warm-up). Budget: 1000 / (10 × sensor Hz), a real-time factor of 10 (derived from the issue's target).`,
    '',
    `| size | people | ${STAGES.join(' | ')} | sum of medians | per frame (mean, detection every n-th) | budget | |`,
    `|---|---:|${STAGES.map(() => '---:').join('|')}|---:|---:|---:|---|`,
  );
  for (const r of stageRows) {
    out.push(
      `| ${r.size} | ${r.people} | ${STAGES.map((s) => `${r.stages[s].median} / ${r.stages[s].p99}`).join(' | ')} | ${r.framePathMedianMs} | ${r.framePathPerFrameMs} (n = ${r.detectEvery}) | ${r.budgetMs} | ${met(r.framePathPerFrameMs <= r.budgetMs)} |`,
    );
  }
  out.push(
    '',
    'Whole pipeline, fast replay (canthus run recording:DIR?pace=fast, headless, in-process, every feature):',
    '',
    '| profile | size | sensor Hz | viewer | frames | processed fps | real-time factor | target | | first frame ms | JPEGs | alerts |',
    '|---|---|---:|---|---:|---:|---:|---:|---|---:|---:|---:|',
  );
  for (const r of replayRows) {
    const target = r.viewer ? TARGETS.rtfViewer : TARGETS.rtfNoViewer;
    out.push(
      `| ${r.profile} | ${r.size} | ${r.sensorHz} | ${r.viewer ? '1 at 15 fps' : 'none'} | ${r.frames} | ${r.processedFps} | ${r.realTimeFactor} | ≥ ${target} | ${met(r.realTimeFactor >= target)} | ${r.firstFrameMs} | ${r.jpegsSent} | ${r.alerts} |`,
    );
  }
  out.push(
    '',
    '| figure | value | target | |',
    '|---|---:|---:|---|',
    `| frame → alert on the bus, median / p99 (${latency.bus.length} alerts) | ${alertStats.bus.median} / ${alertStats.bus.p99} ms | | |`,
    `| frame → store commit (person, alert and outbox rows), median / p99 | ${alertStats.store.median} / ${alertStats.store.p99} ms | p99 ≤ ${TARGETS.alertP99Ms} ms | ${met(verdicts.alertP99)} |`,
    `| store write during the replays (recordScreening), median / p99; share ≥ 1 ms (the bus then holds the store's listener back 19× as long) | ${stats(storeWrites).median} / ${stats(storeWrites).p99} ms; ${storeWrites.filter((ms) => ms >= 1).length} of ${storeWrites.length} | | |`,
    `| RSS of the appliance process (${SOAK_PROFILE}): after start / after warm-up / after a soak of ${soak?.frames ?? 0} frames | ${soak?.rssAfterStartMiB} / ${soak?.rssStartMiB} / ${soak?.rssEndMiB} MiB | ≤ ${TARGETS.rssMiB} MiB | ${met(verdicts.rss)} |`,
    `| RSS growth over the soak (soak ran at ${soak?.fps} frames/s) | ${soak?.growthPct} % | < ${TARGETS.rssGrowthPct} % | ${met(verdicts.rssGrowth)} |`,
    `| RSS every tenth of the soak | ${soak?.rssEveryTenthMiB.join(' / ')} MiB | | |`,
    `| main thread's heap after a full GC, every tenth (${soak?.worker ? 'frame path in the worker' : 'frame path inline'}; ${soak?.persons} persons stored) | ${soak?.afterGcEveryTenth.map((s) => s.heapUsed).join(' / ')} MiB | | |`,
    ...(soak?.afterGcEveryTenth.some((s) => s.workerHeap !== null)
      ? [
          `| camera worker's live heap, every tenth | ${soak.afterGcEveryTenth.map((s) => s.workerHeap).join(' / ')} MiB | | |`,
        ]
      : []),
    `| store write per person, first / after ${store?.persons ?? 0} persons (median; p99 after) | ${store?.firstUs} / ${store?.lastUs} µs (${store?.lastP99Us} µs) | | |`,
    `| first processed frame after startAppliance() (${replayRows[0]?.profile}, fresh data folder) | ${firstFrame} ms | ≤ ${TARGETS.firstFrameMs} ms | ${met(verdicts.firstFrame)} |`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
}
process.exit(0);
