/**
 * `node bin/run-ts.js bench/kiosk8bit.ts [--clips DIR] [--explain]`: the face detector on the kiosk clips'
 * labelled frames exported as 8-bit images, the way Lepton cameras and their apps export them, scored
 * against the same hand labels as bench/kioskClips.ts (bench/kiosk-labels.json; faces ≥ 20 px count for
 * recall, every box for precision). The clips (GPL-3.0) are read from ../shared at run time, never copied.
 *
 * Each labelled frame is turned upright and rendered as:
 * - `linear`: the frame's coldest to warmest pixel stretched over 0–255 (plain exporters; the product's
 *   own `celsiusToGray8`);
 * - `heq`: histogram equalisation with a plateau (the Lepton's own AGC: each grey level gets a share of
 *   the image by pixel count, no bin more than PLATEAU of it), so a large cold background takes fewer
 *   grey levels and faces more;
 * - `iron`, `rainbow`: the `linear` grey drawn in a colour palette (phone apps), then read back as the
 *   product reads any colour image (thermalFiles/palettes.ts invertPalette);
 * and goes through `detectThermalFacesGray8` as `canthus analyze` calls it on an 8-bit image (minimum
 * face 12 px, no reference excluded: a still carries no configuration). Boxes on the reference disc or
 * its housing are counted as false boxes and also reported apart.
 */

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Box } from '../appliance/core/types.ts';
import { detectThermalFacesGray8 } from '../appliance/detection/thermalFaces.ts';
import { celsiusToGray8 } from '../appliance/thermalFiles/index.ts';
import { invertPalette, PALETTES } from '../appliance/thermalFiles/palettes.ts';
import { readCptvClip, rotateClockwise } from './lib/cptvClip.ts';
import { matchFaces } from './lib/faceMatch.ts';
import { countedFaces, type LabelledFace, onLabelledHousing, readClipsCsv } from './lib/kioskFrames.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const argOf = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const clipsDir = argOf('clips', path.resolve(ROOT, '../shared/data/feverscreen-cptv'));
const explain = process.argv.includes('--explain');

interface Labels {
  holdout: string[];
  clips: Record<string, { housing: Box; faces: Record<string, LabelledFace[]> }>;
}
const labels = JSON.parse(readFileSync(path.join(ROOT, 'bench', 'kiosk-labels.json'), 'utf8')) as Labels;

/** As `canthus analyze` looks for faces in an 8-bit still (appliance/cli/analyze.ts). */
const STILL_MIN_FACE_PX = 12;
/** Lepton AGC (HEQ) plateau: no grey-level bin takes more than this share of the pixels. */
const PLATEAU = 0.05;

function equalisedGray(field: Float32Array): Uint8Array {
  // 0.05 °C bins, clipped at the plateau, cumulated: each pixel's grey level is its bin's rank share.
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of field) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const bins = Math.max(1, Math.ceil((hi - lo) / 0.05) + 1);
  const hist = new Float64Array(bins);
  const binOf = (v: number) => Math.min(bins - 1, Math.floor((v - lo) / 0.05));
  for (const v of field) hist[binOf(v)]++;
  const cap = PLATEAU * field.length;
  let total = 0;
  for (let b = 0; b < bins; b++) {
    hist[b] = Math.min(hist[b], cap);
    total += hist[b];
  }
  const cdf = new Float64Array(bins);
  let acc = 0;
  for (let b = 0; b < bins; b++) {
    acc += hist[b];
    cdf[b] = acc / total;
  }
  const out = new Uint8Array(field.length);
  for (let i = 0; i < field.length; i++) out[i] = Math.round(255 * cdf[binOf(field[i])]);
  return out;
}

/** The grey image drawn in a palette and read back as the product reads a colour image. */
function throughPalette(gray: Uint8Array, name: string): Uint8Array {
  const palette = PALETTES.find((p) => p.name === name);
  if (!palette) throw new Error(`no palette ${name}`);
  const rgb = new Uint8Array(gray.length * 3);
  for (let i = 0; i < gray.length; i++) rgb.set(palette.ramp.subarray(gray[i] * 3, gray[i] * 3 + 3), i * 3);
  const back = invertPalette(rgb, 3, gray.length);
  if (back.kind !== 'palette') throw new Error(`${name}: not recognised as a palette image (${back.kind})`);
  return back.gray8;
}

const RENDERINGS: Record<string, (field: Float32Array) => Uint8Array> = {
  linear: (field) => celsiusToGray8(field),
  heq: equalisedGray,
  iron: (field) => throughPalette(celsiusToGray8(field), 'iron'),
  rainbow: (field) => throughPalette(celsiusToGray8(field), 'rainbow'),
};

interface Tally {
  faces: number;
  found: number;
  boxes: number;
  falseBoxes: number;
  onHousing: number;
}
const tally = (): Tally => ({ faces: 0, found: 0, boxes: 0, falseBoxes: 0, onHousing: 0 });
const totals: Record<string, { dev: Tally; holdout: Tally }> = Object.fromEntries(
  Object.keys(RENDERINGS).map((k) => [k, { dev: tally(), holdout: tally() }]),
);

for (const clip of readClipsCsv(clipsDir)) {
  const label = labels.clips[clip.file];
  if (!label) throw new Error(`bench/kiosk-labels.json: no labels for ${clip.file}`);
  const frames = readCptvClip(path.join(clipsDir, 'clips', clip.file));
  const split = labels.holdout.includes(clip.file) ? 'holdout' : 'dev';
  for (const [frameText, labelled] of Object.entries(label.faces)) {
    const stored = frames.frames[Number(frameText)];
    const field = rotateClockwise(stored, frames.width, frames.height);
    const width = frames.height;
    const height = frames.width;
    const { truth, ignore } = countedFaces(labelled);
    for (const [name, render] of Object.entries(RENDERINGS)) {
      const boxes = detectThermalFacesGray8(render(field), width, height, {
        minFacePx: STILL_MIN_FACE_PX,
      }).map((f) => f.box);
      const m = matchFaces(boxes, truth, ignore);
      const t = totals[name][split];
      t.faces += truth.length;
      t.found += m.found;
      t.boxes += boxes.length;
      t.falseBoxes += m.falseFaces;
      const onHousing = boxes.filter((b) => onLabelledHousing(b, label.housing));
      t.onHousing += onHousing.length;
      if (explain && (m.found < truth.length || m.falseFaces > 0))
        console.log(
          `${name} ${clip.file} #${frameText}: found ${m.found}/${truth.length}, false ${m.falseFaces}` +
            ` (${onHousing.length} on the housing); boxes ${JSON.stringify(boxes)} truth ${JSON.stringify(truth)}`,
        );
    }
  }
}

const pct = (a: number, b: number) => (b > 0 ? `${Math.round((100 * a) / b)} %` : '–');
console.log(
  '| 8-bit export | split | faces ≥ 20 px | found (recall) | boxes | false | precision | on the housing |',
);
console.log('|---|---|---:|---:|---:|---:|---:|---:|');
for (const [name, { dev, holdout }] of Object.entries(totals))
  for (const [split, t] of [
    ['dev', dev],
    ['holdout*', holdout],
  ] as const)
    console.log(
      `| ${name} | ${split} | ${t.faces} | ${t.found} (${pct(t.found, t.faces)}) | ${t.boxes} | ${t.falseBoxes} | ${pct(t.boxes - t.falseBoxes, t.boxes)} | ${t.onHousing} |`,
    );
