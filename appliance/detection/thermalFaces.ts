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
import type { Box, Face } from '../types.ts';
import { type CanthusFinding, locateCanthi } from './thermalCanthi.ts';
import { type LevelComponent, type LevelComponents, levelComponentsFor } from './thermalComponents.ts';
import { type FaceEvidence, faceEvidence } from './thermalStructure.ts';

/** Tuning aid (bench/thermalFaces.ts): receives every scored candidate when set. */
export const thermalFaceDebug: {
  sink: ((c: { box: Box; preScore: number; score: number; features: Record<string, number> }) => void) | null;
} = { sink: null };

export interface ThermalFaceOptions {
  /** Smallest face width to look for, in frame pixels (default 12). Larger values make detection faster. */
  minFacePx?: number;
  /** Ambient temperature when known (°C): nothing within 2 °C of it is taken for skin. */
  ambientC?: number;
  /** Regions that are never faces, e.g. the blackbody. */
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
const GRID_FACE_CELLS = 16;
/** A radiometric scene whose robust top is colder than this holds no uncovered skin. */
const MIN_SKIN_TOP_C = 27;

interface Candidate {
  /** Working-grid box, inclusive corners. */
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
  mask: new Uint8Array(0),
  colTop: new Int32Array(0),
  colBot: new Int32Array(0),
  ring: new Float32Array(0),
  histogram: new Uint32Array(4096),
};

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
  grid.fill(0);
  // Row sums first (sequential reads), then one division per cell.
  const counts = new Uint16Array(gw);
  for (let y = 0; y < gh; y++) {
    const out = y * gw;
    counts.fill(0);
    for (let dy = 0; dy < f; dy++) {
      const row = (y * f + dy) * width;
      for (let x = 0; x < gw; x++) {
        let sum = 0;
        let n = 0;
        const start = row + x * f;
        for (let dx = 0; dx < f; dx++) {
          const v = field[start + dx];
          if (v === v) {
            sum += v;
            n++;
          }
        }
        grid[out + x] += sum;
        counts[x] += n;
      }
    }
    for (let x = 0; x < gw; x++) grid[out + x] = counts[x] > 0 ? grid[out + x] / counts[x] : Number.NaN;
  }
  return { grid, gw, gh };
}

/**
 * Robust top of the skin-possible values (−60 < v < hotCap): the 99.9th percentile, from a 4096-bin
 * histogram between the extremes (a sort of every pixel costs more than the rest of the detector).
 * Returns NaN when fewer than 16 values qualify.
 */
function robustTop(grid: Float32Array, hotCap: number): number {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  let n = 0;
  for (let i = 0; i < grid.length; i++) {
    const v = grid[i];
    if (v < hotCap && v > -60) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      n++;
    }
  }
  if (n < 16) return Number.NaN;
  if (hi - lo < 1e-6) return hi;
  const hist = scratch.histogram;
  hist.fill(0);
  const bins = hist.length;
  const scale = (bins - 1) / (hi - lo);
  for (let i = 0; i < grid.length; i++) {
    const v = grid[i];
    if (v < hotCap && v > -60) hist[((v - lo) * scale) | 0]++;
  }
  // The value at rank floor(0.999·(n − 1)) from the bottom, as the sorted sample gave before.
  const rank = Math.floor(0.999 * (n - 1));
  let acc = 0;
  for (let b = 0; b < bins; b++) {
    acc += hist[b];
    if (acc > rank) return lo + (b + 0.5) / scale;
  }
  return hi;
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
  const f = workGridFactor(minFacePx);
  const { grid: src, gw, gh } = downsample(field, width, height, f);
  const grid = kind.absolute ? src : smooth3(src, gw, gh);
  // Excluded regions and impossible readings never take part.
  for (const [ex, ey, ew, eh] of opts.exclude ?? []) {
    const xa = Math.max(0, Math.floor(ex / f));
    const xb = Math.min(gw - 1, Math.ceil((ex + ew) / f));
    const ya = Math.max(0, Math.floor(ey / f));
    const yb = Math.min(gh - 1, Math.ceil((ey + eh) / f));
    for (let y = ya; y <= yb; y++) grid.fill(Number.NaN, y * gw + xa, y * gw + xb + 1);
  }
  const hotCap = kind.absolute ? HOT_OBJECT_C : Number.POSITIVE_INFINITY;

  const top = robustTop(grid, hotCap);
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

  const minW = Math.max(3, (minFacePx / f) * 0.8);
  const components = levelComponentsFor(gw, gh);
  components.assign(grid, highest, LEVEL_STEP, levels, hotCap);
  const candidates: Candidate[] = [];
  components.sweep((c) => {
    if (c.maxX - c.minX + 1 < minW || c.maxY - c.minY + 1 < minW * 0.5 || c.area < minW * minW * 0.3) return;
    // Two readings of the outline: as it is, and with sideways jumps (a touching neighbour) cut off.
    const whole = headCandidate(grid, gw, gh, f, components, c, minW, hotCap, false);
    const clipped = headCandidate(grid, gw, gh, f, components, c, minW, hotCap, true);
    if (whole) candidates.push(whole);
    if (clipped && !(whole && clipped.x0 === whole.x0 && clipped.x1 === whole.x1 && clipped.y1 === whole.y1))
      candidates.push(clipped);
  });

  // Faces are the warmest uncovered skin in the scene: clothes, bodies and backgrounds that pass the
  // shape tests are several degrees cooler than the faces above them.
  let plausible = candidates.filter((c) => c.preScore >= FACE_SCORE_THRESHOLD - 0.15);
  if (plausible.length === 0) return [];
  const refPeak = plausible.reduce((m, c) => Math.max(m, c.peak), Number.NEGATIVE_INFINITY);
  plausible = plausible.filter((c) => c.peak >= refPeak - PEAK_MARGIN);
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
  const evidenceCache = new Map<string, { finding: CanthusFinding | null; ev: FaceEvidence }>();

  // Eye evidence at full resolution, then the final score.
  for (const c of plausible) {
    const x = c.x0 * f;
    const y = c.y0 * f;
    const w = Math.min(width - x, (c.x1 - c.x0 + 1) * f);
    const h = Math.min(height - y, (c.y1 - c.y0 + 1) * f);
    c.box = [x, y, w, h];
    const key = c.box.join(',');
    let cached = evidenceCache.get(key);
    if (!cached) {
      const finding = w >= 8 ? locateCanthi(field, width, height, c.box) : null;
      cached = {
        finding,
        ev: faceEvidence(field, width, height, c.box, finding, kind.absolute, kind.noiseFloor),
      };
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
    const hit = kept.findIndex((k) => overlapOfSmaller(c, k) > 0.35);
    if (hit < 0) kept.push(c);
    else {
      // A part of a face (forehead, one cheek) can outscore the whole face; the whole face is the one
      // with the eye pair in its eye band: it replaces a smaller candidate inside it that has none.
      const k = kept[hit];
      const area = (a: Candidate) => (a.x1 - a.x0 + 1) * (a.y1 - a.y0 + 1);
      if (
        area(c) > 1.5 * area(k) &&
        overlapOfSmaller(c, k) > 0.8 &&
        c.features.eyes >= 0.5 &&
        k.features.eyes < 0.3 &&
        !kept.some((o, i) => i !== hit && overlapOfSmaller(c, o) > 0.35)
      )
        kept[hit] = c;
    }
  }
  // A head sits on its body: a face-like blob right below a face (neck, chest, a V-neck) is not a face,
  // unless it is clearly larger (a nearer person in front).
  const faces = kept.filter(
    (g) =>
      !kept.some((fc) => {
        if (fc === g) return false;
        const fh = fc.y1 - fc.y0 + 1;
        const gcx = (g.x0 + g.x1) / 2;
        return (
          gcx >= fc.x0 &&
          gcx <= fc.x1 &&
          g.y0 >= fc.y0 + 0.6 * fh &&
          g.y0 <= fc.y1 + 0.8 * fh &&
          g.x1 - g.x0 <= 1.2 * (fc.x1 - fc.x0)
        );
      }),
  );

  return faces.map((c) => toFace(c));
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

/** Take the head off the top of a component and score its shape, contrast and texture. */
function headCandidate(
  grid: Float32Array,
  gw: number,
  gh: number,
  f: number,
  components: LevelComponents,
  c: LevelComponent,
  minW: number,
  hotCap: number,
  clipJumps: boolean,
): Candidate | null {
  // Follow the head down from the component's top row by row, keeping only the runs that continue the
  // outline of the row above: a neighbour's head or a raised hand touching the side is not this head.
  let wMax = 0;
  let x0 = gw;
  let x1 = -1;
  let yEnd = c.minY;
  let pl = -1;
  let pr = -1;
  for (let y = c.minY; y <= c.maxY; y++) {
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
      }
    }
    const width = l < 0 ? 0 : r - l + 1;
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

  // The component's pixels inside the head box, once (the tests below read them several times).
  const boxArea = bw * bh;
  if (scratch.mask.length < boxArea) scratch.mask = new Uint8Array(Math.ceil(boxArea * 1.25));
  if (scratch.colTop.length < bw) {
    scratch.colTop = new Int32Array(Math.ceil(bw * 1.25));
    scratch.colBot = new Int32Array(Math.ceil(bw * 1.25));
  }
  const mask = scratch.mask;
  let count = 0;
  let sum = 0;
  let sum2 = 0;
  let hot = 0;
  for (let y = y0; y <= y1; y++) {
    const row = y * gw;
    const mrow = (y - y0) * bw - x0;
    for (let x = x0; x <= x1; x++) {
      const v = grid[row + x];
      if (v >= hotCap) hot++;
      if (components.contains(row + x, c)) {
        mask[mrow + x] = 1;
        count++;
        sum += v;
        sum2 += v * v;
      } else mask[mrow + x] = 0;
    }
  }
  if (hot > boxArea * 0.02) return null;
  // Fill of the outline with its holes closed: glasses, a beard or a mask are cooler than the skin
  // around them but inside the head's outline. A pixel is inside when the component lies on both sides
  // of it in its row and in its column (gaps between fingers are open at one end: not closed).
  const colTop = scratch.colTop;
  const colBot = scratch.colBot;
  colTop.fill(-1, 0, bw);
  colBot.fill(-1, 0, bw);
  for (let y = y0; y <= y1; y++)
    for (let x = x0; x <= x1; x++)
      if (mask[(y - y0) * bw + x - x0]) {
        if (colTop[x - x0] < 0) colTop[x - x0] = y;
        colBot[x - x0] = y;
      }
  let solid = 0;
  for (let y = y0; y <= y1; y++) {
    let l = -1;
    let r = -1;
    for (let x = x0; x <= x1; x++)
      if (mask[(y - y0) * bw + x - x0]) {
        if (l < 0) l = x;
        r = x;
      }
    for (let x = l; l >= 0 && x <= r; x++) if (y >= colTop[x - x0] && y <= colBot[x - x0]) solid++;
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
      if (v === v && !components.contains(row + x, c)) ring[nRing++] = v;
    }
  }
  let contrast: number;
  if (nRing >= 4) {
    const sortedRing = ring.subarray(0, nRing).sort();
    contrast = mean - sortedRing[nRing >> 1];
  } else {
    // The head fills the frame: nothing around it to compare with.
    contrast = 2.5;
  }
  if (contrast < 1) return null;
  const contrastScore = Math.min(1, (contrast - 1) / 3);

  let peak = Number.NEGATIVE_INFINITY;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = y * gw + x;
      const v = (grid[i] + grid[i + 1] + grid[i + gw] + grid[i + gw + 1]) / 4;
      if (v > peak && v < hotCap) peak = v;
    }
  }
  const preScore = 0.3 * shape + 0.2 * fillScore + 0.35 * contrastScore + 0.15 * texture;
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
    features: { aspect, fill, contrast, std, mean, shape, fillScore, contrastScore, texture },
  };
}
