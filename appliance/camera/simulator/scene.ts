/**
 * The simulated entrance: a seeded radiometric scene generator with ground truth.
 *
 * People walk in one after another (sometimes two at once), approach the measurement point, stop
 * for a few seconds looking roughly at the camera, and leave. Each has a core temperature (a few
 * febrile) and a facial temperature pattern in which the inner canthi are the hottest spots
 * (core − 1.25 °C ± 0.35, as in the FDA/PhysioNet data); nose and hair are cooler. Some wear
 * glasses (LWIR-opaque, so the eyes look cold), a hat, or carry a hot drink. A blackbody square at
 * its set point sits in view. The sensor adds an offset (starting anywhere within ±driftMaxC, then a
 * slow bounded random walk, with a jump at every flat-field event), NETD noise and, for cores that
 * have them, flat-field events during which the image freezes.
 *
 * API:
 *   const scene = new SimulatedEntrance({ profile, seed: 7 });
 *   const { celsiusTrue, counts, truth } = scene.render(frameIndex);   // frames in order
 *   scene.persons()                                                    // ground truth so far
 * Frames must be rendered in increasing order (the drift and noise are a stream).
 * `counts` are the raw sensor counts of the profile's radiometry (what a camera sends);
 * `apparentC` is what an ideal, drift-free sensor would read (emissivity included);
 * `truth` lists every visible person's face box, canthus points and flags.
 */
import { celsiusToRaw, type ObjectParameters } from '../../../calibration/radiometry.ts';
import { apparentTemperature } from '../../../calibration/reference.ts';
import type { CameraProfile } from '../../core/cameraProfile.ts';
import type { Box, Point } from '../../core/types.ts';
import { SeededRandom } from './random.ts';

export interface SceneOptions {
  profile: CameraProfile;
  seed: number;
  /** Stop sending people after this many (the scene then stays empty). Unlimited when absent. */
  people?: number;
  /** Share of people with a fever (core ≥ 37.8 °C). */
  feverRate?: number;
  /** Largest sensor offset the random walk reaches, ± °C. */
  driftMaxC?: number;
  ambientC?: number;
  /** Override of the profile's noise (NETD, °C). */
  netdC?: number;
  blackbody?: { setpointC: number; emissivity: number; box?: Box } | null;
  /** A second blackbody (two-point reference); none by default. Box below the first unless given. */
  secondBlackbody?: { setpointC: number; emissivity: number; box?: Box } | null;
  /**
   * Gain of the sensor about 30 °C: it reads `(apparent − 30) × sensorGain + 30 + offset + noise`.
   * 1 (default) reads `apparent + offset + noise`, exactly as before the option existed.
   */
  sensorGain?: number;
  /** Flat-field events; defaults to the profile's. */
  flatField?: { intervalS: number; durationS: number } | null;
  skinEmissivity?: number;
  /** Share of people with glasses, hats and hot drinks. */
  glassesRate?: number;
  hatRate?: number;
  drinkRate?: number;
  /** Share of arrivals that are two people side by side. */
  pairRate?: number;
}

export interface PersonTruth {
  personId: string;
  coreC: number;
  canthusC: number;
  glasses: boolean;
  hat: boolean;
  drink: boolean;
  /** Seconds since the scene began. */
  arriveS: number;
  dwellStartS: number;
  dwellEndS: number;
  leaveS: number;
}

export interface FacePresence {
  personId: string;
  faceBox: Box;
  /** Inner canthi, right then left (person's right is image left). Null when hidden. */
  canthi: [Point | null, Point | null];
  yawDeg: number;
  /** True during the stop at the measurement point. */
  atMeasurementPoint: boolean;
  distanceM: number;
}

export interface FrameTruth {
  frame: number;
  timeS: number;
  flatField: boolean;
  sensorOffsetC: number;
  faces: FacePresence[];
}

export interface RenderedFrame {
  counts: Uint16Array;
  apparentC: Float32Array;
  truth: FrameTruth;
}

interface PersonPlan extends PersonTruth {
  /** Horizontal position at the measurement point, as a fraction of the width. */
  standXFrac: number;
  enterFromLeft: boolean;
  nearFaceFrac: number;
  yawDuringDwellDeg: number;
  drinkSide: -1 | 1;
}

const APPROACH_S = 2.6;
const LEAVE_S = 2.2;
/** Face width in metres, to turn pixels into a distance. */
const FACE_WIDTH_M = 0.16;
/** Horizontal field of view of the simulated lens. */
const HFOV_DEG = 50;
/** Random-walk drift of the sensor offset of a warmed-up core, °C per √minute. */
export const DRIFT_C_PER_SQRT_MIN = 0.03;
/** The simulated sensor's gain error (`sensorGain`) turns about this temperature, °C. */
export const SENSOR_GAIN_PIVOT_C = 30;

export class SimulatedEntrance {
  readonly profile: CameraProfile;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly ambientC: number;
  readonly blackbody: { setpointC: number; emissivity: number; box: Box } | null;
  readonly secondBlackbody: { setpointC: number; emissivity: number; box: Box } | null;
  readonly #options: Required<
    Omit<SceneOptions, 'people' | 'blackbody' | 'secondBlackbody' | 'flatField'>
  > & {
    people: number | undefined;
    flatField: { intervalS: number; durationS: number } | null;
  };
  readonly #plans: PersonPlan[] = [];
  readonly #planRandom: SeededRandom;
  readonly #noiseRandom: SeededRandom;
  readonly #driftRandom: SeededRandom;
  readonly #ffcRandom: SeededRandom;
  #nextArrivalS = 1.0;
  #nextFrame = 0;
  #offsetC: number;
  #nextFfcS: number;
  #ffcUntilS = -1;
  #frozen: RenderedFrame | null = null;
  readonly #background: Float32Array;
  readonly #scratch: Float32Array;
  readonly #objectParameters: ObjectParameters;

  constructor(options: SceneOptions) {
    const { profile } = options;
    this.profile = profile;
    this.width = profile.width;
    this.height = profile.height;
    this.fps = profile.fps;
    this.ambientC = options.ambientC ?? 21;
    this.#options = {
      profile,
      seed: options.seed,
      people: options.people,
      feverRate: options.feverRate ?? 0.1,
      driftMaxC: options.driftMaxC ?? 2,
      ambientC: this.ambientC,
      netdC: options.netdC ?? profile.netdC,
      flatField: options.flatField === undefined ? profile.flatField : options.flatField,
      skinEmissivity: options.skinEmissivity ?? 0.98,
      glassesRate: options.glassesRate ?? 0.12,
      hatRate: options.hatRate ?? 0.1,
      drinkRate: options.drinkRate ?? 0.06,
      pairRate: options.pairRate ?? 0.15,
      sensorGain: options.sensorGain ?? 1,
    };
    if (!(this.#options.sensorGain > 0.5 && this.#options.sensorGain < 2)) {
      throw new RangeError(`sensorGain must be between 0.5 and 2, got ${this.#options.sensorGain}`);
    }
    const bb = options.blackbody === undefined ? { setpointC: 35, emissivity: 0.98 } : options.blackbody;
    this.blackbody = bb ? { ...bb, box: bb.box ?? defaultBlackbodyBox(this.width, this.height) } : null;
    const second = options.secondBlackbody ?? null;
    this.secondBlackbody = second
      ? { ...second, box: second.box ?? defaultSecondBlackbodyBox(this.width, this.height) }
      : null;
    const root = new SeededRandom(options.seed);
    this.#planRandom = root.fork(1);
    this.#noiseRandom = root.fork(2);
    this.#driftRandom = root.fork(3);
    this.#ffcRandom = root.fork(4);
    // An uncalibrated core may sit anywhere within its absolute accuracy: the whole ±driftMaxC.
    this.#offsetC = this.#driftRandom.uniform(-1, 1) * this.#options.driftMaxC;
    this.#nextFfcS = this.#options.flatField
      ? this.#ffcRandom.uniform(0.3, 1) * this.#options.flatField.intervalS
      : Number.POSITIVE_INFINITY;
    this.#background = this.#renderBackground(root.fork(5));
    this.#scratch = new Float32Array(this.width * this.height);
    this.#objectParameters = {
      emissivity: 1,
      reflectedC: this.ambientC,
      atmosphereC: this.ambientC,
      distanceM: 1,
      humidityPct: 50,
    };
  }

  /** Ground truth of every person planned up to the last rendered frame. */
  persons(): PersonTruth[] {
    return this.#plans.map(
      ({ standXFrac, enterFromLeft, nearFaceFrac, yawDuringDwellDeg, drinkSide, ...truth }) => truth,
    );
  }

  /**
   * Plans arrivals up to `timeS` without rendering (statistics over many people). Planning has its
   * own random stream, so it does not change what later frames look like.
   */
  planUntil(timeS: number): PersonTruth[] {
    this.#planArrivalsUntil(timeS);
    return this.persons();
  }

  /** Renders the next frame; `frameIndex` must follow the previous one. */
  render(frameIndex: number): RenderedFrame {
    if (frameIndex !== this.#nextFrame) {
      throw new Error(`simulated frames are a stream: expected frame ${this.#nextFrame}, got ${frameIndex}`);
    }
    this.#nextFrame++;
    const timeS = frameIndex / this.fps;
    this.#stepDrift();

    const ffc = this.#options.flatField;
    if (ffc && timeS >= this.#nextFfcS) {
      this.#ffcUntilS = timeS + ffc.durationS;
      this.#nextFfcS = timeS + ffc.intervalS * this.#ffcRandom.uniform(0.8, 1.2);
      // The shutter re-zeroes the core: its offset jumps a little.
      this.#offsetC = this.#clampOffset(this.#offsetC + this.#ffcRandom.gaussian(0, 0.15));
    }
    if (timeS < this.#ffcUntilS && this.#frozen) {
      // A core in flat-field correction repeats its last image, byte for byte.
      const truth = { ...this.#frozen.truth, frame: frameIndex, timeS, flatField: true };
      return { counts: this.#frozen.counts, apparentC: this.#frozen.apparentC, truth };
    }

    this.#planArrivalsUntil(timeS + APPROACH_S + 1);
    const apparent = this.#scratch;
    apparent.set(this.#background);
    const faces: FacePresence[] = [];
    // Draw far people first so nearer ones cover them.
    const visible = this.#plans
      .filter((p) => timeS >= p.arriveS && timeS <= p.leaveS)
      .map((p) => ({ plan: p, pose: this.#pose(p, timeS) }))
      .sort((a, b) => a.pose.faceWidthPx - b.pose.faceWidthPx);
    for (const { plan, pose } of visible) {
      const presence = this.#drawPerson(apparent, plan, pose);
      if (presence) faces.push(presence);
    }
    if (this.blackbody) this.#drawBlackbody(apparent, this.blackbody);
    if (this.secondBlackbody) this.#drawBlackbody(apparent, this.secondBlackbody);

    const measured = new Float32Array(apparent.length);
    const netd = this.#options.netdC;
    const gain = this.#options.sensorGain;
    if (gain === 1) {
      // Kept apart so the default output stays byte-identical to recordings made before sensorGain.
      for (let i = 0; i < measured.length; i++) {
        measured[i] = apparent[i] + this.#offsetC + this.#noiseRandom.gaussian(0, netd);
      }
    } else {
      for (let i = 0; i < measured.length; i++) {
        measured[i] =
          (apparent[i] - SENSOR_GAIN_PIVOT_C) * gain +
          SENSOR_GAIN_PIVOT_C +
          this.#offsetC +
          this.#noiseRandom.gaussian(0, netd);
      }
    }
    const counts = celsiusToRaw(measured, this.profile.radiometry, this.#objectParameters);
    const truth: FrameTruth = {
      frame: frameIndex,
      timeS,
      flatField: false,
      sensorOffsetC: this.#offsetC,
      faces,
    };
    const rendered = { counts, apparentC: Float32Array.from(apparent), truth };
    this.#frozen = rendered;
    return rendered;
  }

  #clampOffset(offsetC: number): number {
    const max = this.#options.driftMaxC;
    if (offsetC > max) return 2 * max - offsetC;
    if (offsetC < -max) return -2 * max - offsetC;
    return offsetC;
  }

  #stepDrift(): void {
    // A warmed-up microbolometer's offset wanders slowly between shutter events: a random walk of
    // DRIFT_C_PER_SQRT_MIN (≈ 0.03 °C after a minute, 0.1 °C after ten), reflected at ± driftMaxC. The
    // large offsets come from where the core starts (anywhere within ±driftMaxC) and from the jumps at
    // flat-field events, which the blackbody reference has to follow.
    const perFrameSd = DRIFT_C_PER_SQRT_MIN / Math.sqrt(60 * this.fps);
    this.#offsetC = this.#clampOffset(this.#offsetC + this.#driftRandom.gaussian(0, perFrameSd));
  }

  #planArrivalsUntil(horizonS: number): void {
    const r = this.#planRandom;
    const limit = this.#options.people;
    while (this.#nextArrivalS <= horizonS && (limit === undefined || this.#plans.length < limit)) {
      const pair =
        r.chance(this.#options.pairRate) && (limit === undefined || this.#plans.length + 2 <= limit);
      const dwellS = r.uniform(2.5, 4);
      const arriveS = this.#nextArrivalS;
      const group = pair ? 2 : 1;
      for (let k = 0; k < group; k++) {
        const lagS = k * r.uniform(0.2, 0.6);
        const standXFrac = pair ? (k === 0 ? 0.3 : 0.66) + r.uniform(-0.03, 0.03) : r.uniform(0.4, 0.55);
        this.#plans.push(this.#planPerson(arriveS + lagS, dwellS, standXFrac, pair));
      }
      this.#nextArrivalS = arriveS + APPROACH_S + dwellS + r.uniform(0.6, 3);
    }
  }

  #planPerson(arriveS: number, dwellS: number, standXFrac: number, inPair: boolean): PersonPlan {
    const r = this.#planRandom;
    const febrile = r.chance(this.#options.feverRate);
    const coreC = febrile ? r.uniform(37.8, 39.6) : Math.min(37.4, Math.max(36.0, r.gaussian(36.85, 0.3)));
    const canthusC = coreC - Math.max(0.3, r.gaussian(1.25, 0.35));
    const personId = `sim-${String(this.#plans.length + 1).padStart(4, '0')}`;
    const dwellStartS = arriveS + APPROACH_S;
    const dwellEndS = dwellStartS + dwellS;
    return {
      personId,
      coreC: round3(coreC),
      canthusC: round3(canthusC),
      glasses: r.chance(this.#options.glassesRate),
      hat: r.chance(this.#options.hatRate),
      drink: r.chance(this.#options.drinkRate),
      arriveS: round3(arriveS),
      dwellStartS: round3(dwellStartS),
      dwellEndS: round3(dwellEndS),
      leaveS: round3(dwellEndS + LEAVE_S),
      standXFrac,
      enterFromLeft: r.chance(0.5),
      // Two people side by side stand a little further back to fit.
      nearFaceFrac: (inPair ? 0.19 : 0.23) * r.uniform(0.9, 1.1),
      yawDuringDwellDeg: r.gaussian(0, 5),
      drinkSide: r.chance(0.5) ? -1 : 1,
    };
  }

  #pose(p: PersonPlan, timeS: number): { cx: number; cy: number; faceWidthPx: number; yawDeg: number } {
    const w = this.width;
    const h = this.height;
    const nearPx = p.nearFaceFrac * w;
    const farPx = nearPx * 0.4;
    const standX = p.standXFrac * w;
    const entryX = p.enterFromLeft ? standX - 0.25 * w : standX + 0.25 * w;
    const exitX = p.enterFromLeft ? w + nearPx : -nearPx;
    let faceWidthPx: number;
    let cx: number;
    let yawDeg: number;
    if (timeS < p.dwellStartS) {
      const s = smooth((timeS - p.arriveS) / APPROACH_S);
      faceWidthPx = farPx + (nearPx - farPx) * s;
      cx = entryX + (standX - entryX) * s;
      yawDeg = (1 - s) * (p.enterFromLeft ? 25 : -25) + s * p.yawDuringDwellDeg;
    } else if (timeS <= p.dwellEndS) {
      faceWidthPx = nearPx;
      cx = standX + Math.sin((timeS - p.dwellStartS) * 1.3) * 0.004 * w;
      yawDeg = p.yawDuringDwellDeg;
    } else {
      const s = smooth((timeS - p.dwellEndS) / LEAVE_S);
      faceWidthPx = nearPx * (1 - 0.1 * s);
      cx = standX + (exitX - standX) * s;
      yawDeg = p.yawDuringDwellDeg + s * (p.enterFromLeft ? -60 : 60);
    }
    // Nearer faces sit lower in the image (camera above eye level looking slightly down).
    const cy = h * (0.3 + 0.12 * (faceWidthPx / (0.23 * w)));
    return { cx, cy, faceWidthPx, yawDeg };
  }

  #drawPerson(
    img: Float32Array,
    p: PersonPlan,
    pose: { cx: number; cy: number; faceWidthPx: number; yawDeg: number },
  ): FacePresence | null {
    const { cx, cy, faceWidthPx: fw, yawDeg } = pose;
    const w = this.width;
    const h = this.height;
    const fh = fw * 1.3;
    const amb = this.ambientC;
    const eps = this.#options.skinEmissivity;
    // What the sensor sees of skin: emitted plus reflected room radiance.
    const skin = (trueC: number) => apparentTemperature(trueC, eps, amb);
    const canthus = p.canthusC;
    const clothingC = amb + 5.5;
    const hairC = amb + 4.5;

    // Torso and shoulders.
    const shoulderTop = cy + fh * 0.75;
    const torsoHalf = fw * 1.35;
    fillRect(img, w, h, cx - torsoHalf, shoulderTop, cx + torsoHalf, h, clothingC);
    // Neck skin.
    fillRect(img, w, h, cx - fw * 0.28, cy + fh * 0.4, cx + fw * 0.28, shoulderTop + 1, skin(canthus - 2.6));

    const yawShift = Math.sin((yawDeg * Math.PI) / 180);
    const x0 = Math.max(0, Math.floor(cx - fw * 0.62));
    const x1 = Math.min(w - 1, Math.ceil(cx + fw * 0.62));
    const y0 = Math.max(0, Math.floor(cy - fh * 0.62));
    const y1 = Math.min(h - 1, Math.ceil(cy + fh * 0.55));
    const canthusRadius = Math.max(0.9, fw * 0.035);
    const canthusU = 0.2;
    const canthusV = -0.14;
    const eyeU = 0.36;
    const farEyeHidden = Math.abs(yawDeg) > 28;
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        // Face-normalised coordinates: u across (−1..1 over the face width), v down (−1..1 over its height).
        const u = (x + 0.5 - cx) / (fw / 2);
        const v = (y + 0.5 - cy) / (fh / 2);
        const headR = (u / 1.12) ** 2 + ((v + 0.05) / 1.1) ** 2;
        if (headR > 1) continue;
        const fu = u - yawShift * 0.6; // features move across the face as the head turns
        let t: number;
        if (v < -0.78 || Math.abs(u) > 1.0 || (v < -0.55 && Math.abs(u) > 0.8)) {
          t = hairC;
        } else if (p.hat && v < -0.5) {
          t = amb + 2.5;
        } else {
          // Skin: cheeks and sides cooler, forehead warm, nose cold.
          t = canthus - 1.7 - 0.9 * fu * fu;
          if (v < -0.3) t = canthus - 0.75 - 0.6 * fu * fu;
          t -= 1.6 * Math.exp(-((fu / 0.16) ** 2 + ((v - 0.18) / 0.22) ** 2));
          t -= 0.8 * Math.exp(-((fu / 0.3) ** 2 + ((v - 0.52) / 0.1) ** 2)); // mouth
          // Eye sockets warm towards the inner corner.
          for (const side of [-1, 1]) {
            const du = fu - side * eyeU;
            const dv = v - canthusV;
            t = Math.max(t, canthus - 0.55 - 2.5 * (du * du + dv * dv * 2));
          }
          if (p.glasses) {
            for (const side of [-1, 1]) {
              const du = (fu - side * 0.33) / 0.27;
              const dv = (v - canthusV) / 0.16;
              if (du * du + dv * dv <= 1 || (Math.abs(fu) < 0.08 && Math.abs(v - canthusV + 0.06) < 0.05)) {
                t = amb + 3; // glass is opaque in LWIR: it shows its own, cool temperature
              }
            }
          }
        }
        img[y * w + x] = skin(t);
      }
    }

    // Inner canthi: a small plateau at the canthus temperature, the hottest spot of the face.
    const canthi: [Point | null, Point | null] = [null, null];
    if (!p.glasses) {
      for (const [k, side] of [
        [0, -1],
        [1, 1],
      ] as const) {
        const hidden = farEyeHidden && Math.sign(yawDeg) === -side;
        if (hidden) continue;
        const px = cx + (side * canthusU + yawShift * 0.6) * (fw / 2);
        const py = cy + canthusV * (fh / 2);
        if (px < 0 || py < 0 || px >= w || py >= h) continue;
        canthi[k] = { x: round3(px), y: round3(py) };
        const r0 = canthusRadius;
        for (let y = Math.floor(py - r0 - 2); y <= Math.ceil(py + r0 + 2); y++) {
          for (let x = Math.floor(px - r0 - 2); x <= Math.ceil(px + r0 + 2); x++) {
            if (x < 0 || y < 0 || x >= w || y >= h) continue;
            const d = Math.hypot(x + 0.5 - px, y + 0.5 - py);
            const t = d <= r0 ? canthus : canthus - 0.35 * (d - r0) ** 2;
            const i = y * w + x;
            img[i] = Math.max(img[i], skin(t));
          }
        }
      }
    }

    if (p.drink) {
      // A hot cup held at chest height beside the face.
      const cupX = cx + p.drinkSide * fw * 0.9;
      const cupY = cy + fh * 0.95;
      fillRect(
        img,
        w,
        h,
        cupX - fw * 0.16,
        cupY,
        cupX + fw * 0.16,
        cupY + fw * 0.42,
        apparentTemperature(58, 0.95, amb),
      );
      fillRect(img, w, h, cupX - fw * 0.2, cupY + fw * 0.3, cupX + fw * 0.2, cupY + fw * 0.55, skin(33));
    }

    const box: Box = [round3(cx - fw / 2), round3(cy - fh / 2), round3(fw), round3(fh)];
    if (box[0] + box[2] <= 0 || box[0] >= w || box[1] + box[3] <= 0 || box[1] >= h) return null;
    const focalPx = w / 2 / Math.tan(((HFOV_DEG / 2) * Math.PI) / 180);
    return {
      personId: p.personId,
      faceBox: box,
      canthi,
      yawDeg: round3(yawDeg),
      atMeasurementPoint: pose.faceWidthPx >= p.nearFaceFrac * w - 1e-9 && Math.abs(yawDeg) < 20,
      distanceM: round3((FACE_WIDTH_M * focalPx) / fw),
    };
  }

  #drawBlackbody(img: Float32Array, bb: { setpointC: number; emissivity: number; box: Box }): void {
    const [bx, by, bw, bh] = bb.box;
    const apparent = apparentTemperature(bb.setpointC, bb.emissivity, this.ambientC);
    // Housing slightly warmer than the room around the radiating surface.
    fillRect(img, this.width, this.height, bx - 2, by - 2, bx + bw + 2, by + bh + 2, this.ambientC + 3);
    fillRect(img, this.width, this.height, bx, by, bx + bw, by + bh, apparent);
  }

  #renderBackground(r: SeededRandom): Float32Array {
    const { width: w, height: h } = this;
    const amb = this.ambientC;
    const bg = new Float32Array(w * h);
    const tiltC = r.uniform(-0.8, 0.8);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        // Walls near room temperature, a little warmer towards the ceiling, a door frame darker.
        bg[y * w + x] = amb - 1 + tiltC * (x / w - 0.5) + 0.8 * (1 - y / h);
      }
    }
    // A radiator on the left wall: warm, uniform, rectangular — not a face.
    fillRect(bg, w, h, w * 0.02, h * 0.62, w * 0.12, h * 0.9, amb + 22);
    return bg;
  }
}

/** Where the blackbody stands in the image unless configured: right edge, faces' height. */
export function defaultBlackbodyBox(width: number, height: number): Box {
  const side = Math.max(8, Math.round(width * 0.09));
  return [width - side - Math.round(width * 0.03), Math.round(height * 0.3), side, side];
}

/** Where a second blackbody stands unless configured: below the first, same size. */
export function defaultSecondBlackbodyBox(width: number, height: number): Box {
  const [x, y, side] = defaultBlackbodyBox(width, height);
  return [x, y + side + Math.max(6, Math.round(height * 0.08)), side, side];
}

function fillRect(
  img: Float32Array,
  w: number,
  h: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  value: number,
): void {
  const xa = Math.max(0, Math.round(x0));
  const xb = Math.min(w, Math.round(x1));
  const ya = Math.max(0, Math.round(y0));
  const yb = Math.min(h, Math.round(y1));
  for (let y = ya; y < yb; y++) img.fill(value, y * w + xa, y * w + xb);
}

function smooth(s: number): number {
  const c = Math.min(1, Math.max(0, s));
  return c * c * (3 - 2 * c);
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
