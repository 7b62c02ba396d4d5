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
import { SimulatedEntrance } from '../appliance/camera/simulator/scene.ts';
import { loadProfiles } from '../appliance/config/load.ts';
import { BlazeFaceDetector } from '../appliance/detection/blazeface.ts';
import { DEFAULT_MIN_FACE_PX, detectThermalFaces } from '../appliance/detection/thermalFaces.ts';
import { busyFrames, collectSprites } from './lib/busyEntrance.ts';

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
