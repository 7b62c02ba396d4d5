/**
 * Busy simulated entrances (0, 2 or 6 people in view, a hot drink, a ceiling lamp, the radiator and the
 * blackbody), composited from the simulator's own people: used by bench:detection and the bench suite.
 * Person pixels are what a seeded entrance renders over its empty background (same seed, `people: 0`);
 * they are pasted, shifted sideways, far ones first, onto an empty entrance, then the profile's NETD
 * noise is added.
 */
import { SeededRandom } from '../../appliance/camera/simulator/random.ts';
import { SimulatedEntrance } from '../../appliance/camera/simulator/scene.ts';
import type { CameraProfile } from '../../appliance/core/cameraProfile.ts';
import type { Box } from '../../appliance/core/types.ts';

/** One person as the simulator drew them: the pixels that differ from the empty entrance. */
export interface PersonSprite {
  /** Indices into the frame and their °C values. */
  index: Int32Array;
  value: Float32Array;
  faceBox: Box;
}

/** People cut out of seeded simulator runs: walking in, at the measurement point, leaving. */
export function collectSprites(profile: CameraProfile, count: number): PersonSprite[] {
  const sprites: PersonSprite[] = [];
  const { width, height } = profile;
  for (let seed = 1; sprites.length < count && seed < 200; seed++) {
    const scene = new SimulatedEntrance({ profile, seed, people: 2, pairRate: 0, flatField: null });
    const empty = new SimulatedEntrance({ profile, seed, people: 0, flatField: null }).render(0).apparentC;
    // Frames spread over the first person's visit (arrival at 1 s, ≈ 9 s in view).
    const wanted = new Set([1.6, 2.6, 4.2, 5.5, 7.4].map((s) => Math.round(s * profile.fps)));
    const last = Math.max(...wanted);
    for (let i = 0; i <= last && sprites.length < count; i++) {
      const { apparentC, truth } = scene.render(i);
      if (!wanted.has(i) || truth.faces.length !== 1) continue;
      const idx: number[] = [];
      for (let p = 0; p < width * height; p++) if (apparentC[p] !== empty[p]) idx.push(p);
      sprites.push({
        index: Int32Array.from(idx),
        value: Float32Array.from(idx, (p) => apparentC[p]),
        faceBox: truth.faces[0].faceBox,
      });
    }
  }
  return sprites;
}

/** Busy entrance frames: `people` sprites spread across the frame, a hot drink and a lamp, noise. */
export function busyFrames(
  profile: CameraProfile,
  sprites: PersonSprite[],
  people: number,
  frames: number,
  seed: number,
  /** The same people, drink and lamp in every frame (only the noise changes): what a tracker sees. */
  still = false,
): Float32Array[] {
  const { width: w, height: h } = profile;
  const base = new SimulatedEntrance({ profile, seed: 999, people: 0, flatField: null }).render(0).apparentC;
  const r = new SeededRandom(seed);
  const out: Float32Array[] = [];
  // Near people (at the measurement point) are wide: at most two of them, the rest further away.
  const bySize = [...sprites].sort((a, b) => a.faceBox[2] - b.faceBox[2]);
  const far = bySize.slice(0, Math.ceil(bySize.length / 2));
  const near = bySize.slice(far.length);
  const pick = (from: PersonSprite[]) => from[Math.floor(r.next() * from.length)];
  let composite: Float32Array | null = null;
  for (let f = 0; f < frames; f++) {
    if (still && composite) {
      const frame = Float32Array.from(composite);
      for (let i = 0; i < frame.length; i++) frame[i] += r.gaussian(0, profile.netdC);
      out.push(frame);
      continue;
    }
    const frame = Float32Array.from(base);
    const chosen = Array.from({ length: people }, (_, k) => (k < 2 ? pick(near) : pick(far)));
    // Far (small) people first so nearer ones cover them, as in the simulator.
    chosen.sort((a, b) => a.faceBox[2] - b.faceBox[2]);
    chosen.forEach((s, k) => {
      const targetX = ((k + 0.5) / people) * w + r.uniform(-0.04, 0.04) * w;
      const dx = Math.round(targetX - (s.faceBox[0] + s.faceBox[2] / 2));
      for (let j = 0; j < s.index.length; j++) {
        const p = s.index[j];
        const x = (p % w) + dx;
        if (x >= 0 && x < w) frame[p - (p % w) + x] = s.value[j];
      }
    });
    const u = Math.max(1, Math.round(w / 64));
    // A hot drink held in a hand at chest height, a ceiling lamp with its warm fitting.
    const cupX = Math.round(r.uniform(0.1, 0.85) * w);
    const cupY = Math.round(r.uniform(0.55, 0.75) * h);
    fill(frame, w, h, cupX - u, cupY + 2 * u, 4 * u, 3 * u, 33);
    fill(frame, w, h, cupX, cupY, 2 * u, 4 * u, 58);
    const lampX = Math.round(r.uniform(0.2, 0.8) * w);
    disc(frame, w, h, lampX, Math.round(0.04 * h), 3 * u, 30);
    disc(frame, w, h, lampX, Math.round(0.04 * h), 1.6 * u, 70);
    if (still) composite = Float32Array.from(frame);
    for (let i = 0; i < frame.length; i++) frame[i] += r.gaussian(0, profile.netdC);
    out.push(frame);
  }
  return out;
}

function fill(
  img: Float32Array,
  w: number,
  h: number,
  x0: number,
  y0: number,
  rw: number,
  rh: number,
  v: number,
) {
  for (let y = Math.max(0, y0); y < Math.min(h, y0 + rh); y++)
    for (let x = Math.max(0, x0); x < Math.min(w, x0 + rw); x++) img[y * w + x] = v;
}

function disc(img: Float32Array, w: number, h: number, cx: number, cy: number, rad: number, v: number) {
  for (let y = Math.max(0, Math.floor(cy - rad)); y <= Math.min(h - 1, Math.ceil(cy + rad)); y++)
    for (let x = Math.max(0, Math.floor(cx - rad)); x <= Math.min(w - 1, Math.ceil(cx + rad)); x++)
      if ((x - cx) ** 2 + (y - cy) ** 2 <= rad * rad) img[y * w + x] = v;
}
