/**
 * `npm run bench`: capture + raw→°C throughput through a real GStreamer pipeline at the three
 * sensor sizes the profiles cover, and the process RSS after 10 000 frames each.
 *
 * Frames come from GStreamer's own generator (videotestsrc, GRAY16_LE, noise pattern) into an
 * appsink, are pulled into JS exactly as a camera's are, copied into a Uint16Array and converted
 * to °C with the profile's radiometry. A second pass runs the whole camera pipeline (radiometry,
 * blackbody reference, flat-field check) on the same frames.
 */
import { GstFrameSource } from '../appliance/camera/gstreamerSource.ts';
import { loadProfiles } from '../appliance/config/load.ts';
import { EventBus } from '../appliance/core/eventBus.ts';
import type { RawFrame } from '../appliance/core/types.ts';
import { CameraPipeline } from '../appliance/pipeline/cameraPipeline.ts';
import { rawToCelsius } from '../calibration/radiometry.ts';

const FRAMES = Number(process.env.BENCH_FRAMES ?? 10_000);
const profiles = loadProfiles(null);
const cases = [
  { profile: 'lepton35', label: '160×120 TLinear' },
  { profile: 'infiray256', label: '256×192 linear' },
  { profile: 'flir-a640', label: '640×512 Planck' },
];

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}

async function run(
  profileId: string,
  stage: 'radiometry' | 'pipeline',
): Promise<{ fps: number; rssMiB: string }> {
  const profile = profiles.get(profileId)!;
  const { width, height } = profile;
  const source = new GstFrameSource({
    cameraId: 'bench',
    description: `videotestsrc num-buffers=${FRAMES} pattern=snow ! video/x-raw,format=GRAY16_LE,width=${width},height=${height},framerate=1000/1 ! appsink name=sink sync=false max-buffers=1 drop=false`,
    width,
    height,
    fps: 1000,
    live: false,
    timestamps: 'frame-rate',
  });
  const out = new Float32Array(width * height);
  const pipeline = new CameraPipeline({
    cameraId: 'bench',
    profile,
    reference: {
      setpointC: 35,
      emissivity: 0.98,
      region: { x: 4, y: 4, width: 12, height: 12 },
      warmupS: 0,
      stableForS: 1,
      maxDriftCPerMin: 0.3,
      ffcSettleS: 1,
    },
    bus: new EventBus(),
  });
  let count = 0;
  const process_ =
    stage === 'radiometry'
      ? (frame: RawFrame) => rawToCelsius(frame.data, profile.radiometry, undefined, out)
      : (frame: RawFrame) => pipeline.process(frame);
  const started = performance.now();
  await new Promise<void>((resolve) => {
    source.onFrame((frame) => {
      process_(frame);
      count++;
    });
    source.onState((state) => {
      if (state === 'ended' || state === 'offline') resolve();
    });
    source.start();
  });
  const seconds = (performance.now() - started) / 1000;
  await source.stop();
  if (count !== FRAMES) throw new Error(`expected ${FRAMES} frames, got ${count}`);
  return { fps: count / seconds, rssMiB: mib(process.memoryUsage().rss) };
}

console.log(
  `canthus capture benchmark: ${FRAMES} frames per case, Node ${process.version}, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? 'default'}`,
);
console.log(
  '| sensor | capture + raw→°C, frames/s | RSS after | capture + full camera pipeline, frames/s | RSS after |',
);
console.log('|---|---:|---:|---:|---:|');
for (const { profile, label } of cases) {
  const radiometry = await run(profile, 'radiometry');
  const pipeline = await run(profile, 'pipeline');
  console.log(
    `| ${label} | ${radiometry.fps.toFixed(0)} | ${radiometry.rssMiB} MiB | ${pipeline.fps.toFixed(0)} | ${pipeline.rssMiB} MiB |`,
  );
}
process.exit(0);
