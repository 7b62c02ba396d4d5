/**
 * The live video's bi-spectrum views, per frame: the synchronous part on the main thread (palette,
 * the blend's warp lookup, the visible copy) and the whole render with sharp's JPEG encode, for
 * thermal, visible and blend, at 256×192 thermal with a 640×480 and a 1920×1080 visible stream.
 *   node bin/run-ts.js bench/videoViews.ts
 * Figures go to docs/benchmarks.md ("Live video views").
 */
import os from 'node:os';
import {
  blendLookup,
  colorize,
  encode,
  encodeBlend,
  encodeVisible,
  outputScale,
  overlaySvg,
  visibleOverlaySvg,
  warpVisible,
} from '../appliance/render/frame.ts';
import type { Homography } from '../calibration/homography.ts';

const THERMAL = { width: 256, height: 192 };
const FRAMES = 60;
const reference = {
  state: 'stable',
  reason: '',
  measuredC: 35,
  setpointC: 35,
  offsetC: 0,
  noiseC: 0.05,
  gain: 1,
} as const;
const overlay = {
  tracks: [
    {
      personId: 'p1',
      box: [100, 40, 50, 70] as [number, number, number, number],
      state: 'measured' as const,
      decision: 'normal' as const,
      display: '36.6 °C',
      prompts: [],
    },
  ],
  reference,
  referenceRegion: { x: 226, y: 150, width: 20, height: 20 },
  unit: 'C' as const,
} as unknown as Parameters<typeof overlaySvg>[0];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function measure(name: string, frame: () => { sync: number; done: Promise<Buffer> }) {
  const sync: number[] = [];
  const total: number[] = [];
  let bytes = 0;
  for (let i = 0; i < FRAMES + 5; i++) {
    const started = performance.now();
    const run = frame();
    const jpeg = await run.done;
    if (i < 5) continue; // warm-up
    sync.push(run.sync);
    total.push(performance.now() - started);
    bytes += jpeg.length;
  }
  console.log(
    `${name.padEnd(34)} main thread ${median(sync).toFixed(2)} ms   whole frame ${median(total).toFixed(1)} ms   JPEG ${Math.round(bytes / FRAMES / 1024)} KiB`,
  );
}

const celsius = new Float32Array(THERMAL.width * THERMAL.height).map(
  (_, i) => 22 + ((i * 7919) % 1300) / 100,
);
const scale = outputScale(THERMAL.width);
console.log(
  `${os.cpus().length} × ${os.cpus()[0].model}, node ${process.version}, ${FRAMES} frames each (median)`,
);

await measure('thermal 256×192', () => {
  const t0 = performance.now();
  const colored = colorize(celsius, THERMAL.width, THERMAL.height, 'iron');
  const svg = overlaySvg(overlay, colored, scale, 'iron');
  const sync = performance.now() - t0;
  return { sync, done: encode(colored, svg, scale) };
});

for (const visible of [
  { width: 640, height: 480 },
  { width: 1920, height: 1080 },
]) {
  const rgb = new Uint8Array(visible.width * visible.height * 3).map((_, i) => (i * 31) % 256);
  // A registration like a real site's: visible → thermal, scale and shift.
  const H: Homography = [THERMAL.width / visible.width, 0, 2, 0, THERMAL.height / visible.height, 3, 0, 0, 1];
  const size = `${visible.width}×${visible.height}`;
  await measure(`visible ${size}`, () => {
    const t0 = performance.now();
    const copy = Buffer.allocUnsafe(visible.width * visible.height * 3);
    copy.set(rgb.subarray(0, copy.length));
    const svg = visibleOverlaySvg(overlay, H, visible);
    const sync = performance.now() - t0;
    return { sync, done: encodeVisible(copy, visible, svg) };
  });
  const t0 = performance.now();
  const lookup = blendLookup(H, THERMAL, visible, scale);
  console.log(
    `${`blend lookup table ${size}`.padEnd(34)} built once per registration: ${(performance.now() - t0).toFixed(1)} ms`,
  );
  await measure(`blend 256×192 over ${size}`, () => {
    const t1 = performance.now();
    const colored = colorize(celsius, THERMAL.width, THERMAL.height, 'iron');
    const svg = overlaySvg(overlay, colored, scale, 'iron');
    const warped = warpVisible(rgb, lookup);
    const sync = performance.now() - t1;
    return { sync, done: encodeBlend(colored, warped, svg, scale) };
  });
}
