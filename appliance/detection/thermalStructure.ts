/**
 * Facial-structure evidence for a thermal face candidate: what a face has and a warm blob of the same
 * shape (a hand, a cup, clothes, a panel, sun-warmed pavement) does not.
 *
 * - Eye pair: the two inner canthi are the warmest small spots of a bare face, one each side of the
 *   midline, at the same height, about a fifth of the face width apart, and warm relative to the rest of
 *   the face (near its top percentiles), not just the warmest cell of a noisy band.
 * - Glasses: both eye regions clearly colder than forehead and cheeks, with a warmer nose bridge between.
 * - Mirror symmetry: after each row's mean is taken out, the pattern of a frontal face is left/right
 *   symmetric (eyes, nose, cheeks falling off to the sides); textures and gradients are not.
 * - Chin: below a face the warm area narrows to the neck or cools to clothing; pavement, walls and
 *   bodies go on as warm and as wide.
 *
 * All in field units (°C, or pseudo-°C for 8-bit images), on the full-resolution field.
 */
import { selectKth } from '../../calibration/selection.ts';
import type { Box } from '../core/types.ts';
import { type CanthusFinding, type CanthusSpot, glassesBandOffsets } from './thermalCanthi.ts';

export interface FaceEvidence {
  /** 0…1: quality of the canthus pair. */
  eyes: number;
  /** 0…1: glasses pattern (cold lenses, warm bridge). */
  glasses: number;
  /** Mirror correlation of the row-detrended pattern, −1…1. */
  symmetry: number;
  /** 0…1: the warm area ends (narrows or cools) below the box; 0.5 when the box reaches the bottom. */
  chin: number;
  /** Combined 0…1. */
  score: number;
  /** The contrast-tested eye pair. */
  pair: EyePair;
  /** Required eye evidence missing, or the candidate is flat: not a face whatever the rest says. */
  veto: boolean;
  /** 10–90 % range of the interior (field units). */
  spread: number;
}

/**
 * About this many values are sampled (on a regular grid) from a region for a median or a noise
 * estimate: a median of a few hundred values of skin is as good as one of every pixel, and the evidence
 * takes some fifteen of them per candidate.
 */
export const REGION_SAMPLES = 200;

/**
 * From this width a radiometric face must show its canthus pair (or cold glasses); narrower faces may
 * show one canthus standing out of the noise. Low-resolution cameras with soft optics (Lepton 3.5
 * kiosks) resolve only one canthus clearly on frontal faces of 32–47 px.
 */
const PAIR_REQUIRED_PX = 48;
/** Least mirror symmetry of a 32–47 px radiometric face that shows one canthus but no pair. */
const SINGLE_CANTHUS_SYMMETRY = 0.3;

/** Least 10–90 % range of a radiometric face's interior (°C): anything flatter is an object. */
const FLAT_SPREAD_C = 0.6;

/**
 * Scratch buffers for sampled values, taken in turn: a sample is read before the fourth next one is
 * taken (at most two are in use at once), so the evidence allocates nothing per candidate.
 */
const samplePool = [0, 1, 2, 3].map(() => new Float32Array(1024));
let samplePoolNext = 0;

export function sampleBuffer(n: number): Float32Array {
  const k = samplePoolNext;
  samplePoolNext = (k + 1) % samplePool.length;
  if (samplePool[k].length < n) samplePool[k] = new Float32Array(Math.ceil(n * 1.25));
  return samplePool[k].subarray(0, n);
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

let cellMeans = new Float32Array(320);
let cellXa = new Int32Array(16);
let cellXb = new Int32Array(16);

/** Cell means of the box on an nx × ny grid (NaN cells where nothing finite), in a reused buffer. */
function cellGrid(field: Float32Array, width: number, height: number, box: Box, nx: number, ny: number) {
  const [bx, by, bw, bh] = box;
  if (cellMeans.length < nx * ny) cellMeans = new Float32Array(nx * ny);
  if (cellXa.length < nx) {
    cellXa = new Int32Array(nx);
    cellXb = new Int32Array(nx);
  }
  const out = cellMeans;
  // A cell's mean from at most ~4×4 of its pixels: large faces have cells of dozens of pixels.
  const stepX = Math.max(1, Math.floor(bw / nx / 4));
  const stepY = Math.max(1, Math.floor(bh / ny / 4));
  for (let i = 0; i < nx; i++) {
    const xa = Math.max(0, Math.floor(bx + (i * bw) / nx));
    cellXa[i] = xa;
    cellXb[i] = Math.min(width, Math.max(xa + 1, Math.floor(bx + ((i + 1) * bw) / nx)));
  }
  for (let j = 0; j < ny; j++) {
    const ya = Math.max(0, Math.floor(by + (j * bh) / ny));
    const yb = Math.min(height, Math.max(ya + 1, Math.floor(by + ((j + 1) * bh) / ny)));
    for (let i = 0; i < nx; i++) {
      const xa = cellXa[i];
      const xb = cellXb[i];
      let s = 0;
      let n = 0;
      for (let y = ya; y < yb; y += stepY) {
        const row = y * width;
        for (let x = xa; x < xb; x += stepX) {
          const v = field[row + x];
          if (Number.isFinite(v)) {
            s += v;
            n++;
          }
        }
      }
      out[j * nx + i] = n ? s / n : Number.NaN;
    }
  }
  return out;
}

/** Left/right mirror correlation of the box after removing each row's mean. */
export function mirrorSymmetry(field: Float32Array, width: number, height: number, box: Box): number {
  const nx = Math.max(4, Math.min(16, Math.round(box[2] / 2)) & ~1);
  const ny = Math.max(4, Math.min(20, Math.round(box[3] / 2)));
  const g = cellGrid(field, width, height, box, nx, ny);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let j = 0; j < ny; j++) {
    let m = 0;
    let n = 0;
    for (let i = 0; i < nx; i++) {
      const v = g[j * nx + i];
      if (Number.isFinite(v)) {
        m += v;
        n++;
      }
    }
    if (n < nx) continue;
    m /= n;
    for (let i = 0; i < nx / 2; i++) {
      const a = g[j * nx + i] - m;
      const b = g[j * nx + nx - 1 - i] - m;
      sab += a * b;
      saa += a * a;
      sbb += b * b;
    }
  }
  if (saa <= 1e-9 || sbb <= 1e-9) return 0;
  return sab / Math.sqrt(saa * sbb);
}

/**
 * Value at fraction p of the values' ascending order (the element a sort would put at floor(p·(n−1))),
 * by selection: O(n) instead of a sort; reorders `values`, which stay the same multiset, so several
 * quantiles of one array may be taken in turn.
 */
export function quantile(values: Float32Array, p: number): number {
  const n = values.length;
  return kthSmallest(values, Math.min(n - 1, Math.max(0, Math.floor(p * (n - 1)))), n);
}

const kthCounts = new Int32Array(1024);
let kthBuckets = new Uint16Array(1024);
let kthScratch = new Float32Array(1024);

/**
 * The k-th smallest (0-based) of `values[0..n)` (finite values): the value a full sort would put at k,
 * as selectKth gives it, a little faster on the evidence's samples (a few hundred values, some twenty
 * medians per candidate: the detector measured ≈ 3 % faster at 640×512 than with selectKth), more so
 * when the caller passes the extremes it met while sampling. The values are spread over ≈ n/4 equal
 * buckets between their extremes; only the bucket that holds rank k is kept (bucket order is value
 * order), and bucketed again until a few dozen values are left for selectKth. `values` keeps its
 * multiset (it may be reordered), so several order statistics of one sample may be taken in turn.
 */
export function kthSmallest(
  values: Float32Array,
  k: number,
  n: number,
  /** The least and the greatest of the values, when the caller has them (one pass less). */
  least = Number.NaN,
  greatest = Number.NaN,
): number {
  if (n <= 32) return selectKth(values, k, n);
  let lo = least;
  let hi = greatest;
  if (Number.isNaN(lo) || Number.isNaN(hi)) {
    lo = values[0];
    hi = lo;
    for (let i = 1; i < n; i++) {
      const v = values[i];
      if (v < lo) lo = v;
      else if (v > hi) hi = v;
    }
  }
  if (kthBuckets.length < n) {
    kthBuckets = new Uint16Array(n * 2);
    kthScratch = new Float32Array(n * 2);
  }
  const counts = kthCounts;
  const ids = kthBuckets;
  const kept = kthScratch;
  let src = values;
  for (;;) {
    if (!(hi > lo)) return lo;
    if (n <= 32) return selectKth(src, k, n);
    const nb = Math.min(counts.length, n >> 2);
    const last = nb - 1;
    const scale = nb / (hi - lo);
    counts.fill(0, 0, nb);
    for (let i = 0; i < n; i++) {
      let b = ((src[i] - lo) * scale) | 0;
      if (b > last) b = last;
      ids[i] = b;
      counts[b]++;
    }
    let before = 0;
    let b = 0;
    while (before + counts[b] <= k) before += counts[b++];
    const m = counts[b];
    // (Never all in one bucket: the extremes fall in the first and the last.)
    if (m === n) return selectKth(src, k, n);
    lo = Number.POSITIVE_INFINITY;
    hi = Number.NEGATIVE_INFINITY;
    let j = 0;
    for (let i = 0; i < n; i++)
      if (ids[i] === b) {
        const v = src[i];
        kept[j++] = v;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    src = kept;
    n = m;
    k -= before;
  }
}

/** Finite field values of a rectangle (clipped), sampled to about REGION_SAMPLES on a grid (unordered: `quantile`). */
function sampleBox(
  field: Float32Array,
  width: number,
  height: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): Float32Array {
  const xa = Math.max(0, Math.round(x0));
  const xb = Math.min(width - 1, Math.round(x1));
  const ya = Math.max(0, Math.round(y0));
  const yb = Math.min(height - 1, Math.round(y1));
  if (xb < xa || yb < ya) return new Float32Array(0);
  const step = Math.max(1, Math.floor(Math.sqrt(((xb - xa + 1) * (yb - ya + 1)) / REGION_SAMPLES)));
  const out = sampleBuffer(Math.ceil((xb - xa + 1) / step) * Math.ceil((yb - ya + 1) / step));
  let n = 0;
  for (let y = ya; y <= yb; y += step)
    for (let x = xa; x <= xb; x += step) {
      const v = field[y * width + x];
      if (Number.isFinite(v)) out[n++] = v;
    }
  return out.subarray(0, n);
}

/**
 * Medians of sampled rectangles kept while one candidate is scored (the detector calls `begin(field)`
 * and `end()` around its evidence): the canthus search's glasses placements and the evidence's glasses
 * test read the same rectangles (forehead, eye regions and cheeks at each placement). Keyed by the
 * rectangle after rounding and clipping, so both read the same samples; both middle order statistics
 * are kept (the canthus search takes the upper median, the evidence the lower one).
 */
export const regionMedianMemo = {
  field: null as Float32Array | null,
  count: 0,
  keys: new Float64Array(64),
  lower: new Float64Array(64),
  upper: new Float64Array(64),
  begin(field: Float32Array): void {
    this.field = field;
    this.count = 0;
  },
  end(): void {
    this.field = null;
  },
};

/**
 * Median of the finite values of the rectangle [xa, xb] × [ya, yb] (already rounded and clipped),
 * sampled on a grid of about REGION_SAMPLES points: the upper (rank n/2) or lower (rank (n − 1)/2)
 * median; NaN when nothing is finite.
 */
export function rectMedian(
  field: Float32Array,
  width: number,
  xa: number,
  xb: number,
  ya: number,
  yb: number,
  upper: boolean,
): number {
  const memo = regionMedianMemo;
  const memoised = memo.field === field;
  const key = memoised ? ((xa * 4096 + xb) * 4096 + ya) * 4096 + yb : 0;
  if (memoised)
    for (let e = 0; e < memo.count; e++)
      if (memo.keys[e] === key) return upper ? memo.upper[e] : memo.lower[e];
  // Large regions are sampled on a grid: a median of a few hundred values is as good and much faster.
  const step = Math.max(1, Math.floor(Math.sqrt(((xb - xa + 1) * (yb - ya + 1)) / REGION_SAMPLES)));
  const values = sampleBuffer(Math.ceil((xb - xa + 1) / step) * Math.ceil((yb - ya + 1) / step));
  let n = 0;
  let least = Number.POSITIVE_INFINITY;
  let greatest = Number.NEGATIVE_INFINITY;
  for (let y = ya; y <= yb; y += step) {
    const row = y * width;
    for (let x = xa; x <= xb; x += step) {
      const v = field[row + x];
      if (Number.isFinite(v)) {
        values[n++] = v;
        if (v < least) least = v;
        if (v > greatest) greatest = v;
      }
    }
  }
  let hi = Number.NaN;
  let lo = Number.NaN;
  if (n > 0 && (upper || memoised || (n & 1) === 1)) {
    hi = kthSmallest(values, n >> 1, n, least, greatest);
    lo = hi;
    if ((n & 1) === 0) {
      // The lower median: the upper one again when it is repeated below, else the largest value under it.
      let below = 0;
      let largest = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v < hi) {
          below++;
          if (v > largest) largest = v;
        }
      }
      if (below >= n >> 1) lo = largest;
    }
  } else if (n > 0) lo = kthSmallest(values, (n - 1) >> 1, n, least, greatest);
  if (memoised && memo.count < memo.keys.length) {
    memo.keys[memo.count] = key;
    memo.lower[memo.count] = lo;
    memo.upper[memo.count++] = hi;
  }
  return upper ? hi : lo;
}

/**
 * Pixel noise of the box interior, estimated from the candidate itself: the median absolute deviation of
 * a high-pass residual (each pixel minus the mean of its 4 neighbours), scaled to a pixel SD. Edges and
 * features (eyes, nose) are a minority of the pixels and do not move the median. Never below `floor`
 * (the sensor's NETD: a residual of 0 on a smooth or quantised surface is not a noiseless sensor).
 */
export function localNoise(
  field: Float32Array,
  width: number,
  height: number,
  box: Box,
  floor: number,
): number {
  const [bx, by, bw, bh] = box;
  const xa = Math.max(1, Math.round(bx + bw * 0.15));
  const xb = Math.min(width - 2, Math.round(bx + bw * 0.85));
  const ya = Math.max(1, Math.round(by + bh * 0.15));
  const yb = Math.min(height - 2, Math.round(by + bh * 0.85));
  if (xb < xa || yb < ya) return floor;
  const step = Math.max(1, Math.floor(Math.sqrt(((xb - xa + 1) * (yb - ya + 1)) / REGION_SAMPLES)));
  const res = sampleBuffer(Math.ceil((xb - xa + 1) / step) * Math.ceil((yb - ya + 1) / step));
  let n = 0;
  for (let y = ya; y <= yb; y += step)
    for (let x = xa; x <= xb; x += step) {
      const i = y * width + x;
      const r = field[i] - (field[i - 1] + field[i + 1] + field[i - width] + field[i + width]) / 4;
      if (Number.isFinite(r)) res[n++] = r;
    }
  if (n < 8) return floor;
  const used = res.subarray(0, n);
  const med = kthSmallest(used, n >> 1, n);
  for (let k = 0; k < n; k++) used[k] = Math.abs(used[k] - med);
  const mad = kthSmallest(used, n >> 1, n);
  // For white noise of SD σ the residual has SD σ·√(1 + 1/4); MAD·1.4826 estimates an SD.
  return Math.max(floor, (1.4826 * mad) / Math.sqrt(1.25));
}

/** Mean of the cell × cell block with top-left (x0, y0); NaN when not fully inside or not all finite. */
function cellMean(field: Float32Array, width: number, height: number, x0: number, y0: number, cell: number) {
  const xa = Math.round(x0);
  const ya = Math.round(y0);
  if (xa < 0 || ya < 0 || xa + cell > width || ya + cell > height) return Number.NaN;
  let s = 0;
  for (let y = ya; y < ya + cell; y++) for (let x = xa; x < xa + cell; x++) s += field[y * width + x];
  return s / (cell * cell);
}

/**
 * How far a canthus spot is a local peak in the vertical: its value minus the warmer of the cells a
 * little above and below it (eyelids, brow, the side of the nose are cooler). A ridge (a stripe, a fold,
 * the warm top edge of a panel running on into the forehead band) is as warm above or below: ≈ 0.
 */
function verticalPeak(
  field: Float32Array,
  width: number,
  height: number,
  spot: CanthusSpot,
  cell: number,
  d: number,
): number {
  const c = (cell - 1) / 2;
  const x0 = spot.point.x - c;
  const y0 = spot.point.y - c;
  const above = cellMean(field, width, height, x0, y0 - d, cell);
  const below = cellMean(field, width, height, x0, y0 + d, cell);
  const ref = Math.max(
    Number.isFinite(above) ? above : -Infinity,
    Number.isFinite(below) ? below : -Infinity,
  );
  return Number.isFinite(ref) ? spot.value - ref : 0;
}

/** What the eye-pair test measured (for tuning and the detector's gate). */
export interface EyePair {
  /** 0…1 geometry of the pair: level, symmetric about the midline, plausible separation, matched. */
  geometry: number;
  /** Weaker canthus minus the median of the eye band (field units); 0 without a pair. */
  contrast: number;
  /** Stronger canthus (or the only one) minus the median of the eye band; 0 without any. */
  single: number;
  /** Least vertical peak of the spots used (value minus the warmer cell above/below). */
  peak: number;
  /** Pixel noise of the candidate (field units, ≥ the floor). */
  noise: number;
  /** Contrast needed: max(absolute minimum, 3 × noise, a share of the face's own 10–90 % range). */
  needed: number;
  /** 0…1: the pair passes geometry and contrast. */
  score: number;
}

/**
 * The eye pair: both inner canthi stand out from the eye band around them by clearly more than the noise,
 * at the same height, symmetric about the midline, a plausible distance apart. A smooth or uniform warm
 * object (a panel, a cup, the blackbody, a fist, clothing) has warmest cells, but no contrasted,
 * symmetric pair: its warmest cells are noise maxima, a ridge on the midline or at the edges.
 * `rangeShare` > 0 makes the test relative (8-bit images, where a pseudo-degree means nothing absolute).
 */
export function eyePair(
  field: Float32Array,
  width: number,
  height: number,
  box: Box,
  finding: CanthusFinding | null,
  opts: { minContrast: number; noiseFloor: number; rangeShare: number; peakNoise: number; spread: number },
): EyePair {
  const [bx, , bw, bh] = box;
  const noise = localNoise(field, width, height, box, opts.noiseFloor);
  const r = finding?.rightCanthus ?? null;
  const l = finding?.leftCanthus ?? null;
  const none: EyePair = {
    geometry: 0,
    contrast: 0,
    single: 0,
    peak: 0,
    noise,
    needed: Number.POSITIVE_INFINITY,
    score: 0,
  };
  const spots = [r, l].filter((s) => s !== null);
  if (spots.length === 0) return none;
  // The eye band around the spots, across the face (eyes, bridge, temples): the canthi's surroundings.
  const yTop = Math.min(...spots.map((s) => s.point.y)) - bh * 0.1;
  const yBot = Math.max(...spots.map((s) => s.point.y)) + bh * 0.1;
  const band = sampleBox(field, width, height, bx + bw * 0.1, yTop, bx + bw * 0.9, yBot);
  if (band.length < 8) return none;
  const bandMed = quantile(band, 0.5);
  let needed = Math.max(opts.minContrast, 3 * noise);
  if (opts.rangeShare > 0) needed = Math.max(needed, opts.rangeShare * opts.spread);
  const cell = bw >= 48 ? 3 : 2;
  const d = Math.max(cell + 1, Math.round(bh * 0.08));
  const strongest = spots.reduce((a, b) => (b.value > a.value ? b : a));
  const single = strongest.value - bandMed;
  if (!r || !l)
    return { ...none, single, needed, peak: verticalPeak(field, width, height, strongest, cell, d) };
  const peak = Math.min(
    verticalPeak(field, width, height, r, cell, d),
    verticalPeak(field, width, height, l, cell, d),
  );
  const cx = bx + bw / 2;
  const sep = (l.point.x - r.point.x) / bw;
  const mid = Math.abs((l.point.x + r.point.x) / 2 - cx) / bw;
  const dy = Math.abs(l.point.y - r.point.y) / bh;
  const sepScore =
    sep < 0.09 ? 0 : sep < 0.12 ? (sep - 0.09) / 0.03 : sep <= 0.5 ? 1 : clamp01((0.58 - sep) / 0.08);
  const midScore = clamp01((0.22 - mid) / 0.1);
  const levelScore = clamp01((0.12 - dy) / 0.06);
  const contrast = Math.min(r.value, l.value) - bandMed;
  const matchScore = clamp01(1.5 - Math.abs(r.value - l.value) / Math.max(2 * noise, contrast));
  const geometry = sepScore * midScore * levelScore * matchScore;
  const contrastScore = clamp01((contrast - needed) / (0.5 * needed) + 0.5);
  const peakScore = opts.peakNoise > 0 ? clamp01(peak / (opts.peakNoise * noise) - 0.5) : 1;
  return {
    geometry,
    contrast,
    single,
    peak,
    noise,
    needed,
    score: geometry * Math.min(contrastScore, peakScore),
  };
}

/** The interior's 10–90 % range: a face's nose, canthi, cheeks and hairline spread it over degrees. */
export function interiorSpread(field: Float32Array, width: number, height: number, box: Box): number {
  const [bx, by, bw, bh] = box;
  const inner = sampleBox(field, width, height, bx + bw * 0.12, by + bh * 0.1, bx + bw * 0.88, by + bh * 0.9);
  return inner.length >= 8 ? quantile(inner, 0.9) - quantile(inner, 0.1) : 0;
}

/**
 * Nor is a face flat: a uniform or gently graded object (a cup, the blackbody, a panel, a fist) spans
 * little more than its noise. A flat candidate is vetoed whatever else it shows.
 */
export function isFlat(spread: number, radiometric: boolean, noiseFloor: number): boolean {
  return spread < (radiometric ? FLAT_SPREAD_C : 4 * noiseFloor);
}

/** The evidence of a flat candidate (isFlat): vetoed; nothing else was measured. */
export function flatEvidence(spread: number): FaceEvidence {
  return {
    eyes: 0,
    glasses: 0,
    symmetry: Number.NaN,
    chin: Number.NaN,
    score: 0,
    pair: {
      geometry: 0,
      contrast: 0,
      single: 0,
      peak: 0,
      noise: Number.NaN,
      needed: Number.POSITIVE_INFINITY,
      score: 0,
    },
    veto: true,
    spread,
  };
}

/**
 * Evidence that the box holds a face. `finding` is locateCanthi's result for the same box. `spread` may
 * be given when already measured (interiorSpread). With `complete` false, the symmetry and the chin
 * (NaN then) are not measured for a candidate the eye evidence has already vetoed: its score is 0
 * whatever they are (speed: the detector's default; its tuning aid wants them all).
 */
export function faceEvidence(
  field: Float32Array,
  width: number,
  height: number,
  box: Box,
  finding: CanthusFinding | null,
  radiometric = true,
  noiseFloor = radiometric ? 0.05 : 0.1,
  spread = interiorSpread(field, width, height, box),
  complete = true,
): FaceEvidence {
  const [bx, by, bw, bh] = box;
  const pair = eyePair(field, width, height, box, finding, {
    spread,
    minContrast: radiometric ? 0.3 : 2 * noiseFloor,
    noiseFloor,
    rangeShare: radiometric ? 0 : 0.1,
    peakNoise: radiometric ? 2 : 0,
  });

  // Eye pair (contrast-tested).
  const eyes = pair.score;

  // Glasses: cold lenses over both eyes (the warmer eye region still clearly colder than the warmer of
  // forehead and cheeks), the bridge between them warmer. "Clearly" is relative to the candidate's noise;
  // warm ambients make lenses only 1.5–2 °C colder than skin.
  // The eyes sit at 0.4–0.65 of the box height depending on how much hair it holds, lower in a box cut
  // short by the glasses: several placements (thermalCanthi.ts).
  let glasses = 0;
  const med = (x0: number, y0: number, x1: number, y1: number) => {
    // (As sampleBox clips, and its quantile 0.5: the lower median.)
    const xa = Math.max(0, Math.round(bx + bw * x0));
    const xb = Math.min(width - 1, Math.round(bx + bw * x1));
    const ya = Math.max(0, Math.round(by + bh * y0));
    const yb = Math.min(height - 1, Math.round(by + bh * y1));
    return xb < xa || yb < ya ? Number.NaN : rectMedian(field, width, xa, xb, ya, yb, false);
  };
  const forehead = bw >= 12 && eyes < 0.5 ? med(0.3, 0.08, 0.7, 0.22) : Number.NaN;
  // (8-bit images keep the two usual placements: on their arbitrary scale a cold band lower in a box —
  // a radiator's fin, a panel's edge — passed for glasses.)
  const placements = radiometric ? glassesBandOffsets(bw, bh) : [0, 0.1];
  for (const o of bw >= 12 && eyes < 0.5 ? placements : []) {
    const eyeRegion = Math.max(med(0.16, 0.32 + o, 0.4, 0.48 + o), med(0.6, 0.32 + o, 0.84, 0.48 + o));
    const cheeks = med(0.18, 0.58 + o, 0.82, 0.72 + o);
    const ref = Math.max(
      Number.isFinite(forehead) ? forehead : -Infinity,
      Number.isFinite(cheeks) ? cheeks : -Infinity,
    );
    const drop = ref - eyeRegion;
    const need = Math.max(1, 5 * pair.noise);
    if (!(drop > 0.5 * need)) continue;
    const bridgeV = med(0.45, 0.34 + o, 0.55, 0.46 + o);
    const bridgeWarmer = Number.isFinite(bridgeV)
      ? clamp01((bridgeV - eyeRegion) / Math.max(0.4, 3 * pair.noise))
      : 0.5;
    // Low in a box cut short (the cheeks lie below it): cold between warm skin on both sides, with a
    // warmer bridge — a panel's cold lower edge is not glasses.
    if (
      o > 0.25 &&
      !(forehead - eyeRegion > 0.5 * need && cheeks - eyeRegion > 0.5 * need && bridgeWarmer >= 0.5)
    )
      continue;
    glasses = Math.max(glasses, clamp01((2 * drop) / need - 1) * (0.6 + 0.4 * bridgeWarmer));
  }

  // Eyes are the strongest cue. A radiometric face shows them: from PAIR_REQUIRED_PX a contrasted,
  // symmetric canthus pair or cold glasses, from 20 px at least one canthus (from 32 px on a symmetric face) that stands out from the eye band by more than
  // the noise. Without that the candidate is vetoed (panels, cups, the blackbody, fists, clothing). Under
  // 20 px canthi are not resolved; on 8-bit images the scale is arbitrary (a grey ramp, a clipped or
  // smoothed export): there missing eyes are not evidence against a face (floor 0.3).
  const singleOk = pair.single >= pair.needed && (!radiometric || pair.peak >= 2 * pair.noise);
  const flat = isFlat(spread, radiometric, noiseFloor);
  // (The veto without the symmetry: it is needed only for a 32–47 px radiometric face with one canthus.)
  const symmetryDecides = radiometric && bw >= 20 && bw < PAIR_REQUIRED_PX && singleOk && bw >= 32;
  const vetoedAnyway =
    flat ||
    (bw >= 20 &&
      eyes < 0.5 &&
      glasses < 0.5 &&
      (radiometric ? bw >= PAIR_REQUIRED_PX || !singleOk : !singleOk) &&
      !symmetryDecides);
  if (vetoedAnyway && !complete)
    return { eyes, glasses, symmetry: Number.NaN, chin: Number.NaN, score: 0, pair, veto: true, spread };

  const symmetry = mirrorSymmetry(field, width, height, box);

  // Chin: below the box, how much of a band as wide as the box is still as warm as the face's lower part.
  // (Little or nothing below the box: the chin cannot be seen, which is itself unlike a face in view.)
  let chin = 0.25;
  const belowY0 = by + bh + Math.max(1, bh * 0.08);
  const belowY1 = Math.min(height - 1, by + bh * 1.35);
  if (belowY1 - belowY0 >= Math.max(2, bh * 0.12)) {
    const face = sampleBox(
      field,
      width,
      height,
      bx + bw * 0.15,
      by + bh * 0.35,
      bx + bw * 0.85,
      by + bh * 0.85,
    );
    const below = sampleBox(field, width, height, bx + bw * 0.0, belowY0, bx + bw, belowY1);
    if (face.length >= 8 && below.length >= 8) {
      const q = quantile(face, 0.25);
      let nWarm = 0;
      for (let k = 0; k < below.length; k++) if (below[k] >= q) nWarm++;
      const warm = nWarm / below.length;
      chin = clamp01((0.9 - warm) / 0.4);
    }
  }

  const symScore = clamp01(symmetry / 0.5);
  let structure: number;
  let veto = false;
  if (bw < 20) structure = 0.4;
  else if (radiometric && bw >= PAIR_REQUIRED_PX) {
    structure = Math.max(eyes, glasses * 0.9);
    veto = eyes < 0.5 && glasses < 0.5;
  } else if (radiometric) {
    // From 32 px one canthus alone is weaker evidence than a pair: the face must also be mirror
    // symmetric (a fist or a bundle of fingers is not).
    const singleEnough = singleOk && (bw < 32 || symmetry >= SINGLE_CANTHUS_SYMMETRY);
    structure = Math.max(eyes, glasses * 0.9, singleEnough ? 0.3 : 0);
    veto = eyes < 0.5 && glasses < 0.5 && !singleEnough;
  } else {
    structure = Math.max(0.3, eyes, glasses * 0.9);
    veto = eyes < 0.5 && glasses < 0.5 && !singleOk;
  }
  veto ||= flat;
  const score = veto ? 0 : 0.4 * structure + 0.3 * symScore + 0.3 * chin;
  return { eyes, glasses, symmetry, chin, score, pair, veto, spread };
}
