/**
 * `npm run bench:detection`: time per frame of the face detectors on simulated entrance frames.
 * - thermal-only detector on °C frames at 256×192 (simulator) and 640×512 (flir-a640 profile), with
 *   the profile's minimum face size;
 * - BlazeFace (ONNX, CPU) on a 640×480 RGB frame, the visible stream of a bi-spectrum camera.
 */
import { SimulatedEntrance } from '../appliance/camera/simulator/scene.ts';
import { loadProfiles } from '../appliance/config/load.ts';
import { BlazeFaceDetector } from '../appliance/detection/blazeface.ts';
import { detectThermalFaces } from '../appliance/detection/thermalFaces.ts';

const profiles = loadProfiles(null);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function summarise(label: string, times: number[]): void {
  const sorted = [...times].sort((a, b) => a - b);
  console.log(
    `| ${label} | ${percentile(sorted, 0.5).toFixed(2)} | ${percentile(sorted, 0.95).toFixed(2)} | ${times.length} |`,
  );
}

console.log('| detector and frame | median ms | p95 ms | frames |');
console.log('|---|---:|---:|---:|');
for (const profileId of ['simulator', 'flir-a640']) {
  const profile = profiles.get(profileId)!;
  const scene = new SimulatedEntrance({ profile, seed: 4 });
  const times: number[] = [];
  for (let i = 0; i < 300; i++) {
    const { apparentC } = scene.render(i);
    const started = performance.now();
    detectThermalFaces(apparentC, profile.width, profile.height, { minFacePx: profile.minFacePx });
    times.push(performance.now() - started);
  }
  summarise(`thermal, ${profile.width}×${profile.height}, min face ${profile.minFacePx} px`, times.slice(20));
}

const detector = await BlazeFaceDetector.load({ intraOpNumThreads: 1 });
const rgb = new Uint8Array(640 * 480 * 3);
for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 7919) % 251;
const times: number[] = [];
for (let i = 0; i < 220; i++) {
  const started = performance.now();
  await detector.detect(rgb, 640, 480);
  times.push(performance.now() - started);
}
summarise('BlazeFace front 128, 640×480 RGB, 1 thread', times.slice(20));
process.exit(0);
