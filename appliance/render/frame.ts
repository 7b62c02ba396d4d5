/**
 * One annotated video frame: the thermal image in a palette (auto range), scaled up, with an SVG
 * overlay of the persons (box in the decision's colour, reading, state), the blackbody region with
 * its state and a colour scale, encoded as JPEG by sharp.
 *
 * Split in two on purpose: `colorize` is the synchronous part (it must copy the frame's pixels
 * before the bus listener returns, and is a table lookup per pixel: well under a millisecond at
 * 256×192), `encode` is the asynchronous part (sharp runs on the libuv pool, off the main thread).
 */
import sharp from 'sharp';
import { applyHomography, type Homography, invertHomography } from '../../calibration/homography.ts';
import type { Decision, ReferenceState, Region, TrackView } from '../core/types.ts';
import { PALETTES } from '../thermalFiles/palettes.ts';

export const PALETTE_NAMES = ['iron', 'white-hot', 'rainbow'] as const;
export type PaletteName = (typeof PALETTE_NAMES)[number];

const RAMPS: Record<PaletteName, Uint8Array> = {
  iron: PALETTES.find((p) => p.name === 'iron')!.ramp,
  rainbow: PALETTES.find((p) => p.name === 'rainbow')!.ramp,
  'white-hot': (() => {
    const ramp = new Uint8Array(256 * 3);
    for (let i = 0; i < 256; i++) ramp.fill(i, i * 3, i * 3 + 3);
    return ramp;
  })(),
};

/** Okabe–Ito colours: distinguishable with the common colour-vision deficiencies. */
export const DECISION_COLOURS: Record<Decision | 'none', string> = {
  normal: '#56B4E9',
  elevated: '#D55E00',
  retest: '#F0E442',
  invalid: '#999999',
  none: '#FFFFFF',
};

/** The same shapes as the page's decision icons: a decision is never told by colour alone. */
export const DECISION_SHAPES: Record<Decision, string> = {
  normal: '●',
  elevated: '▲',
  retest: '◆',
  invalid: '○',
};
const STATE_SHAPES: Record<TrackView['state'], string> = {
  approaching: '…',
  'too-far': '↓',
  measuring: '…',
  measured: '',
  invalid: '○',
  left: '',
};

export interface ColorizedFrame {
  rgb: Buffer;
  width: number;
  height: number;
  lowC: number;
  highC: number;
}

/**
 * Auto range: the 1st–99.5th percentiles of a sample of pixels, at least 4 °C wide (so an empty,
 * uniform scene does not show amplified noise).
 */
export function autoRange(celsius: Float32Array): { lowC: number; highC: number } {
  const step = Math.max(1, Math.floor(celsius.length / 4096));
  const sample: number[] = [];
  for (let i = 0; i < celsius.length; i += step) if (Number.isFinite(celsius[i])) sample.push(celsius[i]);
  if (sample.length === 0) return { lowC: 20, highC: 40 };
  sample.sort((a, b) => a - b);
  let lowC = sample[Math.floor(sample.length * 0.01)];
  let highC = sample[Math.min(sample.length - 1, Math.floor(sample.length * 0.995))];
  if (highC - lowC < 4) {
    const mid = (highC + lowC) / 2;
    lowC = mid - 2;
    highC = mid + 2;
  }
  return { lowC, highC };
}

/** °C → palette RGB (a copy: the frame's pixels may be reused after the listener returns). */
export function colorize(
  celsius: Float32Array,
  width: number,
  height: number,
  palette: PaletteName,
  range = autoRange(celsius),
): ColorizedFrame {
  const ramp = RAMPS[palette];
  const rgb = Buffer.allocUnsafe(width * height * 3);
  const scale = 255 / (range.highC - range.lowC);
  for (let i = 0, o = 0; i < width * height; i++, o += 3) {
    let k = ((celsius[i] - range.lowC) * scale) | 0;
    k = k < 0 ? 0 : k > 255 ? 255 : k;
    k *= 3;
    rgb[o] = ramp[k];
    rgb[o + 1] = ramp[k + 1];
    rgb[o + 2] = ramp[k + 2];
  }
  return { rgb, width, height, ...range };
}

export interface OverlayInput {
  tracks: readonly TrackView[];
  reference: ReferenceState;
  referenceRegion: Region | null;
  unit: 'C' | 'F';
}

const escapeXml = (text: string) =>
  text.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
  );

const inUnit = (celsius: number, unit: 'C' | 'F') =>
  unit === 'F' ? `${((celsius * 9) / 5 + 32).toFixed(0)}°F` : `${celsius.toFixed(0)}°C`;

/**
 * The overlay in output pixels (`scale` × thermal pixels). Texts are codes and numbers only (the
 * browser translates the rest); the colour is never the only signal: each box carries its reading
 * or state as text.
 */
export function overlaySvg(
  input: OverlayInput,
  frame: { width: number; height: number; lowC: number; highC: number },
  scale: number,
  palette: PaletteName,
): string {
  const width = frame.width * scale;
  const height = frame.height * scale;
  const font = Math.max(11, Math.round(5.5 * scale));
  const parts: string[] = [];
  for (const track of input.tracks) {
    if (track.personId === null) continue;
    const [x, y, w, h] = track.box.map((v) => v * scale);
    const colour = DECISION_COLOURS[track.decision ?? 'none'];
    // Shapes and numbers only: the picture is the same in every language (the page words it).
    const label = track.decision
      ? `${DECISION_SHAPES[track.decision]} ${track.display ?? ''}`.trim()
      : STATE_SHAPES[track.state];
    const dash = track.decision === 'elevated' ? '' : track.decision ? '' : ' stroke-dasharray="8 5"';
    parts.push(
      `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${colour}" stroke-width="${track.decision === 'elevated' ? 5 : 3}"${dash}/>`,
      `<rect x="${x}" y="${Math.max(0, y - font - 6)}" width="${Math.max(w, label.length * font * 0.62)}" height="${font + 6}" fill="#000" fill-opacity="0.65"/>`,
      `<text x="${x + 3}" y="${Math.max(font, y - 5)}" fill="${colour}" font-size="${font}" font-family="DejaVu Sans, sans-serif" font-weight="bold">${escapeXml(label)}</text>`,
    );
  }
  const region = input.referenceRegion;
  if (region) {
    const stable = input.reference.state === 'stable';
    const colour = stable ? '#009E73' : '#E69F00';
    parts.push(
      `<rect x="${region.x * scale}" y="${region.y * scale}" width="${region.width * scale}" height="${region.height * scale}" fill="none" stroke="${colour}" stroke-width="3"${stable ? '' : ' stroke-dasharray="6 4"'}/>`,
      // Anchored at the region's right edge: blackbodies usually sit at the image's right border.
      `<text x="${(region.x + region.width) * scale}" y="${(region.y + region.height) * scale + font + 2}" text-anchor="end" fill="${colour}" font-size="${font}" font-family="DejaVu Sans, sans-serif" font-weight="bold">BB ${stable ? '✓' : '✗'}</text>`,
    );
  }
  // Colour scale on the right edge: the ramp, with the range's ends.
  const ramp = RAMPS[palette];
  const barW = Math.max(8, Math.round(3 * scale));
  const barX = width - barW - 4;
  const barTop = font + 8;
  const barH = height - 2 * (font + 8);
  const stops: string[] = [];
  // Stop offsets must increase down the bar (SVG ignores a stop before the previous one): hot at
  // the top, cold at the bottom.
  for (let i = 0; i <= 8; i++) {
    const k = Math.round((1 - i / 8) * 255) * 3;
    stops.push(`<stop offset="${i / 8}" stop-color="rgb(${ramp[k]},${ramp[k + 1]},${ramp[k + 2]})"/>`);
  }
  parts.push(
    `<defs><linearGradient id="scale" x1="0" y1="0" x2="0" y2="1">${stops.join('')}</linearGradient></defs>`,
    `<rect x="${barX}" y="${barTop}" width="${barW}" height="${barH}" fill="url(#scale)" stroke="#fff" stroke-width="1"/>`,
    `<text x="${width - 4}" y="${font + 2}" fill="#fff" font-size="${font}" text-anchor="end" font-family="DejaVu Sans, sans-serif">${inUnit(frame.highC, input.unit)}</text>`,
    `<text x="${width - 4}" y="${height - 4}" fill="#fff" font-size="${font}" text-anchor="end" font-family="DejaVu Sans, sans-serif">${inUnit(frame.lowC, input.unit)}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

/**
 * Output scale so overlay text on small cores (160×120 → 480, 256×192 → 512) stays legible; the
 * page scales the canvas further. Kept at about 500 px wide because the encode cost grows with the
 * area (≈ 17 ms at 512×384, ≈ 35 ms at 768×576 on a busy 2-core box).
 */
export function outputScale(width: number): number {
  return Math.max(1, Math.min(4, Math.floor(560 / width)));
}

/** Palette image + overlay → JPEG (sharp, off the main thread). */
export async function encode(
  frame: ColorizedFrame,
  svg: string,
  scale: number,
  quality = 75,
): Promise<Buffer> {
  return sharp(frame.rgb, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .resize(frame.width * scale, frame.height * scale, { kernel: 'cubic' })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .jpeg({ quality, mozjpeg: false })
    .toBuffer();
}

/** A visible-light RGB frame → JPEG at most `maxWidth` wide (sharp, off the main thread). */
export async function encodeRgb(
  rgb: Uint8Array,
  width: number,
  height: number,
  maxWidth: number,
  quality: number,
): Promise<Buffer> {
  const scaled = Math.min(width, maxWidth);
  return sharp(Buffer.from(rgb.buffer, rgb.byteOffset, width * height * 3), {
    raw: { width, height, channels: 3 },
  })
    .resize(scaled, Math.max(1, Math.round((height * scaled) / width)))
    .jpeg({ quality, mozjpeg: false })
    .toBuffer();
}

// ---------------------------------------------------------------------------------------------
// Bi-spectrum views: the visible image, or the thermal image laid over it with the registration.

/** What a viewer of a bi-spectrum camera sees: the thermal image, the visible one, or both blended. */
export const VIEW_NAMES = ['thermal', 'visible', 'blend'] as const;
export type ViewName = (typeof VIEW_NAMES)[number];

/** How much of the thermal colour a blended pixel takes (the rest is the visible image). */
export const BLEND_THERMAL_WEIGHT = 0.55;
/** The visible view is scaled down to at most this width: HD frames cost too much to encode for a phone. */
export const VISIBLE_VIEW_MAX_WIDTH = 640;

/**
 * For each output pixel of the blend (thermal geometry × `scale`), the visible pixel it shows
 * (index into the visible image, -1 outside it). `H` maps visible → thermal, so each output pixel
 * goes back through H⁻¹. Built once per registration and size: per frame the warp is one lookup a
 * pixel, the only synchronous work besides the palette.
 */
export function blendLookup(
  H: Homography,
  thermal: { width: number; height: number },
  visible: { width: number; height: number },
  scale: number,
): Int32Array {
  const inverse = invertHomography(H);
  const outW = thermal.width * scale;
  const outH = thermal.height * scale;
  const lookup = new Int32Array(outW * outH);
  for (let y = 0, o = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++, o++) {
      // Pixel centres: output pixel (x, y) covers thermal ((x + 0.5) / scale, (y + 0.5) / scale).
      const p = applyHomography(inverse, { x: (x + 0.5) / scale, y: (y + 0.5) / scale });
      const vx = Math.floor(p.x);
      const vy = Math.floor(p.y);
      lookup[o] =
        vx >= 0 && vy >= 0 && vx < visible.width && vy < visible.height ? vy * visible.width + vx : -1;
    }
  }
  return lookup;
}

/**
 * The visible image warped into the output's thermal geometry (a copy made now: the frame's
 * pixels are not ours after the listener returns). Pixels the visible camera does not see are black.
 */
export function warpVisible(visibleRgb: Uint8Array, lookup: Int32Array): Buffer {
  const out = Buffer.alloc(lookup.length * 3);
  for (let o = 0, d = 0; o < lookup.length; o++, d += 3) {
    const v = lookup[o];
    if (v < 0) continue;
    const s = v * 3;
    out[d] = visibleRgb[s];
    out[d + 1] = visibleRgb[s + 1];
    out[d + 2] = visibleRgb[s + 2];
  }
  return out;
}

/**
 * Thermal palette image over the warped visible image → JPEG (two sharp passes off the main
 * thread: the palette image scaled up, then mixed at `BLEND_THERMAL_WEIGHT` with the overlay).
 */
export async function encodeBlend(
  frame: ColorizedFrame,
  warped: Buffer,
  svg: string,
  scale: number,
  quality = 75,
): Promise<Buffer> {
  const outW = frame.width * scale;
  const outH = frame.height * scale;
  const alpha = Math.round(255 * BLEND_THERMAL_WEIGHT);
  const rgba = Buffer.allocUnsafe(frame.width * frame.height * 4);
  for (let i = 0, s = 0, d = 0; i < frame.width * frame.height; i++, s += 3, d += 4) {
    rgba[d] = frame.rgb[s];
    rgba[d + 1] = frame.rgb[s + 1];
    rgba[d + 2] = frame.rgb[s + 2];
    rgba[d + 3] = alpha;
  }
  const thermalUp = await sharp(rgba, { raw: { width: frame.width, height: frame.height, channels: 4 } })
    .resize(outW, outH, { kernel: 'cubic' })
    .raw()
    .toBuffer();
  return sharp(warped, { raw: { width: outW, height: outH, channels: 3 } })
    .composite([
      { input: thermalUp, raw: { width: outW, height: outH, channels: 4 }, top: 0, left: 0 },
      { input: Buffer.from(svg), top: 0, left: 0 },
    ])
    .jpeg({ quality, mozjpeg: false })
    .toBuffer();
}

/** The output size of the visible view (at most `VISIBLE_VIEW_MAX_WIDTH` wide). */
export function visibleViewSize(visible: { width: number; height: number }): {
  width: number;
  height: number;
} {
  const width = Math.min(visible.width, VISIBLE_VIEW_MAX_WIDTH);
  return { width, height: Math.max(1, Math.round((visible.height * width) / visible.width)) };
}

/**
 * The overlay of the visible view: the persons' boxes and the blackbody region mapped from thermal
 * pixels into the visible image through H⁻¹ (the bounding box of the mapped corners). Without a
 * registration nothing can be placed: no boxes rather than boxes in the wrong place (the page says
 * why, in the viewer's language).
 */
export function visibleOverlaySvg(
  input: OverlayInput,
  H: Homography | null,
  visible: { width: number; height: number },
): string {
  const out = visibleViewSize(visible);
  const k = out.width / visible.width;
  const font = Math.max(12, Math.round(out.width / 40));
  const parts: string[] = [];
  if (H) {
    const inverse = invertHomography(H);
    const mapRect = (x: number, y: number, w: number, h: number) => {
      const corners = [
        { x, y },
        { x: x + w, y },
        { x, y: y + h },
        { x: x + w, y: y + h },
      ].map((p) => applyHomography(inverse, p));
      const xs = corners.map((p) => p.x * k);
      const ys = corners.map((p) => p.y * k);
      const minX = Math.min(...xs);
      const minY = Math.min(...ys);
      return [minX, minY, Math.max(...xs) - minX, Math.max(...ys) - minY].map((v) => Math.round(v * 10) / 10);
    };
    for (const track of input.tracks) {
      if (track.personId === null) continue;
      const [x, y, w, h] = mapRect(...track.box);
      const colour = DECISION_COLOURS[track.decision ?? 'none'];
      const label = track.decision
        ? `${DECISION_SHAPES[track.decision]} ${track.display ?? ''}`.trim()
        : STATE_SHAPES[track.state];
      parts.push(
        `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${colour}" stroke-width="${track.decision === 'elevated' ? 5 : 3}"${track.decision ? '' : ' stroke-dasharray="8 5"'}/>`,
        `<rect x="${x}" y="${Math.max(0, y - font - 6)}" width="${Math.max(w, label.length * font * 0.62)}" height="${font + 6}" fill="#000" fill-opacity="0.65"/>`,
        `<text x="${x + 3}" y="${Math.max(font, y - 5)}" fill="${colour}" font-size="${font}" font-family="DejaVu Sans, sans-serif" font-weight="bold">${escapeXml(label)}</text>`,
      );
    }
    const region = input.referenceRegion;
    if (region) {
      const stable = input.reference.state === 'stable';
      const colour = stable ? '#009E73' : '#E69F00';
      const [x, y, w, h] = mapRect(region.x, region.y, region.width, region.height);
      parts.push(
        `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${colour}" stroke-width="3"${stable ? '' : ' stroke-dasharray="6 4"'}/>`,
        `<text x="${x + w}" y="${y + h + font + 2}" text-anchor="end" fill="${colour}" font-size="${font}" font-family="DejaVu Sans, sans-serif" font-weight="bold">BB ${stable ? '✓' : '✗'}</text>`,
      );
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${out.width}" height="${out.height}">${parts.join('')}</svg>`;
}

/** The visible frame (a copy, made by the caller) scaled to the view's size, with its overlay → JPEG. */
export async function encodeVisible(
  rgb: Buffer,
  visible: { width: number; height: number },
  svg: string,
  quality = 75,
): Promise<Buffer> {
  const out = visibleViewSize(visible);
  return sharp(rgb, { raw: { width: visible.width, height: visible.height, channels: 3 } })
    .resize(out.width, out.height)
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .jpeg({ quality, mozjpeg: false })
    .toBuffer();
}
