import { describe, expect, it } from 'vitest';
import type { Box, Region, ThermalFrame } from '../../appliance/core/types.ts';
import { findReferenceHousing, onReferenceHousing } from '../../appliance/screening/referenceHousing.ts';
import { scriptedFace, stageWithEvents } from '../helpers/screeningConfig.ts';

const W = 120;
const H = 160;
/** The disc's bounding box (r ≈ 5 px at 9.7, 152.9), as a portrait kiosk has it in the bottom-left corner. */
const DISC: Region = { x: 4, y: 147, width: 11, height: 11 };
const HOUSING: Box = [0, 110, 24, 50];

/** A kiosk scene: room at 30.7 °C with noise, the housing 1.5 °C warmer (its top part 2.3), the disc at 37. */
function kioskScene(options: { housing?: boolean; personTouching?: boolean } = {}): Float32Array {
  const c = new Float32Array(W * H);
  let seed = 7;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return (seed / 2 ** 31 - 0.5) * 0.3;
  };
  for (let i = 0; i < c.length; i++) c[i] = 30.7 + noise();
  const fill = ([x, y, w, h]: Box, value: number) => {
    for (let yy = y; yy < y + h; yy++) for (let xx = x; xx < x + w; xx++) c[yy * W + xx] = value + noise();
  };
  if (options.housing !== false) {
    fill(HOUSING, 32.2);
    fill([0, 110, 24, 20], 33);
  }
  // A person's shoulder and arm, warm clothing, leaning on the housing.
  if (options.personTouching) fill([24, 100, 30, 60], 33.5);
  for (let y = DISC.y; y < DISC.y + DISC.height; y++)
    for (let x = DISC.x; x < DISC.x + DISC.width; x++)
      if ((x + 0.5 - 9.7) ** 2 + (y + 0.5 - 152.9) ** 2 <= 25) c[y * W + x] = 37;
  return c;
}

describe('the reference housing', () => {
  it('is the warm object round the disc, found from the disc outwards; a box on it is the housing, a face beside it is not', () => {
    const result = findReferenceHousing(kioskScene(), W, H, DISC);
    expect(result.found).not.toBeNull();
    const housing = result.found!;
    // The whole housing, 4 disc diameters above the disc too — not only the disc's surroundings.
    expect(housing.box).toEqual(HOUSING);
    // The detector's box on the housing in a kiosk clip, and a face at the measurement point.
    expect(onReferenceHousing([0, 113, 23, 29], housing)).toBe(true);
    expect(onReferenceHousing([64, 77, 36, 53], housing)).toBe(false);
    // A face only touching the housing's side keeps its box.
    expect(onReferenceHousing([14, 80, 36, 48], housing)).toBe(false);
  });

  it('is refused while a person touches it (the fill would run into them), and when it is no warmer than the room', () => {
    expect(findReferenceHousing(kioskScene({ personTouching: true }), W, H, DISC)).toEqual({
      found: null,
      reason: 'leaked',
    });
    expect(findReferenceHousing(kioskScene({ housing: false }), W, H, DISC)).toEqual({
      found: null,
      reason: 'no-contrast',
    });
  });

  it('a face-like box on the housing never becomes a person; it is looked for again once the person beside it left', () => {
    const run = (scenes: Float32Array[]) => {
      const { stage, events } = stageWithEvents({
        measurableFacePx: 26,
        // The detector boxes the housing in every frame (as it did on a kiosk clip at a lower size gate).
        detectFaces: () => [scriptedFace([0, 113, 23, 29], 0.67)],
        measure: (_frame, face) => ({
          canthusC: 33.2,
          faceMaxC: 33.3,
          foreheadC: null,
          pixelsAcrossFace: face.box[2],
          yawDeg: 0,
          flags: [],
        }),
        tracker: { rejoinWithinMs: 0 },
      });
      scenes.forEach((celsius, seq) => {
        const frame: ThermalFrame = {
          cameraId: 'cam',
          seq,
          capturedAt: 1_000_000 + seq * 114,
          width: W,
          height: H,
          celsius,
          reference: {
            state: 'stable',
            reason: 'stable',
            measuredC: 37,
            setpointC: 37,
            offsetC: 0,
            noiseC: 0.05,
            gain: 1,
          },
          flatField: false,
          reflectedC: 22,
          referenceRegion: DISC,
          calibrationId: null,
        };
        stage.process(frame);
      });
      stage.flush(1_000_000 + scenes.length * 114);
      return events.filter((e) => e.kind === 'end');
    };
    expect(run(Array.from({ length: 40 }, () => kioskScene()))).toEqual([]);
    // Without the housing's warmth (found: nothing to exclude) the same boxes are a person.
    expect(run(Array.from({ length: 40 }, () => kioskScene({ housing: false })))).toHaveLength(1);
    // A person leaning on the housing at first: not found then, found once they stepped away; the box
    // on the housing is a person only while the housing is unknown: it is looked for once a second, so
    // at most a second after they left.
    const leaning = [
      ...Array.from({ length: 20 }, () => kioskScene({ personTouching: true })),
      ...Array.from({ length: 40 }, () => kioskScene()),
    ];
    const ends = run(leaning);
    expect(ends).toHaveLength(1);
    expect(ends[0].lastSeq).toBeGreaterThanOrEqual(19);
    expect(ends[0].lastSeq).toBeLessThan(20 + 9);
  });
});
