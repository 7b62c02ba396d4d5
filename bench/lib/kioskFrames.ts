/**
 * The feverscreen kiosk clips (../shared/data/feverscreen-cptv, GPL-3.0: read at run time, never copied)
 * as the camera's screening stage hands them to the face detector: turned upright, the disc's offset to
 * its set point applied (a stable reference corrects the frame), the disc's bounding box excluded.
 * Used by bench/kioskClips.ts (face boxes on the labelled frames), bench/kiosk8bit.ts and
 * bench/detectionEquivalence.ts; also how those benches read the hand labels (bench/kiosk-labels.json).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Box } from '../../appliance/core/types.ts';
import { type DiscRegion, discBounds, discInteriorRadius } from '../../calibration/reference.ts';
import { rotateClockwise } from './cptvClip.ts';

/** A labelled face: a box, or a box not counted (too small, cut, turned away: `small` / `ignore`). */
export type LabelledFace = Box | { box: Box; small?: boolean; ignore?: boolean };

/** Labelled faces from this width count for recall (the Lepton figures count faces ≥ 20 px). */
export const RECALL_MIN_FACE_PX = 20;

/** A frame's labels as the face scores use them: faces counted for recall, and faces that only absorb boxes. */
export function countedFaces(labelled: readonly LabelledFace[]): { truth: Box[]; ignore: Box[] } {
  const truth: Box[] = [];
  const ignore: Box[] = [];
  for (const f of labelled) {
    const box = Array.isArray(f) ? f : f.box;
    const counted = Array.isArray(f) || (!f.small && !f.ignore);
    (counted && box[2] >= RECALL_MIN_FACE_PX ? truth : ignore).push(box);
  }
  return { truth, ignore };
}

/** A box on the disc's labelled housing: at least a quarter of the box lies inside it. */
export function onLabelledHousing(box: Box, housing: Box): boolean {
  const ix = Math.min(box[0] + box[2], housing[0] + housing[2]) - Math.max(box[0], housing[0]);
  const iy = Math.min(box[1] + box[3], housing[1] + housing[3]) - Math.max(box[1], housing[1]);
  return ix > 0 && iy > 0 && (ix * iy) / (box[2] * box[3]) >= 0.25;
}

/** Stored Lepton frames are 160 × 120; the kiosks hang the camera so that 90° clockwise is upright. */
export const STORED_HEIGHT = 120;
/**
 * The disc's set point is not recorded; the kiosks appear to have held it near 36.5–37.5 °C (README).
 * The absolute level of these cores drifts by several °C, which is what the reference corrects.
 */
export const DISC_SETPOINT_C = 37;

/** The disc in upright pixel coordinates, from its stored position (x, y, radius in the stored frame). */
export function uprightDisc(stored: { x: number; y: number; r: number }): DiscRegion {
  // Stored (x, y) → upright after 90° clockwise: x' = H − 1 − y, y' = x (pixel indices; + 0.5 for centres).
  return {
    cx: Math.round((STORED_HEIGHT - 1 - stored.y + 0.5) * 10) / 10,
    cy: Math.round((stored.x + 0.5) * 10) / 10,
    r: stored.r,
  };
}

/** A stored frame as the detector sees it: upright, corrected by the disc's offset, the disc excluded. */
export function detectorFrame(
  stored: Float32Array,
  storedWidth: number,
  storedHeight: number,
  disc: DiscRegion,
): { field: Float32Array; width: number; height: number; exclude: Box[] } {
  const field = rotateClockwise(stored, storedWidth, storedHeight);
  const w = storedHeight;
  const bounds = discBounds(disc);
  const inner = discInteriorRadius(disc, 0.2);
  const values: number[] = [];
  for (let y = Math.floor(disc.cy - inner); y <= Math.ceil(disc.cy + inner); y++)
    for (let x = Math.floor(disc.cx - inner); x <= Math.ceil(disc.cx + inner); x++)
      if ((x + 0.5 - disc.cx) ** 2 + (y + 0.5 - disc.cy) ** 2 <= inner * inner) values.push(field[y * w + x]);
  values.sort((a, b) => a - b);
  const offset = DISC_SETPOINT_C - values[values.length >> 1];
  for (let i = 0; i < field.length; i++) field[i] += offset;
  return {
    field,
    width: w,
    height: storedWidth,
    exclude: [[bounds.x, bounds.y, bounds.width, bounds.height]],
  };
}

/** A clip as clips.csv lists it: the disc as found automatically (stored frame; wrong in a few clips). */
export interface KioskClip {
  file: string;
  device: string;
  discX: number;
  discY: number;
  discR: number;
  view: string;
}

/** The clips listed in `clipsDir`/clips.csv (quoted fields may hold commas). */
export function readClipsCsv(clipsDir: string): KioskClip[] {
  const lines = readFileSync(path.join(clipsDir, 'clips.csv'), 'utf8').trim().split(/\r?\n/);
  const split = (line: string) => {
    const out: string[] = [];
    let cur = '';
    let quoted = false;
    for (const ch of line) {
      if (ch === '"') quoted = !quoted;
      else if (ch === ',' && !quoted) {
        out.push(cur);
        cur = '';
      } else cur += ch;
    }
    out.push(cur);
    return out;
  };
  const header = split(lines[0]);
  return lines.slice(1).map((line) => {
    const r = Object.fromEntries(split(line).map((v, i) => [header[i], v]));
    return {
      file: r.file,
      device: r.device,
      discX: Number(r.disc_x),
      discY: Number(r.disc_y),
      discR: Number(r.disc_radius),
      view: r.what_is_in_view,
    };
  });
}
