/**
 * Colour-palette thermal images (iron, rainbow, … as cameras and phone apps export them) back to a scalar
 * intensity. A palette is a monotone colour ramp from cold to hot: each pixel's colour is matched to the
 * nearest colour on a known ramp and replaced by its position on it. Read as luminance instead, iron's
 * purple and rainbow's blue-green-yellow fold several temperatures onto one grey and break face shapes.
 *
 * The ramps are approximations from control points: vendors' versions of "iron" differ by a few tens of RGB
 * units, which the nearest-colour match tolerates. An image is only taken for a palette image when nearly all
 * its pixels lie close to one ramp; anything else (grey images, ordinary colour photos) stays luminance.
 */

export interface Palette {
  name: string;
  /** 256 RGB triples, cold (index 0) to hot (255). */
  ramp: Uint8Array;
}

type ControlPoint = [position: number, r: number, g: number, b: number];

const CONTROL_POINTS: Record<string, ControlPoint[]> = {
  // FLIR "Iron"/"Ironbow": black → indigo → purple → magenta-red → orange → yellow → white.
  iron: [
    [0, 0, 0, 0],
    [0.15, 40, 0, 120],
    [0.3, 120, 0, 150],
    [0.45, 190, 30, 110],
    [0.6, 230, 90, 40],
    [0.75, 250, 160, 0],
    [0.9, 255, 220, 60],
    [1, 255, 255, 255],
  ],
  // "Rainbow" (FLIR, Seek, InfiRay apps): dark blue → blue → cyan → green → yellow → red → white.
  rainbow: [
    [0, 0, 0, 128],
    [0.15, 0, 0, 255],
    [0.35, 0, 255, 255],
    [0.5, 0, 255, 0],
    [0.65, 255, 255, 0],
    [0.85, 255, 0, 0],
    [1, 255, 255, 255],
  ],
  // "Jet" (MATLAB/OpenCV COLORMAP_JET, used by many hobby tools): ends in dark red, not white.
  jet: [
    [0, 0, 0, 128],
    [0.125, 0, 0, 255],
    [0.375, 0, 255, 255],
    [0.625, 255, 255, 0],
    [0.875, 255, 0, 0],
    [1, 128, 0, 0],
  ],
  // "Hot metal"/"Lava"-style: black → red → yellow → white.
  hot: [
    [0, 0, 0, 0],
    [0.375, 255, 0, 0],
    [0.75, 255, 255, 0],
    [1, 255, 255, 255],
  ],
  // "Inferno" (matplotlib; several phone apps): black → purple → red-orange → pale yellow.
  inferno: [
    [0, 0, 0, 4],
    [0.2, 66, 10, 104],
    [0.4, 147, 38, 103],
    [0.6, 221, 81, 58],
    [0.8, 252, 165, 10],
    [1, 252, 255, 164],
  ],
};

function buildRamp(points: ControlPoint[]): Uint8Array {
  const ramp = new Uint8Array(256 * 3);
  let k = 0;
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    while (k < points.length - 2 && t > points[k + 1][0]) k++;
    const [p0, r0, g0, b0] = points[k];
    const [p1, r1, g1, b1] = points[k + 1];
    const f = p1 > p0 ? Math.min(1, Math.max(0, (t - p0) / (p1 - p0))) : 0;
    ramp[i * 3] = Math.round(r0 + (r1 - r0) * f);
    ramp[i * 3 + 1] = Math.round(g0 + (g1 - g0) * f);
    ramp[i * 3 + 2] = Math.round(b0 + (b1 - b0) * f);
  }
  return ramp;
}

export const PALETTES: readonly Palette[] = Object.entries(CONTROL_POINTS).map(([name, points]) => ({
  name,
  ramp: buildRamp(points),
}));

/** A pixel is grey when its channels differ by at most this (JPEG chroma noise included). */
const GREY_CHANNEL_SPREAD = 12;
/** …and the image is grey when this share of its pixels is. */
const GREY_SHARE = 0.97;
/** Farthest (Euclidean RGB) a pixel may lie from the ramp and still count as on it. */
const ON_RAMP_DISTANCE = 40;
/** Share of pixels that must lie on the ramp (the rest: overlays, text, scale bars, a logo). */
const ON_RAMP_SHARE = 0.9;
/** The image's colours must also spread over the ramp, not sit in one corner of it. */
const MIN_RAMP_SPAN = 64;

export type PaletteInversion =
  | { kind: 'grey'; gray8: Uint8Array }
  | { kind: 'palette'; palette: string; onRampShare: number; gray8: Uint8Array }
  | { kind: 'colour'; bestPalette: string | null; onRampShare: number; gray8: Uint8Array };

// The fit is judged on bins of 8 levels per channel (at most 32768 bins, so a noisy photo stays cheap); the
// chosen ramp then maps each distinct exact colour.
const BIN_SHIFT = 3;
const BIN_LEVELS = 256 >> BIN_SHIFT;

function binOf(r: number, g: number, b: number): number {
  return ((r >> BIN_SHIFT) * BIN_LEVELS + (g >> BIN_SHIFT)) * BIN_LEVELS + (b >> BIN_SHIFT);
}

/** Nearest ramp index and squared distance for one colour. */
function nearestOnRamp(ramp: Uint8Array, r: number, g: number, b: number): { index: number; d2: number } {
  let best = 0;
  let bestD2 = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 256; i++) {
    const dr = ramp[i * 3] - r;
    const dg = ramp[i * 3 + 1] - g;
    const db = ramp[i * 3 + 2] - b;
    const d2 = dr * dr + dg * dg + db * db;
    if (d2 < bestD2) {
      bestD2 = d2;
      best = i;
    }
  }
  return { index: best, d2: bestD2 };
}

function luminance(rgb: Uint8Array, channels: number, n: number): Uint8Array {
  const gray = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const at = i * channels;
    gray[i] = Math.round(0.299 * rgb[at] + 0.587 * rgb[at + 1] + 0.114 * rgb[at + 2]);
  }
  return gray;
}

/**
 * `rgb` holds n pixels of `channels` (≥ 3) bytes each. Grey images give their luminance; images whose colours
 * lie on a known ramp give the position on it (0 cold … 255 hot); other colour images give luminance.
 */
export function invertPalette(rgb: Uint8Array, channels: number, n: number): PaletteInversion {
  // Colour histogram over bins; a bin's colour is the mean of its pixels.
  const counts = new Map<number, { count: number; r: number; g: number; b: number }>();
  let grey = 0;
  for (let i = 0; i < n; i++) {
    const at = i * channels;
    const r = rgb[at];
    const g = rgb[at + 1];
    const b = rgb[at + 2];
    if (Math.max(r, g, b) - Math.min(r, g, b) <= GREY_CHANNEL_SPREAD) grey++;
    const key = binOf(r, g, b);
    const bin = counts.get(key);
    if (bin) {
      bin.count++;
      bin.r += r;
      bin.g += g;
      bin.b += b;
    } else counts.set(key, { count: 1, r, g, b });
  }
  if (n === 0 || grey >= n * GREY_SHARE) return { kind: 'grey', gray8: luminance(rgb, channels, n) };

  const limit2 = ON_RAMP_DISTANCE * ON_RAMP_DISTANCE;
  let best: { palette: Palette; share: number; meanD2: number } | null = null;
  for (const palette of PALETTES) {
    let onRamp = 0;
    let sumD2 = 0;
    let lo = 255;
    let hi = 0;
    for (const bin of counts.values()) {
      const m = nearestOnRamp(palette.ramp, bin.r / bin.count, bin.g / bin.count, bin.b / bin.count);
      sumD2 += Math.min(m.d2, limit2 * 4) * bin.count;
      if (m.d2 <= limit2) {
        onRamp += bin.count;
        if (m.index < lo) lo = m.index;
        if (m.index > hi) hi = m.index;
      }
    }
    const share = onRamp / n;
    const meanD2 = sumD2 / n;
    const spans = hi - lo >= MIN_RAMP_SPAN;
    if (
      spans &&
      (!best || share > best.share + 0.02 || (share >= best.share - 0.02 && meanD2 < best.meanD2))
    ) {
      best = { palette, share, meanD2 };
    }
  }
  if (!best || best.share < ON_RAMP_SHARE) {
    return {
      kind: 'colour',
      bestPalette: best?.palette.name ?? null,
      onRampShare: best ? Math.round(best.share * 1000) / 1000 : 0,
      gray8: luminance(rgb, channels, n),
    };
  }
  const gray8 = new Uint8Array(n);
  const ramp = best.palette.ramp;
  const byColour = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const at = i * channels;
    const colour = (rgb[at] << 16) | (rgb[at + 1] << 8) | rgb[at + 2];
    let index = byColour.get(colour);
    if (index === undefined) {
      index = nearestOnRamp(ramp, rgb[at], rgb[at + 1], rgb[at + 2]).index;
      byColour.set(colour, index);
    }
    gray8[i] = index;
  }
  return {
    kind: 'palette',
    palette: best.palette.name,
    onRampShare: Math.round(best.share * 1000) / 1000,
    gray8,
  };
}
