/**
 * `npm run bench:detection`: time per frame of the face detectors on BUSY simulated entrances.
 *
 * - Thermal-only detector on °C frames with 0, 2 and 6 people in view, always with hot objects (a hot
 *   drink held in a hand, a ceiling lamp, the simulator's radiator) and the blackbody, at every camera
 *   size the profiles offer (160×120 lepton35, 256×192 simulator, 384×288 bispectrum-rtsp, 640×512
 *   flir-a640). The detector runs as the appliance calls it: minimum face = half the profile's
 *   measurable size (at least 12 px), the blackbody excluded, the room temperature given.
 * - BlazeFace (ONNX, CPU) on a 640×480 RGB frame, the visible stream of a bi-spectrum camera.
 *
 * Busy frames are composited from the simulator's own people (the simulator sends one person or a pair
 * at a time): person pixels are what a seeded entrance renders over its empty background (same seed,
 * `people: 0`); they are pasted, shifted sideways, far ones first, onto an empty entrance, then the
 * profile's NETD noise is added. Each figure is the median / p99 over all frames of 3 timed passes.
 *
 *   npm run bench:detection [-- --frames N] [--passes N] [--only 640x512,...] [--no-blazeface]
 */
import { SeededRandom } from '../appliance/camera/simulator/random.ts';
import { SimulatedEntrance } from '../appliance/camera/simulator/scene.ts';
import { loadProfiles } from '../appliance/config/load.ts';
import type { CameraProfile } from '../appliance/core/cameraProfile.ts';
import type { Box } from '../appliance/core/types.ts';
import { BlazeFaceDetector } from '../appliance/detection/blazeface.ts';
import { DEFAULT_MIN_FACE_PX, detectThermalFaces } from '../appliance/detection/thermalFaces.ts';

const args = process.argv.slice(2);
const argOf = (name: string, fallback: string) =>
  args.includes(name) ? args[args.indexOf(name) + 1] : fallback;
const FRAMES_PER_SCENE = Number(argOf('--frames', '40'));
const PASSES = Number(argOf('--passes', '3'));
const ONLY = args.includes('--only') ? argOf('--only', '').split(',') : null;

const profiles = loadProfiles(null);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** One person as the simulator drew them: the pixels that differ from the empty entrance. */
interface PersonSprite {
  /** Indices into the frame and their °C values. */
  index: Int32Array;
  value: Float32Array;
  faceBox: Box;
}

/** People cut out of seeded simulator runs: walking in, at the measurement point, leaving. */
function collectSprites(profile: CameraProfile, count: number): PersonSprite[] {
  const sprites: PersonSprite[] = [];
  const { width, height } = profile;
  for (let seed = 1; sprites.length < count && seed < 200; seed++) {
    const scene = new SimulatedEntrance({ profile, seed, people: 2, pairRate: 0, flatField: null });
    const empty = new SimulatedEntrance({ profile, seed, people: 0, flatField: null }).render(0).apparentC;
    // Frames spread over the first person's visit (arrival at 1 s, ≈ 9 s in view).
    const wanted = new Set([1.6, 2.6, 4.2, 5.5, 7.4].map((s) => Math.round(s * profile.fps)));
    const last = Math.max(...wanted);
    for (let i = 0; i <= last && sprites.length < count; i++) {
      const { apparentC, truth } = scene.render(i);
      if (!wanted.has(i) || truth.faces.length !== 1) continue;
      const idx: number[] = [];
      for (let p = 0; p < width * height; p++) if (apparentC[p] !== empty[p]) idx.push(p);
      sprites.push({
        index: Int32Array.from(idx),
        value: Float32Array.from(idx, (p) => apparentC[p]),
        faceBox: truth.faces[0].faceBox,
      });
    }
  }
  return sprites;
}

/** Busy entrance frames: `people` sprites spread across the frame, a hot drink and a lamp, noise. */
function busyFrames(
  profile: CameraProfile,
  sprites: PersonSprite[],
  people: number,
  frames: number,
  seed: number,
): Float32Array[] {
  const { width: w, height: h } = profile;
  const base = new SimulatedEntrance({ profile, seed: 999, people: 0, flatField: null }).render(0).apparentC;
  const r = new SeededRandom(seed);
  const out: Float32Array[] = [];
  // Near people (at the measurement point) are wide: at most two of them, the rest further away.
  const bySize = [...sprites].sort((a, b) => a.faceBox[2] - b.faceBox[2]);
  const far = bySize.slice(0, Math.ceil(bySize.length / 2));
  const near = bySize.slice(far.length);
  const pick = (from: PersonSprite[]) => from[Math.floor(r.next() * from.length)];
  for (let f = 0; f < frames; f++) {
    const frame = Float32Array.from(base);
    const chosen = Array.from({ length: people }, (_, k) => (k < 2 ? pick(near) : pick(far)));
    // Far (small) people first so nearer ones cover them, as in the simulator.
    chosen.sort((a, b) => a.faceBox[2] - b.faceBox[2]);
    chosen.forEach((s, k) => {
      const targetX = ((k + 0.5) / people) * w + r.uniform(-0.04, 0.04) * w;
      const dx = Math.round(targetX - (s.faceBox[0] + s.faceBox[2] / 2));
      for (let j = 0; j < s.index.length; j++) {
        const p = s.index[j];
        const x = (p % w) + dx;
        if (x >= 0 && x < w) frame[p - (p % w) + x] = s.value[j];
      }
    });
    const u = Math.max(1, Math.round(w / 64));
    // A hot drink held in a hand at chest height, a ceiling lamp with its warm fitting.
    const cupX = Math.round(r.uniform(0.1, 0.85) * w);
    const cupY = Math.round(r.uniform(0.55, 0.75) * h);
    fill(frame, w, h, cupX - u, cupY + 2 * u, 4 * u, 3 * u, 33);
    fill(frame, w, h, cupX, cupY, 2 * u, 4 * u, 58);
    const lampX = Math.round(r.uniform(0.2, 0.8) * w);
    disc(frame, w, h, lampX, Math.round(0.04 * h), 3 * u, 30);
    disc(frame, w, h, lampX, Math.round(0.04 * h), 1.6 * u, 70);
    for (let i = 0; i < frame.length; i++) frame[i] += r.gaussian(0, profile.netdC);
    out.push(frame);
  }
  return out;
}

function fill(
  img: Float32Array,
  w: number,
  h: number,
  x0: number,
  y0: number,
  rw: number,
  rh: number,
  v: number,
) {
  for (let y = Math.max(0, y0); y < Math.min(h, y0 + rh); y++)
    for (let x = Math.max(0, x0); x < Math.min(w, x0 + rw); x++) img[y * w + x] = v;
}

function disc(img: Float32Array, w: number, h: number, cx: number, cy: number, rad: number, v: number) {
  for (let y = Math.max(0, Math.floor(cy - rad)); y <= Math.min(h - 1, Math.ceil(cy + rad)); y++)
    for (let x = Math.max(0, Math.floor(cx - rad)); x <= Math.min(w - 1, Math.ceil(cx + rad)); x++)
      if ((x - cx) ** 2 + (y - cy) ** 2 <= rad * rad) img[y * w + x] = v;
}

// Wall time is what the frame budget sees; CPU time (this process, user + system) shows the work itself
// when other processes share the cores.
console.log('| detector and frame | people | median ms | p99 ms | median CPU ms | faces/frame | frames |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const profileId of ['lepton35', 'simulator', 'bispectrum-rtsp', 'flir-a640']) {
  const profile = profiles.get(profileId);
  if (!profile) continue;
  if (ONLY && !ONLY.includes(`${profile.width}x${profile.height}`)) continue;
  // As the appliance calls it (screening/createScreeningStage.ts): half the measurable size.
  const minFacePx = Math.max(DEFAULT_MIN_FACE_PX, Math.round(profile.minFacePx / 2));
  const blackbody = new SimulatedEntrance({ profile, seed: 999, people: 0 }).blackbody;
  const exclude = blackbody ? [blackbody.box] : [];
  const sprites = collectSprites(profile, 12);
  for (const people of [0, 2, 6]) {
    const frames = busyFrames(profile, sprites, people, FRAMES_PER_SCENE, 7 + people);
    const times: number[] = [];
    const cpuTimes: number[] = [];
    let faces = 0;
    for (let pass = 0; pass <= PASSES; pass++)
      for (const frame of frames) {
        const started = performance.now();
        const cpuStarted = process.cpuUsage();
        const found = detectThermalFaces(frame, profile.width, profile.height, {
          minFacePx,
          ambientC: 21,
          exclude,
        });
        const ms = performance.now() - started;
        const cpu = process.cpuUsage(cpuStarted);
        // Pass 0 warms the JIT up and is not counted.
        if (pass > 0) {
          times.push(ms);
          cpuTimes.push((cpu.user + cpu.system) / 1000);
        }
        if (pass === 1) faces += found.length;
      }
    times.sort((a, b) => a - b);
    cpuTimes.sort((a, b) => a - b);
    console.log(
      `| thermal, ${profile.width}×${profile.height}, min face ${minFacePx} px | ${people} | ${percentile(times, 0.5).toFixed(2)} | ${percentile(times, 0.99).toFixed(2)} | ${percentile(cpuTimes, 0.5).toFixed(2)} | ${(faces / frames.length).toFixed(1)} | ${times.length} |`,
    );
  }
}

if (!args.includes('--no-blazeface')) {
  const detector = await BlazeFaceDetector.load({ intraOpNumThreads: 1 });
  const rgb = new Uint8Array(640 * 480 * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 7919) % 251;
  const times: number[] = [];
  for (let i = 0; i < 220; i++) {
    const started = performance.now();
    await detector.detect(rgb, 640, 480);
    if (i >= 20) times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  console.log(
    `| BlazeFace front 128, 640×480 RGB, 1 thread | – | ${percentile(times, 0.5).toFixed(2)} | ${percentile(times, 0.99).toFixed(2)} | – | – | ${times.length} |`,
  );
}
process.exit(0);
