/**
 * `node bin/run-ts.js bench/detectionEquivalence.ts --save FILE | --compare FILE`: does a change to the
 * thermal face detector (a speed-up) leave its answers as they were? Runs the detector over
 * - the busy simulated entrances of bench:detection (all four camera sizes, 0 / 2 / 6 people, the same
 *   seeded frames),
 * - the feverscreen kiosk clips (../shared/data/feverscreen-cptv, GPL-3.0: read at run time, never
 *   copied) as bench/kioskClips.ts feeds them to the detector: every labelled frame and every
 *   `--every N`-th frame (default 2) of every clip,
 * - the real fixture stills (test/fixtures/thermal-faces, radiometric and 8-bit),
 * and writes every frame's faces (box, score, keypoints, frontal) to FILE, or compares them with FILE:
 * frames whose faces differ in any digit are listed, with the boxes before and after.
 *
 *   node bin/run-ts.js bench/detectionEquivalence.ts --save /tmp/before.json
 *   node bin/run-ts.js bench/detectionEquivalence.ts --compare /tmp/before.json [--only busy,kiosk,stills]
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimulatedEntrance } from '../appliance/camera/simulator/scene.ts';
import { loadProfiles } from '../appliance/config/load.ts';
import type { Face } from '../appliance/core/types.ts';
import {
  DEFAULT_MIN_FACE_PX,
  detectThermalFaces,
  detectThermalFacesGray8,
} from '../appliance/detection/thermalFaces.ts';
import { readThermalFile } from '../appliance/thermalFiles/index.ts';
import { busyFrames, collectSprites } from './lib/busyEntrance.ts';
import { readCptvClip } from './lib/cptvClip.ts';
import { detectorFrame, readClipsCsv, uprightDisc } from './lib/kioskFrames.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const argOf = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : null);
const saveTo = argOf('--save');
const compareWith = argOf('--compare');
const every = Number(argOf('--every') ?? '2');
const only = argOf('--only')?.split(',') ?? null;
const clipsDir = argOf('--clips') ?? path.resolve(ROOT, '../shared/data/feverscreen-cptv');
if (!saveTo === !compareWith) {
  console.error('give exactly one of --save FILE or --compare FILE');
  process.exit(2);
}

const results = new Map<string, Face[]>();
let ms = 0;
function record(id: string, run: () => Face[]) {
  const started = performance.now();
  results.set(id, run());
  ms += performance.now() - started;
}

const profiles = loadProfiles(null);

function busy() {
  for (const profileId of ['lepton35', 'simulator', 'bispectrum-rtsp', 'flir-a640']) {
    const profile = profiles.get(profileId)!;
    // As bench:detection calls it (and the screening stage): half the measurable size.
    const minFacePx = Math.max(DEFAULT_MIN_FACE_PX, Math.round(profile.minFacePx / 2));
    const blackbody = new SimulatedEntrance({ profile, seed: 999, people: 0 }).blackbody;
    const exclude = blackbody ? [blackbody.box] : [];
    const sprites = collectSprites(profile, 12);
    for (const people of [0, 2, 6]) {
      const frames = busyFrames(profile, sprites, people, 40, 7 + people);
      frames.forEach((frame, i) => {
        record(`busy ${profile.width}x${profile.height} ${people}p #${i}`, () =>
          detectThermalFaces(frame, profile.width, profile.height, { minFacePx, ambientC: 21, exclude }),
        );
      });
    }
  }
}

function kiosk() {
  if (!existsSync(clipsDir)) {
    console.error(`no kiosk clips at ${clipsDir}: skipped`);
    return;
  }
  const labels = JSON.parse(readFileSync(path.join(ROOT, 'bench', 'kiosk-labels.json'), 'utf8')) as {
    clips: Record<string, { disc?: { x: number; y: number; r: number }; faces: Record<string, unknown> }>;
  };
  const lepton = profiles.get('lepton35')!;
  const minFacePx = Math.max(DEFAULT_MIN_FACE_PX, Math.round(lepton.minFacePx / 2));
  for (const { file, discX, discY, discR } of readClipsCsv(clipsDir)) {
    const label = labels.clips[file];
    const disc = uprightDisc(label?.disc ?? { x: discX, y: discY, r: discR });
    const clip = readCptvClip(path.join(clipsDir, 'clips', file));
    const labelled = new Set(Object.keys(label?.faces ?? {}).map(Number));
    clip.frames.forEach((stored, i) => {
      if (i % every !== 0 && !labelled.has(i)) return;
      const { field, width, height, exclude } = detectorFrame(stored, clip.width, clip.height, disc);
      record(`kiosk ${file} #${i}`, () => detectThermalFaces(field, width, height, { minFacePx, exclude }));
    });
  }
}

async function stills() {
  const fixtures = path.join(ROOT, 'test/fixtures');
  const ann = JSON.parse(readFileSync(path.join(fixtures, 'thermal-faces/annotations.json'), 'utf8')) as {
    images: { file: string }[];
  };
  for (const im of ann.images) {
    const img = await readThermalFile(path.join(fixtures, im.file));
    record(`still ${im.file}`, () =>
      img.celsius
        ? detectThermalFaces(img.celsius, img.width, img.height)
        : detectThermalFacesGray8(img.gray8!, img.width, img.height),
    );
  }
}

const run = (part: string) => only === null || only.includes(part);
if (run('busy')) busy();
if (run('kiosk')) kiosk();
if (run('stills')) await stills();
console.log(`${results.size} frames, detector time ${ms.toFixed(0)} ms`);

if (saveTo) {
  writeFileSync(saveTo, JSON.stringify(Object.fromEntries(results)));
  console.log(`saved to ${saveTo}`);
} else {
  const before = JSON.parse(readFileSync(compareWith!, 'utf8')) as Record<string, Face[]>;
  const boxes = (faces: Face[]) => faces.map((f) => `[${f.box.join(',')}] ${f.score}`).join('; ') || '–';
  let same = 0;
  let missing = 0;
  const differ: string[] = [];
  for (const [id, faces] of results) {
    if (!(id in before)) missing++;
    else if (JSON.stringify(before[id]) === JSON.stringify(faces)) same++;
    else differ.push(`${id}\n    before: ${boxes(before[id])}\n    now:    ${boxes(faces)}`);
  }
  for (const d of differ.slice(0, 40)) console.log(d);
  if (differ.length > 40) console.log(`… and ${differ.length - 40} more`);
  console.log(
    `${same} frames identical, ${differ.length} differ${missing ? `, ${missing} not in ${compareWith}` : ''}`,
  );
  process.exitCode = differ.length ? 1 : 0;
}
