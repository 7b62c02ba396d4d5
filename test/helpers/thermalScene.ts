/**
 * Synthetic radiometric frames (°C) for the thermal face detector's rule tests: a room, people painted
 * as a thermal camera sees them (warm face, cooler hair, warmer inner canthi, a cool nose, the neck and
 * the body below), what they wear over their eyes (glasses, sunglasses, a cap's brim) and the warm
 * things that are not faces (hot drinks, radiators, the reference disc in its housing), with sensor
 * noise from a fixed seed. Every painter returns where it painted, so a test can compare the detector's
 * boxes with the truth.
 */
import { SeededRandom } from '../../appliance/camera/simulator/random.ts';
import type { Box, Face, Point } from '../../appliance/core/types.ts';
import { detectThermalFaces } from '../../appliance/detection/thermalFaces.ts';
import type { MeasureContext } from '../../appliance/screening/measure.ts';

export interface HeadOptions {
  /** Skin temperature, °C (the face's plain skin; the forehead is 0.3 °C warmer). */
  skinC?: number;
  /** Inner canthus temperature, °C (default skin + 1.6). */
  canthusC?: number;
  /** Which inner canthi show: both (frontal, bare eyes), the person's right only, or none. */
  canthi?: 'both' | 'right' | 'none';
  /** Clear glasses: two cold lenses over the eyes, the nose bridge between them skin. */
  glasses?: boolean;
  /** Dark sunglasses: one wide cold band over both eyes (under a cap: no forehead skin left). */
  sunglasses?: boolean;
  /** A cap: the top of the head and the forehead covered, its brim sticking out over the eyes. */
  cap?: boolean;
  /**
   * Temperature of the lenses (glasses or sunglasses), °C. By default they read as in a cool room,
   * 9–10 °C below the skin (ambient + 3.5 or + 4); in a warm room they are only a few degrees colder.
   */
  lensC?: number;
  /** The face's height as a share of its width (skin, hairline to chin; default 1.2). */
  aspect?: number;
  /**
   * What lies below the chin: clothes (a neck, then shoulders in cooler clothing: the usual person),
   * or a warm torso joined to the head by a thick neck and sloping shoulders (a bare-shouldered person,
   * a warm scarf: no narrowing that ends the head). Default clothes.
   */
  body?: 'clothes' | 'warm-torso' | 'none';
  /** Not mirror-symmetric: the outline sheared sideways (a fist, a hand held sideways). */
  lopsided?: boolean;
  /**
   * Height of the eyes in the face (share of the skin's height from the hairline; default 0.36). A
   * high forehead or a long face holds them lower.
   */
  eyeLevel?: number;
}

export interface PaintedHead {
  /** Bounding box of the face's skin (hairline to chin), frame pixels. */
  face: Box;
  /** Inner canthi painted (person's right first), or nothing where none shows. */
  canthi: Point[];
  /** Centre of each eye (where the lenses are), person's right first. */
  eyes: Point[];
}

export class ThermalScene {
  readonly celsius: Float32Array;
  readonly random: SeededRandom;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly ambientC = 21,
    seed = 1,
  ) {
    this.random = new SeededRandom(seed);
    this.celsius = new Float32Array(width * height);
    // A wall a little warmer towards the floor (a room is never exactly uniform).
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) this.celsius[y * width + x] = ambientC - 0.5 + (0.6 * y) / height;
  }

  /** Sets every pixel of the rectangle (clipped to the frame) to `v`, or to `v(x, y)`. */
  rect(x0: number, y0: number, w: number, h: number, v: number | ((x: number, y: number) => number)): void {
    for (let y = Math.max(0, Math.round(y0)); y < Math.min(this.height, Math.round(y0 + h)); y++)
      for (let x = Math.max(0, Math.round(x0)); x < Math.min(this.width, Math.round(x0 + w)); x++)
        this.celsius[y * this.width + x] = typeof v === 'number' ? v : v(x, y);
  }

  /**
   * Paints the ellipse centred at (cx, cy): each pixel whose centre lies inside gets `v(dx, dy)` (dx, dy
   * in radii, −1…1), unless that returns null. Returns the painted pixels' bounding box (or null).
   */
  ellipse(
    cx: number,
    cy: number,
    rx: number,
    ry: number,
    v: (dx: number, dy: number) => number | null,
  ): Box | null {
    let x0 = Number.POSITIVE_INFINITY;
    let y0 = Number.POSITIVE_INFINITY;
    let x1 = Number.NEGATIVE_INFINITY;
    let y1 = Number.NEGATIVE_INFINITY;
    for (let y = Math.max(0, Math.floor(cy - ry)); y <= Math.min(this.height - 1, Math.ceil(cy + ry)); y++)
      for (let x = Math.max(0, Math.floor(cx - rx)); x <= Math.min(this.width - 1, Math.ceil(cx + rx)); x++) {
        const dx = (x + 0.5 - cx) / rx;
        const dy = (y + 0.5 - cy) / ry;
        if (dx * dx + dy * dy > 1) continue;
        const val = v(dx, dy);
        if (val === null) continue;
        this.celsius[y * this.width + x] = val;
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x);
        y1 = Math.max(y1, y);
      }
    return Number.isFinite(x0) ? [x0, y0, x1 - x0 + 1, y1 - y0 + 1] : null;
  }

  /**
   * A person facing the camera whose face is `faceWidth` px wide, its skin centred at (cx, cy). Painted
   * body first, then hair, face, canthi and eyewear, so each covers what lies behind it.
   */
  head(cx: number, cy: number, faceWidth: number, o: HeadOptions = {}): PaintedHead {
    const fw = faceWidth;
    const rx = fw / 2;
    const ry = (fw * (o.aspect ?? 1.2)) / 2;
    const skin = o.skinC ?? 34;
    const a = this.ambientC;
    const body = o.body ?? 'clothes';
    if (body === 'clothes') {
      // Neck at skin − 1, then shoulders in clothing (ambient + 5) from just below the chin.
      this.rect(cx - fw * 1.2, cy + ry + fw * 0.22, fw * 2.4, this.height, a + 5);
      this.rect(cx - fw * 0.25, cy + ry * 0.7, fw * 0.5, fw * 0.55, skin - 1);
    } else if (body === 'warm-torso') {
      // A neck nearly as wide as the face widening smoothly into shoulders and a torso at skin − 1.5:
      // no row narrows below the head, none jumps sideways.
      const top = cy + ry * 0.6;
      for (let y = Math.round(top); y < this.height; y++) {
        const half = Math.min(fw * 1.4, fw * 0.42 + 0.6 * (y - top));
        this.rect(cx - half, y, 2 * half, 1, skin - 1.5);
      }
    }
    // Eyes at eyeLevel of the skin's height below the hairline (a cap covers the forehead, not the eyes).
    const eyeY = cy - 0.72 * ry + 1.72 * ry * (o.eyeLevel ?? 0.36);
    // A cap's lower edge (its brim) sits on the forehead a quarter of the face width above the eyes.
    const capEdge = eyeY - fw * 0.24;
    // Hair: a cap of cooler hair over the top of the head (ambient + 6), or the cap itself.
    const hairC = o.cap ? a + 2 : a + 6;
    this.ellipse(cx, cy - ry * 0.12, rx * 1.06, ry * 1.0, (_dx, dy) => (dy < -0.35 ? hairC : null));
    if (o.cap)
      this.ellipse(cx, cy, rx * 1.02, ry * 1.02, (_dx, dy) => (cy + dy * ry < capEdge ? hairC : null));
    const hairline = o.cap ? (capEdge - cy) / ry : -0.72;
    // Lopsided: the outline sheared (its top and bottom pushed to opposite sides), as a fist or a hand held
    // sideways; painted within a wider ellipse, its pixels tested in sheared coordinates.
    const shear = o.lopsided ? 0.6 : 0;
    const widen = 1 + shear;
    const face = this.ellipse(cx, cy, rx * widen, ry, (wx, dy) => {
      const dx = wx * widen + shear * dy;
      if (dx * dx + dy * dy > 1 || dy < hairline) return null;
      let v = skin - 1.2 * dx * dx + (dy < -0.25 ? 0.3 : 0);
      if (Math.abs(dx) < 0.12 && dy > 0.05 && dy < 0.4) v = skin - 2; // nose: cooler
      if (dy > 0.55 && Math.abs(dx) < 0.35 && dy < 0.68) v = skin - 0.8; // mouth
      return v;
    })!;
    const eyes = [-1, 1].map((side) => ({ x: cx + side * fw * 0.22, y: eyeY }));
    const canthi: Point[] = [];
    const canthusC = o.canthusC ?? skin + 1.6;
    const spot = Math.max(2, Math.round(fw / 22));
    for (const side of [-1, 1]) {
      // Eyeball a little warmer than skin, the inner canthus beside the nose warmest; an eye whose
      // canthus does not show (soft optics, a turned head) is skin.
      const show = o.canthi === undefined || o.canthi === 'both' || (o.canthi === 'right' && side < 0);
      if (!show) continue;
      this.ellipse(cx + side * fw * 0.22, eyeY, fw * 0.1, fw * 0.05, () => skin + 0.4);
      const kx = cx + side * fw * 0.1;
      this.rect(kx - spot / 2, eyeY - spot / 2, spot, spot, canthusC);
      canthi.push({ x: kx, y: eyeY });
    }
    if (o.glasses) for (const e of eyes) this.ellipse(e.x, e.y, fw * 0.17, fw * 0.11, () => o.lensC ?? a + 4); // lenses block LWIR
    // The brim sticks out over the forehead, a little wider than the head.
    if (o.cap) this.rect(cx - rx * 1.15, capEdge - fw * 0.08, rx * 2.3, fw * 0.08, a + 1.5);
    if (o.sunglasses) {
      // Under a cap they reach up to the brim: one cold band, no forehead skin left.
      const top = o.cap ? capEdge : eyeY - fw * 0.13;
      this.rect(cx - fw * 0.42, top, fw * 0.84, eyeY + fw * 0.1 - top, o.lensC ?? a + 3.5);
    }
    return { face, canthi: canthi.map((p) => ({ x: p.x, y: p.y })), eyes };
  }

  /** A hot object (a drink, a lamp) at `c` °C: a rectangle. */
  hotObject(x: number, y: number, w: number, h: number, c: number): Box {
    this.rect(x, y, w, h, c);
    return [x, y, w, h];
  }

  /**
   * The reference: a disc at `setpointC` of radius `r` centred at (cx, cy) in a housing a little warmer
   * than the room (electronics), reaching about a disc diameter beyond the disc — the feverscreen
   * kiosks' layout. Returns the disc's box (what a site configures as the reference region).
   */
  referenceDisc(cx: number, cy: number, r: number, setpointC = 35): Box {
    const housing = 3 * r;
    this.rect(cx - housing, cy - housing, 2 * housing, 2 * housing, (x, y) => {
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy) / housing;
      return this.ambientC + 2.2 - 0.4 * d;
    });
    this.ellipse(cx, cy, r, r, () => setpointC);
    return [Math.round(cx - r), Math.round(cy - r), Math.round(2 * r), Math.round(2 * r)];
  }

  /**
   * A faint, flat warm blob: a rounded panel `deltaC` above the room, nearly uniform (a radiator's
   * cover, a reference housing, a warm wall patch), with a gentle top-to-bottom fall of `fallC`.
   */
  flatBlob(cx: number, cy: number, w: number, h: number, deltaC: number, fallC = 0.3): Box {
    return this.ellipse(
      cx,
      cy,
      w / 2,
      h / 2,
      (dx, dy) => this.ambientC + deltaC - fallC * (dy + 1) * 0.5 - 0.2 * dx * dx,
    )!;
  }

  /** Soft optics (a Lepton's): a 3×3 mean over the frame, `times` over; the outermost pixels kept. */
  soften(times = 1): this {
    const { width: w, height: h, celsius: c } = this;
    for (let t = 0; t < times; t++) {
      const src = Float32Array.from(c);
      for (let y = 1; y < h - 1; y++)
        for (let x = 1; x < w - 1; x++) {
          let s = 0;
          for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) s += src[(y + dy) * w + x + dx];
          c[y * w + x] = s / 9;
        }
    }
    return this;
  }

  /** Sensor noise: Gaussian of `sd` °C on every pixel (the seed fixes it). */
  noise(sd = 0.05): this {
    for (let i = 0; i < this.celsius.length; i++) this.celsius[i] += this.random.gaussian(0, sd);
    return this;
  }
}

/** The measurement context of the detector-rule tests: a stable reference, NETD 0.05 °C, faces from 20 px. */
export const PAINTED_MEASURE: MeasureContext = {
  minFacePx: 20,
  referenceStable: true,
  flatField: false,
  otherFaces: [],
  netdC: 0.05,
};

/** The thermal detector on a painted scene, looking for faces from `minFacePx`, `exclude` left out. */
export function detectPainted(scene: ThermalScene, minFacePx = 20, exclude?: Box[]): Face[] {
  return detectThermalFaces(scene.celsius, scene.width, scene.height, { minFacePx, exclude });
}
