/**
 * Thermal-only face detector: finds faces from the temperature pattern alone (no visible image, no
 * trained model), for thermal-only cameras and offline analysis of thermal stills.
 *
 * Method (docs/thermal-face-detection.md has the measurements and the limits):
 * 1. Work grid: the frame, block-averaged when the smallest face sought is large (speed).
 * 2. Threshold stack: skin is the warm part of an indoor scene, but how warm depends on the person,
 *    the distance and the ambient. Instead of one threshold, the field is cut at levels every 0.4 °C from
 *    the scene's robust top down to 9 °C below it; each level's 4-connected components are candidates.
 *    Higher levels split touching heads; lower levels give whole faces. Pixels above 41 °C (cups,
 *    radiators, lamps) are never skin.
 * 3. Head extraction: from the top of a component, rows are taken until the outline narrows (neck), widens
 *    suddenly (shoulders) or the height exceeds 1.6 widths — a head sits on top of its body.
 * 4. Scoring: aspect (an upright ellipse), fill (neither fingers nor a perfect rectangle), contrast
 *    against the ring around it (hair/air/background are cooler: this picks the level where the face's
 *    own outline is), texture (a face is not uniform: the blackbody and radiators are), and eye evidence,
 *    required from 20 px: two inner canthi standing out from the eye band by more than the candidate's own
 *    noise, level and symmetric about the midline (a single one at 20–31 px), or cold glasses.
 * 5. Overlapping candidates across levels: the best score wins.
 *
 * 8-bit images (non-radiometric JPEG/PNG) are put on a normalised pseudo-°C scale (2nd percentile → 20,
 * 99.8th → 36) and run through the same method without the absolute-temperature tests.
 */
import type { Box, Face, Point } from '../core/types.ts';
import { type CanthusFinding, type CanthusSpot, locateCanthi } from './thermalCanthi.ts';
import { type LevelComponent, type LevelComponents, levelComponentsFor } from './thermalComponents.ts';
import {
  type FaceEvidence,
  faceEvidence,
  flatEvidence,
  interiorSpread,
  isFlat,
  kthSmallest,
  regionMedianMemo,
} from './thermalStructure.ts';

/** Tuning aid (bench/thermalFaces.ts): receives every scored candidate when set. */
export const thermalFaceDebug: {
  sink: ((c: { box: Box; preScore: number; score: number; features: Record<string, number> }) => void) | null;
} = { sink: null };

export interface ThermalFaceOptions {
  /** Smallest face width to look for, in frame pixels (default 12). Larger values make detection faster. */
  minFacePx?: number;
  /** Ambient temperature when known (°C): nothing within 2 °C of it is taken for skin. */
  ambientC?: number;
  /**
   * Regions that are never faces, e.g. the blackbody. They take no part in detection, and a face on one
   * of them or on its housing (a margin of EXCLUSION_MARGIN × its size around it) is dropped.
   */
  exclude?: Box[];
}

export const DEFAULT_MIN_FACE_PX = 12;
/** Above this a surface is not skin (hot drinks, radiators, lamps). */
export const HOT_OBJECT_C = 41;
/** Least score of a reported face. */
export const FACE_SCORE_THRESHOLD = 0.6;
/** Least score of a reported face in a non-radiometric (8-bit) image. */
export const FACE_SCORE_THRESHOLD_RELATIVE = 0.7;

/** Least pixel noise assumed on a radiometric frame (a good microbolometer's NETD, °C). */
const SENSOR_NETD_C = 0.05;
const LEVEL_STEP = 0.4;
/** Candidates whose peak is this much below the warmest candidate's are clothes or background. */
const PEAK_MARGIN = 4;
/** At most this many candidates get the (full-resolution) eye test. */
const MAX_EYE_CHECKS = 80;
/** …and at most this many of each group of overlapping candidates (best shape scores first). */
const PER_GROUP_CHECKS = 8;
const LEVEL_DEPTH = 9;
/**
 * Least width, in work-grid cells, of the smallest face sought. The head outline (crown, neck, shoulders)
 * is still readable at this size; the eye evidence and the box refinement then work at full resolution.
 */
/**
 * The housing around an excluded region (the reference): this share of its larger side on each side.
 * The feverscreen kiosks' housings reach about one disc diameter beyond their 10–13 px discs.
 */
export const EXCLUSION_MARGIN = 1;
/**
 * Faces at least this many work-grid cells wide are scored on the work grid (boxEvidence), others at
 * full resolution. Below ≈ 50 cells a real bearded close-up (sample_images_07) lost its canthus pair.
 */
const EVIDENCE_FACE_PX = 64;
/** Each work grid reads heads from minW to HEAD_RANGE × minW cells wide; the next grid the larger ones. */
const HEAD_RANGE = 4;
const GRID_FACE_CELLS = 10;
/** A radiometric scene whose robust top is colder than this holds no uncovered skin. */
const MIN_SKIN_TOP_C = 27;
/**
 * A radiometric candidate less than FAINT_CONTRAST_C warmer than its surroundings and with a spread
 * (SD) under FLAT_STD_C is an object, not a face. The kiosks' reference housings read 1.0–1.6 °C over
 * their surroundings with an SD of 0.2–0.3 °C; faces stand 2–5 °C above the air with an SD ≥ 0.4 °C.
 */
const FAINT_CONTRAST_C = 1.8;
const FLAT_STD_C = 0.35;
/** Least mean width of a head's rows at 10–30 % of its height, as a share of its widest row. */
const CROWN_SHARE = 0.5;
/**
 * A head boxed with its torso passes the crown rule when the head takes a fifth of the box: such a box
 * (headOnTorso) must have upper rows at least this share of its widest row (a face's are 0.7–1).
 */
const TORSO_CROWN_SHARE = 0.65;
/** headOnTorso: the box's warmest skin lies in its top this share… */
const TORSO_PEAK_SHARE = 0.25;
/** …and its lower half is this much colder at its warmest, °C… */
const TORSO_COLDER_C = 0.8;
/** …and this many times as wide as the rows down to the warmest skin. */
const TORSO_WIDER = 1.25;

/**
 * From this width the eye evidence is read (thermalStructure.ts); a narrower candidate's score says
 * nothing about its eyes.
 */
const EYES_READ_PX = 20;

interface Candidate {
  /** Box in frame pixels, inclusive corners, as read on a work grid of `cell` pixels per cell. */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  preScore: number;
  score: number;
  finding: CanthusFinding | null;
  box: Box;
  /** Robust peak (mean of the warmest 2×2 cell) and the features behind the score, for tuning. */
  peak: number;
  /** The threshold-stack level the candidate's outline was cut at (field units). */
  levelC: number;
  cell: number;
  features: Record<string, number>;
}

interface FieldKind {
  absolute: boolean;
  /** Least pixel noise (field units): the sensor NETD, or an 8-bit image's grey step on its scale. */
  noiseFloor: number;
}

/** 3×3 mean (NaN-aware): 8-bit images are noisy and quantised; skin broken by glasses or a beard rejoins. */
function smooth3(src: Float32Array, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let s = 0;
      let n = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= w) continue;
          const v = src[yy * w + xx];
          if (Number.isFinite(v)) {
            s += v;
            n++;
          }
        }
      }
      out[y * w + x] = n ? s / n : Number.NaN;
    }
  return out;
}

/** Frame pixels per work-grid cell: the smallest face sought stays ≥ GRID_FACE_CELLS cells wide. */
export function workGridFactor(minFacePx: number): number {
  return Math.max(1, Math.min(8, Math.floor(minFacePx / GRID_FACE_CELLS)));
}

/** Detect faces in a radiometric frame (°C, row-major; NaN marks invalid pixels). */
export function detectThermalFaces(
  celsius: Float32Array,
  width: number,
  height: number,
  opts: ThermalFaceOptions = {},
): Face[] {
  return detectOnField(celsius, width, height, opts, { absolute: true, noiseFloor: SENSOR_NETD_C });
}

/** Detect faces in a non-radiometric 8-bit thermal image (brighter = warmer), on a normalised scale. */
export function detectThermalFacesGray8(
  gray8: Uint8Array,
  width: number,
  height: number,
  opts: ThermalFaceOptions = {},
): Face[] {
  const hist = new Uint32Array(256);
  for (let i = 0; i < width * height; i++) hist[gray8[i]]++;
  const lo = histPercentile(hist, width * height, 0.02);
  const hi = Math.max(lo + 1, histPercentile(hist, width * height, 0.998));
  const scale = 16 / (hi - lo);
  const field = new Float32Array(width * height);
  for (let i = 0; i < field.length; i++) field[i] = 20 + (gray8[i] - lo) * scale;
  const { ambientC: _ignored, ...rest } = opts;
  return detectOnField(field, width, height, rest, { absolute: false, noiseFloor: scale });
}

function histPercentile(hist: Uint32Array, n: number, p: number): number {
  const target = p * n;
  let acc = 0;
  for (let v = 0; v < hist.length; v++) {
    acc += hist[v];
    if (acc >= target) return v;
  }
  return hist.length - 1;
}

/** Scratch buffers reused between frames (the detector runs on every frame: no per-frame allocation). */
const scratch = {
  grid: new Float32Array(0),
  colTop: new Int32Array(0),
  colBot: new Int32Array(0),
  rowLeft: new Int32Array(0),
  rowRight: new Int32Array(0),
  ring: new Float32Array(0),
};

const intScratches = { refineCols: new Int32Array(0), refineRows: new Int32Array(0) };

function intScratch(key: keyof typeof intScratches, n: number): Int32Array {
  if (intScratches[key].length < n) intScratches[key] = new Int32Array(Math.ceil(n * 1.25));
  return intScratches[key].subarray(0, n);
}

function floatScratch(key: 'grid' | 'ring', n: number): Float32Array {
  if (scratch[key].length < n) scratch[key] = new Float32Array(Math.ceil(n * 1.25));
  return scratch[key].subarray(0, n);
}

/** The work grid: the field block-averaged by `f` (NaN-aware), in a reused buffer. */
function downsample(field: Float32Array, width: number, height: number, f: number) {
  const gw = Math.floor(width / f);
  const gh = Math.floor(height / f);
  const grid = floatScratch('grid', gw * gh);
  if (f === 1) {
    grid.set(field.subarray(0, gw * gh));
    return { grid, gw, gh };
  }
  // Plain sums first (sequential reads, no test per pixel): a NaN pixel makes its cell NaN, and only
  // those cells are averaged again over their finite pixels. Each cell row's sum is rounded to 32 bits
  // as it is added (the grid is a Float32Array: the same cell values as summing into it row by row).
  const anyNaN =
    f <= 4 ? blockMeansSmall(field, width, grid, gw, gh, f) : blockMeans(field, width, grid, gw, gh, f);
  if (anyNaN)
    for (let i = 0; i < gw * gh; i++) {
      if (Number.isFinite(grid[i])) continue;
      const y = Math.floor(i / gw);
      const x = i - y * gw;
      let sum = 0;
      let n = 0;
      for (let dy = 0; dy < f; dy++)
        for (let dx = 0; dx < f; dx++) {
          const v = field[(y * f + dy) * width + x * f + dx];
          if (Number.isFinite(v)) {
            sum += v;
            n++;
          }
        }
      grid[i] = n > 0 ? sum / n : Number.NaN;
    }
  return { grid, gw, gh };
}

/** Block means for f = 2, 3, 4 (the usual work grids), unrolled; true when a cell is not finite. */
function blockMeansSmall(
  field: Float32Array,
  width: number,
  grid: Float32Array,
  gw: number,
  gh: number,
  f: number,
): boolean {
  const fround = Math.fround;
  const inv = 1 / (f * f);
  // (v − v is NaN for NaN and ±Infinity: one flag for the whole grid, no branch per cell.)
  let bad = 0;
  for (let y = 0; y < gh; y++) {
    const out = y * gw;
    const p0 = y * f * width;
    const p1 = p0 + width;
    const p2 = p1 + width;
    const p3 = p2 + width;
    if (f === 2)
      for (let x = 0, q = 0; x < gw; x++, q += 2) {
        const a = fround(field[p0 + q] + field[p0 + q + 1]);
        const v = fround(a + (field[p1 + q] + field[p1 + q + 1])) * inv;
        grid[out + x] = v;
        bad += v - v;
      }
    else if (f === 3)
      for (let x = 0, q = 0; x < gw; x++, q += 3) {
        const a = fround(field[p0 + q] + field[p0 + q + 1] + field[p0 + q + 2]);
        const b = fround(a + (field[p1 + q] + field[p1 + q + 1] + field[p1 + q + 2]));
        const v = fround(b + (field[p2 + q] + field[p2 + q + 1] + field[p2 + q + 2])) * inv;
        grid[out + x] = v;
        bad += v - v;
      }
    else
      for (let x = 0, q = 0; x < gw; x++, q += 4) {
        const a = fround(field[p0 + q] + field[p0 + q + 1] + field[p0 + q + 2] + field[p0 + q + 3]);
        const b = fround(a + (field[p1 + q] + field[p1 + q + 1] + field[p1 + q + 2] + field[p1 + q + 3]));
        const c = fround(b + (field[p2 + q] + field[p2 + q + 1] + field[p2 + q + 2] + field[p2 + q + 3]));
        const v =
          fround(c + (field[p3 + q] + field[p3 + q + 1] + field[p3 + q + 2] + field[p3 + q + 3])) * inv;
        grid[out + x] = v;
        bad += v - v;
      }
  }
  return bad !== 0;
}

/** Block means for any f (coarse grids of large minimum faces); true when a cell is not finite. */
function blockMeans(
  field: Float32Array,
  width: number,
  grid: Float32Array,
  gw: number,
  gh: number,
  f: number,
): boolean {
  grid.fill(0);
  let anyNaN = false;
  const inv = 1 / (f * f);
  for (let y = 0; y < gh; y++) {
    const out = y * gw;
    for (let dy = 0; dy < f; dy++) {
      let p = (y * f + dy) * width;
      for (let x = 0; x < gw; x++) {
        let sum = 0;
        for (let dx = 0; dx < f; dx++) sum += field[p++];
        grid[out + x] += sum;
      }
    }
    for (let x = 0; x < gw; x++) {
      const v = grid[out + x] * inv;
      grid[out + x] = v;
      if (!Number.isFinite(v)) anyNaN = true;
    }
  }
  return anyNaN;
}

/**
 * Robust top of the skin-possible values (−60 < v < hotCap): the 99.9th percentile, to the bin of a
 * 4096-bin histogram between the extremes (the value at that rank is found with a small heap: a sort of
 * every pixel costs more than the rest of the detector). Returns NaN when fewer than 16 values qualify.
 */
function robustTop(grid: Float32Array, hotCap: number): number {
  // One pass: the extremes, the count, and the largest values (as many as the rank needs when every
  // cell qualifies: fewer qualifying cells need fewer).
  const most = grid.length - Math.floor(0.999 * (grid.length - 1));
  if (topHeap.length < most) topHeap = new Float64Array(most * 2);
  // A min-heap of the largest values so far: most values fall below its root and cost one comparison.
  const heap = topHeap;
  let size = 0;
  let lo = Number.POSITIVE_INFINITY;
  let n = 0;
  let i = 0;
  // Until the heap is full every value goes in; then only those above its root.
  for (; i < grid.length && size < most; i++) {
    const v = grid[i];
    if (!(v < hotCap && v > -60)) continue;
    if (v < lo) lo = v;
    n++;
    let j = size++;
    while (j > 0) {
      const parent = (j - 1) >> 1;
      if (heap[parent] <= v) break;
      heap[j] = heap[parent];
      j = parent;
    }
    heap[j] = v;
  }
  for (; i < grid.length; i++) {
    const v = grid[i];
    if (!(v < hotCap && v > -60)) continue;
    if (v < lo) lo = v;
    n++;
    if (v > heap[0]) {
      let j = 0;
      for (;;) {
        const left = 2 * j + 1;
        if (left >= most) break;
        const child = left + 1 < most && heap[left + 1] < heap[left] ? left + 1 : left;
        if (heap[child] >= v) break;
        heap[j] = heap[child];
        j = child;
      }
      heap[j] = v;
    }
  }
  // (The greatest value is in the heap.)
  let hi = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < size; j++) if (heap[j] > hi) hi = heap[j];
  if (n < 16) return Number.NaN;
  if (hi - lo < 1e-6) return hi;
  // The histogram bin that holds the value at rank floor(0.999·(n − 1)) from the bottom, as a 4096-bin
  // histogram between the extremes gives it: that value is the k-th largest.
  const k = n - Math.floor(0.999 * (n - 1));
  const largest = heap.subarray(0, size).sort();
  const v = largest[size - k];
  const scale = (4096 - 1) / (hi - lo);
  const b = ((v - lo) * scale) | 0;
  return lo + (b + 0.5) / scale;
}

let topHeap = new Float64Array(64);

/**
 * Does a face box lie on an excluded region (the reference) or the housing around it? The housing is
 * taken as the region grown on every side by EXCLUSION_MARGIN × its larger side. A face is dropped when
 * it covers ≥ 10 % of the excluded region itself (or the region ≥ 10 % of it), or ≥ 25 % of the face
 * lies in the grown region: a person standing beside the reference keeps their face.
 */
export function overlapsExclusion(box: Box, exclude: readonly Box[]): boolean {
  const area = box[2] * box[3];
  for (const region of exclude) {
    const [ex, ey, ew, eh] = region;
    const inner = intersection(box, region);
    if (inner > 0 && inner >= 0.1 * Math.min(area, ew * eh)) return true;
    const m = EXCLUSION_MARGIN * Math.max(ew, eh);
    if (intersection(box, [ex - m, ey - m, ew + 2 * m, eh + 2 * m]) >= 0.25 * area) return true;
  }
  return false;
}

function intersection(a: Box, b: Box): number {
  const ix = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const iy = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  return ix > 0 && iy > 0 ? ix * iy : 0;
}

/** Excluded regions never take part: NaN over their cells (rounded outwards). */
function excludeBoxes(grid: Float32Array, gw: number, gh: number, f: number, exclude: Box[] | undefined) {
  for (const [ex, ey, ew, eh] of exclude ?? []) {
    const xa = Math.max(0, Math.floor(ex / f));
    const xb = Math.min(gw - 1, Math.ceil((ex + ew) / f));
    const ya = Math.max(0, Math.floor(ey / f));
    const yb = Math.min(gh - 1, Math.ceil((ey + eh) / f));
    for (let y = ya; y <= yb; y++) grid.fill(Number.NaN, y * gw + xa, y * gw + xb + 1);
  }
}

const pyramid = new Map<number, Float32Array>();

/** The next, half as fine, work grid: 2×2 means of the finite cells (reused buffer per pyramid level). */
function halve(grid: Float32Array, gw: number, gh: number, scale: number) {
  const w = Math.floor(gw / 2);
  const h = Math.floor(gh / 2);
  let out = pyramid.get(scale);
  if (!out || out.length < w * h) {
    out = new Float32Array(Math.ceil(w * h * 1.25));
    pyramid.set(scale, out);
  }
  const next = out.subarray(0, w * h);
  for (let y = 0; y < h; y++) {
    const a = 2 * y * gw;
    const b = a + gw;
    for (let x = 0; x < w; x++) {
      const v = grid[a + 2 * x] + grid[a + 2 * x + 1] + grid[b + 2 * x] + grid[b + 2 * x + 1];
      if (Number.isFinite(v)) next[y * w + x] = v / 4;
      else {
        let sum = 0;
        let n = 0;
        for (const i of [a + 2 * x, a + 2 * x + 1, b + 2 * x, b + 2 * x + 1])
          if (Number.isFinite(grid[i])) {
            sum += grid[i];
            n++;
          }
        next[y * w + x] = n ? sum / n : Number.NaN;
      }
    }
  }
  return { grid: next, gw: w, gh: h };
}

/**
 * The head candidates of one work grid (cell = f frame pixels), from its threshold stack, in frame-pixel
 * corners.
 */
function findHeads(
  grid: Float32Array,
  gw: number,
  gh: number,
  f: number,
  minW: number,
  maxW: number,
  hotCap: number,
  highest: number,
  levels: number,
  width: number,
  height: number,
  candidates: Candidate[],
): void {
  const components = levelComponentsFor(gw, gh);
  components.assign(grid, highest, LEVEL_STEP, levels, hotCap);
  const toFrame = (k: Candidate) => {
    k.x0 *= f;
    k.y0 *= f;
    k.x1 = Math.min(width - 1, (k.x1 + 1) * f - 1);
    k.y1 = Math.min(height - 1, (k.y1 + 1) * f - 1);
    k.cell = f;
    candidates.push(k);
  };
  components.sweep((c) => {
    if (c.maxX - c.minX + 1 < minW || c.maxY - c.minY + 1 < minW * 0.5 || c.area < minW * minW * 0.3)
      return -1;
    // Two readings of the outline: as it is, and with sideways jumps (a touching neighbour) cut off.
    const levelC = highest - c.level * LEVEL_STEP;
    const whole = headCandidate(grid, gw, gh, f, components, c, minW, maxW, hotCap, false, levelC);
    let readTo = walk.lastRow;
    // Without a sideways jump the clipped reading is the same outline.
    let clipped: Candidate | null = null;
    if (walk.jumped) {
      clipped = headCandidate(grid, gw, gh, f, components, c, minW, maxW, hotCap, true, levelC);
      readTo = Math.max(readTo, walk.lastRow);
    }
    if (clipped && whole && clipped.x0 === whole.x0 && clipped.x1 === whole.x1 && clipped.y1 === whole.y1)
      clipped = null;
    if (whole) toFrame(whole);
    if (clipped) toFrame(clipped);
    return readTo;
  });
}

/** Score that is 1 inside [a, b], falls linearly to 0 at lo and hi. */
function plateau(v: number, lo: number, a: number, b: number, hi: number): number {
  if (v <= lo || v >= hi) return 0;
  if (v < a) return (v - lo) / (a - lo);
  if (v > b) return (hi - v) / (hi - b);
  return 1;
}

function detectOnField(
  field: Float32Array,
  width: number,
  height: number,
  opts: ThermalFaceOptions,
  kind: FieldKind,
): Face[] {
  if (width <= 0 || height <= 0 || field.length < width * height) return [];
  const minFacePx = Math.max(6, opts.minFacePx ?? DEFAULT_MIN_FACE_PX);
  const f0 = workGridFactor(minFacePx);
  const { grid: src, gw: gw0, gh: gh0 } = downsample(field, width, height, f0);
  const base = kind.absolute ? src : smooth3(src, gw0, gh0);
  excludeBoxes(base, gw0, gh0, f0, opts.exclude);
  const hotCap = kind.absolute ? HOT_OBJECT_C : Number.POSITIVE_INFINITY;

  const top = robustTop(base, hotCap);
  if (Number.isNaN(top)) return [];
  if (kind.absolute && top < MIN_SKIN_TOP_C) return [];
  // On a relative (8-bit) scale the faces need not be near the top: sun-warmed ground can be brighter.
  let floor = Math.max(
    top - (kind.absolute ? LEVEL_DEPTH : 12),
    kind.absolute ? 20 : Number.NEGATIVE_INFINITY,
  );
  if (kind.absolute && opts.ambientC !== undefined) floor = Math.max(floor, opts.ambientC + 2);
  const highest = top - LEVEL_STEP / 2;
  if (highest < floor) return [];
  const levels = Math.floor((highest - floor) / LEVEL_STEP + 1e-9) + 1;

  // A pyramid of work grids: each finds the heads minW to HEAD_RANGE × minW cells wide (0.8–3.2 × its
  // smallest face), the next one, half as fine, the larger heads (heads in the overlap are read twice:
  // the better reading wins). A head is thus always read from an outline of 8–32 cells: cheap,
  // whatever its size in the frame, and the same shape tests apply at every size.
  const minW = Math.max(3, (minFacePx / f0) * 0.8);
  const candidates: Candidate[] = [];
  const grids: WorkGrid[] = [];
  let grid = base;
  let gw = gw0;
  let gh = gh0;
  let f = f0;
  for (let scale = 0; ; scale++) {
    // (8-bit images: one grid, as measured on the TFW set — on their smoothed, relative scale the coarse
    // grids added false faces on benches, ground and buildings; stills need no frame-rate speed.)
    const last = !kind.absolute || Math.floor(gw / 2) < 2 * minW || Math.floor(gh / 2) < 2 * minW;
    const maxW = last ? Number.POSITIVE_INFINITY : HEAD_RANGE * minW;
    grids.push({ grid, gw, gh, f });
    findHeads(grid, gw, gh, f, minW, maxW, hotCap, highest, levels, width, height, candidates);
    if (last) break;
    const next = halve(grid, gw, gh, scale);
    grid = next.grid;
    gw = next.gw;
    gh = next.gh;
    f *= 2;
    excludeBoxes(grid, gw, gh, f, opts.exclude);
  }

  // The reference and its housing are never a face (a disc's blurred rim and the warm housing around it
  // can look like a small head).
  if (opts.exclude?.length) {
    const kept = candidates.filter(
      (c) => !overlapsExclusion([c.x0, c.y0, c.x1 - c.x0 + 1, c.y1 - c.y0 + 1], opts.exclude!),
    );
    candidates.length = 0;
    candidates.push(...kept);
  }

  // On an 8-bit image a candidate too small for its eyes to be read is no face: nothing vouches for it
  // (no eye evidence under EYES_READ_PX, no absolute test on an arbitrary scale), and such blobs are
  // what 8-bit exports are full of — a kiosk's reference disc in every frame (12–19 px), cups, lamps,
  // the edges of panels. Radiometric frames keep them: the hot-object cap, the skin floor and the
  // ambient test stand behind a small face there, and video tracks a person from afar.
  let plausible = candidates.filter(
    (c) => c.preScore >= FACE_SCORE_THRESHOLD - 0.15 && (kind.absolute || c.x1 - c.x0 + 1 >= EYES_READ_PX),
  );
  if (plausible.length === 0) return [];
  // Faces are the warmest uncovered skin in the scene: clothes, bodies and backgrounds that pass the
  // shape tests are several degrees cooler than the faces above them. (Radiometric frames only: there
  // nothing ≥ HOT_OBJECT_C is skin, so the warmest candidate is skin. On an 8-bit image a hot object —
  // a reference disc, a lamp, a sunlit car — stretches the scale, and faces fell more than the margin
  // below it: on the kiosk clips exported as 8-bit, 3 of 24 faces.)
  if (kind.absolute) {
    const refPeak = plausible.reduce((m, c) => Math.max(m, c.peak), Number.NEGATIVE_INFINITY);
    plausible = plausible.filter((c) => c.peak >= refPeak - PEAK_MARGIN);
  }
  plausible.sort((a, b) => b.preScore - a.preScore);
  // Speed: the same head is a candidate at many levels. Only the best few (by shape score) of each group
  // of overlapping candidates get the full-resolution evidence, and identical boxes share it.
  const leaders: Candidate[] = [];
  const members: number[] = [];
  plausible = plausible.filter((c) => {
    const g = leaders.findIndex((l) => overlapOfSmaller(c, l) > 0.35);
    if (g < 0) {
      leaders.push(c);
      members.push(1);
      return true;
    }
    return ++members[g] <= PER_GROUP_CHECKS;
  });
  plausible = plausible.slice(0, MAX_EYE_CHECKS);
  const evidenceCache = new Map<number | string, { finding: CanthusFinding | null; ev: FaceEvidence }>();
  const numericKeys = width < 8192 && height < 8192;

  // Eye evidence (at full resolution, or on a work grid where the face is ≥ EVIDENCE_FACE_PX cells
  // wide), then the final score.
  for (const c of plausible) {
    c.box = [c.x0, c.y0, c.x1 - c.x0 + 1, c.y1 - c.y0 + 1];
    // (A number when each of the four fits in 13 bits.)
    const key = numericKeys
      ? ((c.box[0] * 8192 + c.box[1]) * 8192 + c.box[2]) * 8192 + c.box[3]
      : c.box.join(',');
    let cached = evidenceCache.get(key);
    if (!cached) {
      try {
        cached = boxEvidence(field, width, height, c.box, kind, grids);
      } finally {
        regionMedianMemo.end();
      }
      evidenceCache.set(key, cached);
    }
    c.finding = cached.finding;
    const ev = cached.ev;
    Object.assign(c.features, {
      pairGeom: ev.pair.geometry,
      pairC: ev.pair.contrast,
      noise: ev.pair.noise,
      needed: ev.pair.needed,
      single: ev.pair.single,
      peak: ev.pair.peak,
      spread: ev.spread,
      veto: ev.veto ? 1 : 0,
      eyes: ev.eyes,
      glasses: ev.glasses,
      symmetry: ev.symmetry,
      chin: ev.chin,
      ev: ev.score,
    });
    c.score = ev.veto ? 0 : c.preScore * 0.5 + ev.score * 0.5;
    thermalFaceDebug.sink?.({ box: c.box, preScore: c.preScore, score: c.score, features: c.features });
  }

  // Overlapping candidates (the same head at several levels, or a part of it): best score wins; on a
  // tie the one with the stronger outline contrast, i.e. the whole face rather than its warmest part.
  plausible.sort((a, b) => b.score - a.score || b.features.contrast - a.features.contrast);
  const kept: Candidate[] = [];
  // Relative (8-bit) images lack the absolute tests (hot-object cap, skin floor, ambient): they need more
  // evidence.
  const threshold = kind.absolute ? FACE_SCORE_THRESHOLD : FACE_SCORE_THRESHOLD_RELATIVE;
  for (const c of plausible) {
    if (c.score < threshold) break;
    // (A larger candidate with the eye pair used to replace a smaller kept one without it: on real
    // frames it swapped right face boxes for head-and-neck or face-and-surroundings boxes; see
    // docs/thermal-face-detection.md.)
    if (!kept.some((k) => overlapOfSmaller(c, k) > 0.35)) kept.push(c);
  }
  // A head sits on its body: a face-like blob right below a face (neck, chest, a V-neck) is not a face,
  // unless it is clearly larger (a nearer person in front) or the clearer face of the two
  // (clearerFaceBelow: a warm arm or band above a face is no head whose body the face could be); nor is
  // a smaller, weaker blob whose top lies below the face's chin and within 1.5 face widths of its
  // centre: that person's shoulder, arm or hand.
  const faces = kept.filter(
    (g) =>
      !kept.some((fc) => {
        if (fc === g) return false;
        const fh = fc.y1 - fc.y0 + 1;
        const fw = fc.x1 - fc.x0 + 1;
        const gcx = (g.x0 + g.x1) / 2;
        const below =
          !clearerFaceBelow(fc, g) &&
          gcx >= fc.x0 &&
          gcx <= fc.x1 &&
          g.y0 >= fc.y0 + 0.6 * fh &&
          g.y0 <= fc.y1 + 0.8 * fh &&
          g.x1 - g.x0 <= 1.2 * (fc.x1 - fc.x0);
        const onBody =
          g.score < fc.score &&
          g.x1 - g.x0 + 1 <= 0.9 * fw &&
          g.y0 >= fc.y1 - 0.1 * fh &&
          g.y0 <= fc.y1 + 1.5 * fh &&
          Math.abs(gcx - (fc.x0 + fc.x1) / 2) <= 1.5 * fw;
        return below || onBody;
      }),
  );

  // On a reduced grid the box is known to a cell: refine the reported faces' edges at full resolution.
  // Canthi found on a reduced field are found again at full resolution, in the refined box.
  for (const c of faces) {
    const scored = c.box;
    if (c.cell > 1) c.box = refineBox(field, width, c, c.cell, hotCap);
    if (opts.exclude?.length && overlapsExclusion(c.box, opts.exclude)) c.score = -1;
    if (c.finding && evidenceGrid(c.box, kind, grids))
      c.finding = withoutCanthiBehindGlasses(locateCanthi(field, width, height, c.box), c.features);
    else if (c.finding) c.finding = scoredCanthi(field, width, height, scored, kind, grids, c.features);
  }
  return faces.filter((c) => c.score >= 0).map((c) => toFace(c));
}

/**
 * A candidate right below another is its body (neck, chest) — unless it is the clearer face of the two:
 * it scores higher, is wide enough for its eyes to have been read, and the one above shows no canthus
 * pair (it passed on cold "glasses", one canthus or its outline alone). A warm arm or a cap's band
 * above a face passes as glasses now and then (on a kiosk clip); it must not take the face below it
 * for its body. A neck or a hand below a far face is under EYES_READ_PX or scores lower, and a face
 * with its canthus pair keeps claiming what lies below it.
 */
function clearerFaceBelow(above: Candidate, below: Candidate): boolean {
  return (
    below.score > above.score && below.x1 - below.x0 + 1 >= EYES_READ_PX && !(above.features.eyes >= 0.5)
  );
}

/**
 * The candidate's box in frame pixels. On a reduced work grid the outline is only known to a cell
 * (f pixels): the left, right and top edges are moved, within one cell, to where the full-resolution
 * field first holds a fifth of the head's widest extent at the candidate's level. The bottom is a cut
 * (neck, shoulders, height), not an outline, and stays where the grid put it.
 */
function refineBox(field: Float32Array, width: number, c: Candidate, f: number, hotCap: number): Box {
  const gx0 = c.x0;
  const gy0 = c.y0;
  const gx1 = c.x1;
  const gy1 = c.y1;
  const xa = Math.max(0, gx0 - f);
  const xb = Math.min(width - 1, gx1 + f);
  const ya = Math.max(0, gy0 - f);
  const t = c.levelC;
  // Column counts over the box's rows; row counts over its columns (each row's count is kept: the
  // upper half of the box gives the widest row, the top rows the edge).
  const colCount = intScratch('refineCols', xb - xa + 1);
  const rowCount = intScratch('refineRows', gy1 - ya + 1);
  colCount.fill(0);
  for (let y = ya; y <= gy1; y++) {
    const row = y * width;
    let n = 0;
    for (let x = xa; x <= xb; x++) {
      const v = field[row + x];
      if (v >= t && v < hotCap) {
        if (y >= gy0) colCount[x - xa]++;
        if (x >= gx0 && x <= gx1) n++;
      }
    }
    rowCount[y - ya] = n;
  }
  let colMax = 0;
  for (let x = gx0; x <= gx1; x++) colMax = Math.max(colMax, colCount[x - xa]);
  let rowMax = 0;
  for (let y = gy0; y <= gy1; y++) {
    rowMax = Math.max(rowMax, rowCount[y - ya]);
    if (y - gy0 > (gy1 - gy0) / 2) break;
  }
  const colNeed = Math.max(1, 0.2 * colMax);
  const rowNeed = Math.max(1, 0.2 * rowMax);
  let x0 = gx0;
  for (let x = xa; x <= Math.min(gx0 + f, gx1); x++)
    if (colCount[x - xa] >= colNeed) {
      x0 = x;
      break;
    }
  let x1 = gx1;
  for (let x = xb; x >= Math.max(gx1 - f, x0); x--)
    if (colCount[x - xa] >= colNeed) {
      x1 = x;
      break;
    }
  let y0 = gy0;
  for (let y = ya; y <= Math.min(gy0 + f, gy1); y++)
    if (rowCount[y - ya] >= rowNeed) {
      y0 = y;
      break;
    }
  return [x0, y0, x1 - x0 + 1, gy1 - y0 + 1];
}

/** A work grid of the pyramid: the field block-averaged, `f` frame pixels per cell. */
interface WorkGrid {
  grid: Float32Array;
  gw: number;
  gh: number;
  f: number;
}

/**
 * Canthi and structure evidence of a box. A large face carries no more evidence than a 40 px one, and
 * the evidence reads every pixel of the box several times: faces of two or more work-grid cells per
 * EVIDENCE_FACE_PX are read from the work grid (already block-averaged), canthus points mapped back to
 * frame pixels. Reported faces get their canthi again at full resolution.
 */
function boxEvidence(
  field: Float32Array,
  width: number,
  height: number,
  box: Box,
  kind: FieldKind,
  grids: WorkGrid[],
): { finding: CanthusFinding | null; ev: FaceEvidence } {
  const on = evidenceField(field, width, height, box, kind, grids);
  // Speed: the cheap tests first. A flat candidate is vetoed whatever its canthi (none are looked for),
  // and a vetoed one is not measured further; the tuning aid (thermalFaceDebug) gets every feature.
  const complete = thermalFaceDebug.sink !== null;
  // (The canthus search and the glasses test share the medians of the rectangles both read.)
  regionMedianMemo.begin(on.field);
  const spread = interiorSpread(on.field, on.width, on.height, on.box);
  if (!complete && isFlat(spread, kind.absolute, kind.noiseFloor))
    return { finding: null, ev: flatEvidence(spread) };
  // (The spots only: the glasses placements below the usual one change no score — see scoredCanthi.)
  const found = on.box[2] >= 8 ? locateCanthi(on.field, on.width, on.height, on.box, complete) : null;
  const ev = faceEvidence(
    on.field,
    on.width,
    on.height,
    on.box,
    found,
    kind.absolute,
    kind.noiseFloor,
    spread,
    complete,
  );
  const finding = found && on.f > 1 ? findingInFrame(found, on.f) : found;
  return { finding: withoutCanthiBehindGlasses(finding, evidenceFeatures(ev)), ev };
}

/**
 * The field a box's evidence reads: the coarsest work grid on which the face is still ≥
 * EVIDENCE_FACE_PX cells wide (radiometric frames: an 8-bit image's work grids are smoothed, its
 * evidence reads the image itself), or the frame; `f` frame pixels per cell of it, the box in its cells.
 */
function evidenceField(
  field: Float32Array,
  width: number,
  height: number,
  box: Box,
  kind: FieldKind,
  grids: WorkGrid[],
): { field: Float32Array; width: number; height: number; box: Box; f: number } {
  const g = evidenceGrid(box, kind, grids);
  return g
    ? { field: g.grid, width: g.gw, height: g.gh, box: gridBoxOf(box, g.f), f: g.f }
    : { field, width, height, box, f: 1 };
}

/**
 * The canthus search of a candidate that is reported, with every placement of the glasses test: the
 * same field and box its evidence read (boxEvidence looked for its spots only, which are the same), so
 * that `eyesObstructed` and the glasses regions are what the full search says.
 */
function scoredCanthi(
  field: Float32Array,
  width: number,
  height: number,
  box: Box,
  kind: FieldKind,
  grids: WorkGrid[],
  features: Record<string, number>,
): CanthusFinding | null {
  const on = evidenceField(field, width, height, box, kind, grids);
  const found = locateCanthi(on.field, on.width, on.height, on.box);
  return withoutCanthiBehindGlasses(on.f > 1 ? findingInFrame(found, on.f) : found, features);
}

function gridBoxOf(box: Box, s: number): Box {
  return [
    Math.floor(box[0] / s),
    Math.floor(box[1] / s),
    Math.max(1, Math.round(box[2] / s)),
    Math.max(1, Math.round(box[3] / s)),
  ];
}

/** A finding made on a work grid of `s` pixels per cell, its points mapped back to frame pixels. */
function findingInFrame(found: CanthusFinding, s: number): CanthusFinding {
  const toFrame = (p: Point | null): Point | null =>
    p ? { x: (p.x + 0.5) * s - 0.5, y: (p.y + 0.5) * s - 0.5 } : null;
  const spot = (sp: CanthusSpot | null): CanthusSpot | null =>
    sp ? { point: toFrame(sp.point)!, value: sp.value } : null;
  return {
    ...found,
    rightCanthus: spot(found.rightCanthus),
    leftCanthus: spot(found.leftCanthus),
    rightEye: toFrame(found.rightEye),
    leftEye: toFrame(found.leftEye),
  };
}

function evidenceGrid(box: Box, kind: FieldKind, grids: WorkGrid[]): WorkGrid | null {
  let g: WorkGrid | null = null;
  if (kind.absolute)
    for (const w of grids) if (w.f > 1 && box[2] / w.f >= EVIDENCE_FACE_PX && (!g || w.f > g.f)) g = w;
  return g;
}

function evidenceFeatures(ev: FaceEvidence): Record<string, number> {
  return { glasses: ev.glasses, eyes: ev.eyes };
}

/**
 * The evidence saw glasses (two placements of the eye band, so whether or not the box holds hair) and
 * no canthus pair: through glasses the warmest "eye" spot is the bridge or a frame, never a canthus.
 */
function withoutCanthiBehindGlasses(
  finding: CanthusFinding | null,
  features: Record<string, number>,
): CanthusFinding | null {
  if (!finding || !(features.glasses >= 0.5 && features.eyes < 0.5)) return finding;
  return {
    ...finding,
    rightCanthus: null,
    leftCanthus: null,
    rightEye: null,
    leftEye: null,
    yawDeg: null,
    eyesObstructed: true,
  };
}

function overlapOfSmaller(a: Candidate, b: Candidate): number {
  const ix = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0) + 1;
  const iy = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0) + 1;
  if (ix <= 0 || iy <= 0) return 0;
  const areaA = (a.x1 - a.x0 + 1) * (a.y1 - a.y0 + 1);
  const areaB = (b.x1 - b.x0 + 1) * (b.y1 - b.y0 + 1);
  return (ix * iy) / Math.min(areaA, areaB);
}

function toFace(c: Candidate): Face {
  const fd = c.finding;
  const w = c.box[2];
  let frontal: boolean | null = null;
  if (fd?.yawDeg !== null && fd?.yawDeg !== undefined) frontal = Math.abs(fd.yawDeg) <= 20;
  else if (fd && w >= 24 && !fd.eyesObstructed && (fd.rightCanthus || fd.leftCanthus)) frontal = false;
  return {
    box: c.box,
    keypoints: {
      rightEye: fd?.rightEye ?? null,
      leftEye: fd?.leftEye ?? null,
      nose: null,
      mouth: null,
      rightEar: null,
      leftEar: null,
      rightCanthus: fd?.rightCanthus?.point ?? null,
      leftCanthus: fd?.leftCanthus?.point ?? null,
    },
    score: Math.round(c.score * 1000) / 1000,
    from: 'thermal',
    frontal,
  };
}

/**
 * A small head boxed with its torso (a far figure whose clothes read only 1–1.5 °C colder than the face):
 * the box's warmest skin lies in its top TORSO_PEAK_SHARE, and its lower half is at least TORSO_WIDER
 * times as wide as the rows down to that warmest skin and TORSO_COLDER_C colder at its warmest. A face's
 * warmest skin (the inner canthi) lies lower, and below it the cheeks, mouth and chin are no wider.
 */
function headOnTorso(
  grid: Float32Array,
  gw: number,
  components: LevelComponents,
  c: LevelComponent,
  y0: number,
  bh: number,
  hotCap: number,
): boolean {
  const { rowLeft, rowRight } = scratch;
  let peak = Number.NEGATIVE_INFINITY;
  let peakRow = 0;
  let lowerPeak = Number.NEGATIVE_INFINITY;
  const half = Math.floor(bh / 2);
  for (let k = 0; k < bh; k++) {
    const row = (y0 + k) * gw;
    for (let x = rowLeft[k]; x >= 0 && x <= rowRight[k]; x++) {
      const v = grid[row + x];
      if (v >= hotCap || !components.contains(row + x, c)) continue;
      if (v > peak) {
        peak = v;
        peakRow = k;
      }
      if (k >= half && v > lowerPeak) lowerPeak = v;
    }
  }
  if ((peakRow + 0.5) / bh >= TORSO_PEAK_SHARE || peak - lowerPeak < TORSO_COLDER_C) return false;
  let headWidth = 0;
  for (let k = 0; k <= peakRow; k++)
    if (rowLeft[k] >= 0) headWidth = Math.max(headWidth, rowRight[k] - rowLeft[k] + 1);
  let lower = 0;
  for (let k = half; k < bh; k++) if (rowLeft[k] >= 0) lower += rowRight[k] - rowLeft[k] + 1;
  return lower / (bh - half) >= TORSO_WIDER * headWidth;
}

/** The last grid row headCandidate's walk looked at (its reading depends on nothing below it). */
const walk = { lastRow: 0, jumped: false };

/** Take the head off the top of a component and score its shape, contrast and texture. */
function headCandidate(
  grid: Float32Array,
  gw: number,
  gh: number,
  f: number,
  components: LevelComponents,
  c: LevelComponent,
  minW: number,
  maxW: number,
  hotCap: number,
  clipJumps: boolean,
  levelC: number,
): Candidate | null {
  // Follow the head down from the component's top row by row, keeping only the runs that continue the
  // outline of the row above: a neighbour's head or a raised hand touching the side is not this head.
  let wMax = 0;
  let x0 = gw;
  let x1 = -1;
  let yEnd = c.minY;
  let pl = -1;
  let pr = -1;
  walk.jumped = false;
  for (let y = c.minY; y <= c.maxY; y++) {
    walk.lastRow = y;
    const row = y * gw;
    let l = -1;
    let r = -1;
    let rawWidth = 0;
    if (pl < 0) {
      // (rawWidth stays 0 on the first row: nothing to compare with yet.)
      // First row: its longest run.
      let best = 0;
      for (let x = c.minX; x <= c.maxX; x++) {
        if (!components.contains(row + x, c)) continue;
        let e = x;
        while (e + 1 <= c.maxX && components.contains(row + e + 1, c)) e++;
        if (e - x + 1 > best) {
          best = e - x + 1;
          l = x;
          r = e;
        }
        x = e;
      }
    } else {
      // Grow with the outline (a crown widens a little each row), but a sudden jump sideways is a
      // neighbour's head, a hand or the shoulders touching: keep the previous edge on that side.
      const slack = Math.max(2, Math.round((pr - pl + 1) * 0.25));
      let a = -1;
      let b = -1;
      for (let x = pl; x <= pr; x++) {
        if (components.contains(row + x, c)) {
          if (a < 0) a = x;
          b = x;
        }
      }
      if (a >= 0) {
        let runL = a;
        while (runL - 1 >= c.minX && components.contains(row + runL - 1, c)) runL--;
        let runR = b;
        while (runR + 1 <= c.maxX && components.contains(row + runR + 1, c)) runR++;
        const crown = !clipJumps || wMax < minW || y - c.minY < 0.35 * wMax;
        l = crown || runL >= pl - slack ? runL : Math.min(a, pl);
        r = crown || runR <= pr + slack ? runR : Math.max(b, pr);
        rawWidth = runR - runL + 1;
        if (!(wMax < minW || y - c.minY < 0.35 * wMax) && (runL < pl - slack || runR > pr + slack))
          walk.jumped = true;
      }
    }
    const width = l < 0 ? 0 : r - l + 1;
    if (width > maxW) {
      // Too wide for this grid: a larger head is read on a coarser one (the clipped reading may still
      // be narrow enough).
      walk.jumped = true;
      return null;
    }
    const hCur = y - c.minY + 1;
    // A head too small to report ends where the outline suddenly doubles (its shoulders): not a face.
    if (wMax > 0 && wMax < minW && hCur >= wMax && Math.max(rawWidth, width) > 1.8 * (pr - pl + 1)) break;
    if (wMax >= minW) {
      if (hCur >= 0.9 * wMax && width < 0.72 * wMax) break; // neck
      if (hCur >= 0.8 * wMax && rawWidth > 1.35 * wMax) break; // shoulders (or a neighbour at chin level)
      if (hCur > 1.6 * wMax) break; // tall enough: the rest is the body
    }
    if (width === 0) break;
    if (width > wMax) wMax = width;
    if (l < x0) x0 = l;
    if (r > x1) x1 = r;
    pl = l;
    pr = r;
    yEnd = y;
  }
  // Walked to the component's last row: a row added below would be read too.
  if (yEnd === c.maxY) walk.lastRow = c.maxY + 1;
  const y0 = c.minY;
  const y1 = yEnd;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  if (bw < minW || bh < 3) return null;

  const atLeft = x0 === 0;
  const atRight = x1 === gw - 1;
  const atTop = y0 === 0;
  const atBottom = y1 === gh - 1;
  const aspect = bh / bw;
  // A face cut by the top edge is a close one: large in the frame. A "face" cut by the bottom edge has
  // no chin: in a screening view that is the ground, legs or a body, never a face.
  if (atBottom) return null;
  if (atTop && bw * f < 0.25 * gh * f) return null;
  // (Cut by the top edge: at least the eyes-to-chin part must be in view to be a usable face.)
  const aspectLo = atTop ? 0.6 : 0.65;
  const aspectHi = atLeft || atRight ? 2.6 : 2.1;
  const shape = plateau(aspect, aspectLo, atTop ? 0.8 : 0.9, 1.65, aspectHi);
  if (shape === 0) return null;

  // One pass over the head box: the component's pixels (count, mean, SD), hot pixels, each column's
  // top and bottom and each row's extent (for the fill); the warmest 2×2 cell (the peak) at the end.
  const boxArea = bw * bh;
  if (scratch.colTop.length < Math.max(bw, bh)) {
    const n = Math.ceil(Math.max(bw, bh) * 1.25);
    scratch.colTop = new Int32Array(n);
    scratch.colBot = new Int32Array(n);
    scratch.rowLeft = new Int32Array(n);
    scratch.rowRight = new Int32Array(n);
  }
  const { colTop, colBot, rowLeft, rowRight } = scratch;
  colTop.fill(-1, 0, bw);
  colBot.fill(-1, 0, bw);
  let count = 0;
  let sum = 0;
  let sum2 = 0;
  let hot = 0;
  let peak = Number.NEGATIVE_INFINITY;
  for (let y = y0; y <= y1; y++) {
    const row = y * gw;
    let l = -1;
    let r = -1;
    for (let x = x0; x <= x1; x++) {
      const i = row + x;
      const v = grid[i];
      if (v >= hotCap) hot++;
      if (components.contains(i, c)) {
        count++;
        sum += v;
        sum2 += v * v;
        if (l < 0) l = x;
        r = x;
        if (colTop[x - x0] < 0) colTop[x - x0] = y;
        colBot[x - x0] = y;
      }
    }
    rowLeft[y - y0] = l;
    rowRight[y - y0] = r;
  }
  if (hot > boxArea * 0.02) return null;
  // Head, not body: a head's outline is an upright ellipse, already ≈ 0.6–0.9 of its widest row between
  // 10 and 30 % of its height. An outline whose upper part is much narrower than its widest row is a
  // small head on shoulders or a torso (a person seen from behind, head and chest in one box): not a
  // face box. (A face cut by the frame's top edge shows no crown.)
  if (!atTop && bh >= 6) {
    let widest = 0;
    for (let k = 0; k < bh; k++) if (rowLeft[k] >= 0) widest = Math.max(widest, rowRight[k] - rowLeft[k] + 1);
    let upper = 0;
    let rows = 0;
    for (let k = Math.floor(0.1 * bh); k <= Math.floor(0.3 * bh); k++) {
      rows++;
      if (rowLeft[k] >= 0) upper += rowRight[k] - rowLeft[k] + 1;
    }
    const crown = rows > 0 ? upper / rows / widest : 1;
    if (crown < CROWN_SHARE) return null;
    if (
      Number.isFinite(hotCap) &&
      crown < TORSO_CROWN_SHARE &&
      headOnTorso(grid, gw, components, c, y0, bh, hotCap)
    )
      return null;
  }
  // Fill of the outline with its holes closed: glasses, a beard or a mask are cooler than the skin
  // around them but inside the head's outline. A pixel is inside when the component lies on both sides
  // of it in its row and in its column (gaps between fingers are open at one end: not closed).
  let solid = 0;
  for (let y = y0; y <= y1; y++) {
    const l = rowLeft[y - y0];
    if (l < 0) continue;
    const r = rowRight[y - y0];
    for (let x = l; x <= r; x++) if (y >= colTop[x - x0] && y <= colBot[x - x0]) solid++;
  }
  const fill = Math.max(count, solid) / boxArea;
  const atBorder = atLeft || atRight || atTop || atBottom;
  const fillScore = plateau(fill, 0.38, 0.58, atBorder ? 1 : 0.93, atBorder ? 1.01 : 0.985);
  if (fillScore === 0) return null;
  const mean = sum / count;
  const std = Math.sqrt(Math.max(0, sum2 / count - mean * mean));
  if (std < 0.12) return null;
  const texture = Math.min(1, (std - 0.12) / 0.4);

  // Ring on the left, right and top (below is the neck), excluding other pixels of this component.
  const m = Math.max(1, Math.round(bw * 0.2));
  // At most ~600 values (sampled), in a reused buffer.
  const ry0 = Math.max(0, y0 - m);
  const ry1 = Math.min(gh - 1, y0 + Math.round(bh * 0.75));
  const rx0 = Math.max(0, x0 - m);
  const rx1 = Math.min(gw - 1, x1 + m);
  const ringStep = Math.max(1, Math.floor(Math.sqrt(((rx1 - rx0 + 1) * (ry1 - ry0 + 1)) / 400)));
  const ring = floatScratch(
    'ring',
    (Math.floor((ry1 - ry0) / ringStep) + 1) * (Math.floor((rx1 - rx0) / ringStep) + 1),
  );
  let nRing = 0;
  for (let y = ry0; y <= ry1; y += ringStep) {
    const row = y * gw;
    for (let x = rx0; x <= rx1; x += ringStep) {
      if (y >= y0 && x >= x0 && x <= x1) continue;
      const v = grid[row + x];
      if (Number.isFinite(v) && !components.contains(row + x, c)) ring[nRing++] = v;
    }
  }
  let contrast: number;
  if (nRing >= 4) {
    // (The median by selection: the value a sort would put there.)
    contrast = mean - kthSmallest(ring, nRing >> 1, nRing);
  } else {
    // The head fills the frame: nothing around it to compare with.
    contrast = 2.5;
  }
  if (contrast < 1) return null;
  // A faint and flat blob — barely warmer than its surroundings and nearly uniform — is an object (the
  // reference's housing, a panel, a warm wall, clothing): skin stands out from the air around a head, and
  // a face's eyes, nose and hair make it uneven. (Radiometric fields only: they carry the hot-object cap;
  // an 8-bit image's contrast and spread are on an arbitrary scale.)
  if (Number.isFinite(hotCap) && contrast < FAINT_CONTRAST_C && std < FLAT_STD_C) return null;
  const contrastScore = Math.min(1, (contrast - 1) / 3);

  const preScore = 0.3 * shape + 0.2 * fillScore + 0.35 * contrastScore + 0.15 * texture;
  // The warmest 2×2 cell of the box (read only for a candidate that passed every test above).
  for (let y = y0; y < y1; y++)
    for (let x = x0, i = y * gw + x0; x < x1; x++, i++) {
      const cell = (grid[i] + grid[i + 1] + grid[i + gw] + grid[i + gw + 1]) / 4;
      if (cell > peak && cell < hotCap) peak = cell;
    }
  return {
    x0,
    y0,
    x1,
    y1,
    preScore,
    score: preScore,
    finding: null,
    box: [0, 0, 0, 0],
    peak,
    levelC,
    cell: f,
    features: { aspect, fill, contrast, std, mean, shape, fillScore, contrastScore, texture },
  };
}
