/**
 * The thermal face detector's rules, each pinned on a synthetic frame built here (test/helpers/
 * thermalScene.ts): every test fails when its rule is removed or broken. docs/thermal-face-detection.md
 * ("How the rules are tested") lists rule → test → how it was shown to fail.
 */
import { describe, expect, it } from 'vitest';
import type { Face } from '../../appliance/core/types.ts';
import { coveredCanthi, coveredUpperFace } from '../../appliance/detection/thermalCanthi.ts';
import { HOT_OBJECT_C } from '../../appliance/detection/thermalFaces.ts';
import { measureFace } from '../../appliance/screening/measure.ts';
import { iou } from '../../appliance/tracking/personTracker.ts';
import {
  detectPainted as detect,
  type HeadOptions,
  PAINTED_MEASURE as MEASURE,
  type PaintedHead,
  ThermalScene,
} from '../helpers/thermalScene.ts';

/** One person in a room, with NETD noise; the frame is sized to hold them with their shoulders. */
function onePerson(faceWidth: number, o: HeadOptions = {}, seed = 1) {
  const width = Math.max(200, Math.round(faceWidth * 3.2));
  const height = Math.round(width * 0.9);
  const scene = new ThermalScene(width, height, 21, seed);
  const head = scene.head(width / 2, faceWidth * 0.8 + 8, faceWidth, o);
  scene.noise();
  return { scene, head };
}

/** The detections that box the painted face (IoU ≥ 0.5). */
function on(faces: Face[], head: PaintedHead): Face[] {
  return faces.filter((f) => iou(f.box, head.face) >= 0.5);
}

describe('head, not body', () => {
  it('boxes the head of a person whose warm neck widens smoothly into the torso, not head and chest', () => {
    for (const [fw, seed] of [
      [28, 1],
      [32, 2],
      [36, 3],
    ]) {
      const { scene, head } = onePerson(fw, { body: 'warm-torso' }, seed);
      const faces = detect(scene, 20);
      expect(faces, `${fw} px, seed ${seed}`).toHaveLength(1);
      expect(iou(faces[0].box, head.face), `${fw} px, seed ${seed}`).toBeGreaterThanOrEqual(0.6);
      expect(faces[0].box[3], 'box height vs the head').toBeLessThanOrEqual(1.3 * head.face[3]);
    }
  });
});

describe('faint and flat is an object', () => {
  it('a warm housing 1.5–1.9 °C above a warm room, nearly uniform, is no face; a face of its size there is', () => {
    // 18 px: below 20 px the eye gate does not apply, so only this rule tells a housing from a face.
    // (The painted housing falls 1.2 °C top to bottom: its SD on the work grid stays under 0.35 °C, as
    // the kiosks' housings' 0.2–0.3 °C; a 16 px one reads SD ≈ 0.39 and is a face — see the doc.)
    for (const [deltaC, seed] of [
      [1.5, 1],
      [1.7, 2],
      [1.9, 3],
    ]) {
      const scene = new ThermalScene(160, 120, 26, seed);
      scene.flatBlob(60, 50, 18, 20, deltaC, 1.2);
      scene.noise();
      expect(detect(scene, 20), `housing ${deltaC} °C over the room, seed ${seed}`).toEqual([]);
    }
    const scene = new ThermalScene(160, 120, 26, 4);
    scene.flatBlob(40, 50, 18, 20, 1.7, 1.2);
    const head = scene.head(110, 40, 18);
    scene.noise();
    const faces = detect(scene, 20);
    expect(faces).toHaveLength(1);
    expect(on(faces, head)).toHaveLength(1);
  });
});

describe('a head sits on its body', () => {
  it('a smaller, weaker face-like blob on the shoulder (its top below the chin) is not a second face', () => {
    for (const seed of [1, 2]) {
      const scene = new ThermalScene(200, 180, 21, seed);
      const face = scene.head(90, 50, 48);
      // Beside the chin, over the shoulder: a hand or a bare shoulder that reads as a 26 px face.
      const blob = scene.head(90 + 40, face.face[1] + face.face[3] + 18, 26, {
        skinC: 33,
        body: 'none',
        canthi: 'right',
      });
      scene.noise();
      const faces = detect(scene, 20);
      expect(faces, `seed ${seed}`).toHaveLength(1);
      expect(on(faces, face)).toHaveLength(1);
      // The blob alone (no face above it) is a face: only the face above makes it a body part.
      const alone = new ThermalScene(200, 180, 21, seed);
      const only = alone.head(130, blob.face[1] + blob.face[3] / 2, 26, {
        skinC: 33,
        body: 'none',
        canthi: 'right',
      });
      alone.noise();
      expect(on(detect(alone, 20), only), `seed ${seed}: the blob alone`).toHaveLength(1);
    }
  });

  it('a face-like blob right below the chin, not clearly larger (a bare chest, a V-neck), is not a second face', () => {
    for (const seed of [1, 2]) {
      const scene = new ThermalScene(200, 200, 21, seed);
      const face = scene.head(100, 40, 40, { body: 'none' });
      // As wide as the face and centred under it (so not the "smaller blob on the shoulder" rule).
      const chest = scene.head(100, face.face[1] + face.face[3] + 28, 40, { body: 'none', canthi: 'right' });
      scene.noise();
      const faces = detect(scene, 20);
      expect(faces, `seed ${seed}`).toHaveLength(1);
      expect(on(faces, face)).toHaveLength(1);
      // The same blob with nothing above it is a face.
      const alone = new ThermalScene(200, 200, 21, seed);
      const only = alone.head(100, chest.face[1] + chest.face[3] / 2, 40, { body: 'none', canthi: 'right' });
      alone.noise();
      expect(on(detect(alone, 20), only), `seed ${seed}: the blob alone`).toHaveLength(1);
    }
  });
});

describe('one canthus', () => {
  it('a mirror-symmetric 32–47 px face that shows one canthus is a face', () => {
    for (const fw of [34, 40, 46]) {
      const { scene, head } = onePerson(fw, { canthi: 'right' }, fw);
      expect(on(detect(scene, 20), head), `${fw} px`).toHaveLength(1);
    }
  });

  it('a lopsided blob with one warm spot is not a face', () => {
    for (const fw of [30, 33, 36]) {
      const { scene } = onePerson(fw, { canthi: 'right', lopsided: true }, fw);
      expect(detect(scene, 20), `${fw} px`).toEqual([]);
    }
  });

  it('from 48 px one canthus is not enough: the pair (or glasses) is required', () => {
    for (const fw of [50, 60]) {
      const { scene } = onePerson(fw, { canthi: 'right' }, fw);
      expect(detect(scene, 20), `${fw} px`).toEqual([]);
    }
  });
});

describe('glasses', () => {
  it('finds a face with glasses whose box holds the hair above the forehead (eyes low in the box), without canthi', () => {
    // The box reaches up into the hair: the eyes sit at ≈ 0.6 of its height, below the usual eye band.
    for (const [eyeLevel, seed] of [
      [0.36, 56],
      [0.45, 7],
    ]) {
      const { scene, head } = onePerson(56, { glasses: true, eyeLevel }, seed);
      const faces = on(detect(scene, 20), head);
      expect(faces, `eyes at ${eyeLevel} of the face`).toHaveLength(1);
      const eyesInBox = (head.eyes[0].y - faces[0].box[1]) / faces[0].box[3];
      expect(eyesInBox, 'eyes below the usual band (32–48 % of the box)').toBeGreaterThan(0.5);
      expect(faces[0].keypoints.rightCanthus ?? null).toBeNull();
      expect(faces[0].keypoints.leftCanthus ?? null).toBeNull();
    }
  });

  it('cold lenses: the measurement says eyes obstructed and reads no canthus', () => {
    const { scene, head } = onePerson(56, { glasses: true }, 5);
    const faces = on(detect(scene, 20), head);
    expect(faces).toHaveLength(1);
    const m = measureFace(scene, faces[0], MEASURE);
    expect(m.flags).toContain('eyes-obstructed');
    expect(m.canthusC).toBeNull();
  });
});

describe('eyes covered (coveredCanthi): the "canthi" are skin at the edge of eyewear', () => {
  /** A bare 60 px face and its two canthus spots (value = the painted canthus, 35.6 °C). */
  function bareFace(seed = 1) {
    const scene = new ThermalScene(200, 180, 21, seed);
    const head = scene.head(100, 60, 60, { canthusC: 35.6 });
    const spots = head.canthi.map((point) => ({ point, value: 35.6 }));
    return { scene, head, spots, fw: 60 };
  }
  /** Cold eyewear across both eyes from `fromY` to `toY` (°C `c`), bridge included. */
  const band = (scene: ThermalScene, head: PaintedHead, fromY: number, toY: number, c: number) =>
    scene.rect(head.face[0] + 4, fromY, head.face[2] - 8, toY - fromY, c);

  it('skin right below cold lenses (≥ 3 °C colder right above both spots) is covered; 2.5 °C colder is not', () => {
    const { scene, head, spots, fw } = bareFace();
    const y = spots[0].point.y;
    band(scene, head, y - 0.2 * fw, y - 0.04 * fw, 35.6 - 3.5);
    expect(coveredCanthi(scene.celsius, scene.width, scene.height, head.face, spots)).toMatchObject({
      above: true,
    });
    const mild = bareFace();
    band(mild.scene, mild.head, y - 0.2 * fw, y - 0.04 * fw, 35.6 - 2.5);
    expect(
      coveredCanthi(mild.scene.celsius, mild.scene.width, mild.scene.height, mild.head.face, spots),
    ).toBeNull();
  });

  it('skin right above cold lenses (between a brim and the lenses) is covered too', () => {
    const { scene, head, spots, fw } = bareFace();
    const y = spots[0].point.y;
    band(scene, head, y + 0.04 * fw, y + 0.2 * fw, 35.6 - 3.5);
    expect(coveredCanthi(scene.celsius, scene.width, scene.height, head.face, spots)).toMatchObject({
      above: false,
    });
  });

  it('two lenses with a warm nose bridge further above the spots (the box starts below them) are covered', () => {
    const { scene, head, spots, fw } = bareFace();
    const y = spots[0].point.y;
    const cx = head.face[0] + head.face[2] / 2;
    for (const side of [-1, 1])
      scene.rect(side < 0 ? cx - 0.38 * fw : cx + 0.05 * fw, y - 0.36 * fw, 0.33 * fw, 0.16 * fw, 30);
    expect(coveredCanthi(scene.celsius, scene.width, scene.height, head.face, spots)).toMatchObject({
      above: true,
    });
    // The same cold band without a warm bridge (a brim or hair, cold all across) is no eyewear.
    const brim = bareFace();
    band(brim.scene, brim.head, y - 0.36 * fw, y - 0.2 * fw, 30);
    expect(
      coveredCanthi(brim.scene.celsius, brim.scene.width, brim.scene.height, brim.head.face, spots),
    ).toBeNull();
  });

  it('a cap brim with sunglasses under it answers "glasses"; bare eyes under a cap are read', () => {
    // Cap and sunglasses make one cold band: the detector's box starts below the lenses (the kiosks'
    // boxes did), and its "canthi" are the warmest skin right under them. (measure.test.ts has the same
    // case hand-painted; here with the scene painter, beside the bare eyes under a cap.)
    const covered = onePerson(56, { cap: true, sunglasses: true }, 3);
    const lensBottom = covered.head.eyes[0].y + 56 * 0.1;
    const [fx, , fw] = covered.head.face;
    const chin = covered.head.face[1] + covered.head.face[3];
    // Skin by the nose just under the lenses' inner edge: the warmest spots left near the eyes.
    const cx = fx + fw / 2;
    for (const side of [-1, 1]) covered.scene.rect(cx + side * 0.1 * fw - 1, lensBottom + 1, 3, 3, 35.4);
    const below: Face = {
      box: [fx, Math.round(lensBottom), fw, Math.round(chin - lensBottom)],
      keypoints: {
        ...{ rightEye: null, leftEye: null, nose: null, mouth: null, rightEar: null, leftEar: null },
        // Where the detector put the canthi: those spots.
        rightCanthus: { x: cx - 0.1 * fw, y: lensBottom + 2 },
        leftCanthus: { x: cx + 0.1 * fw, y: lensBottom + 2 },
      },
      score: 1,
      from: 'thermal',
      frontal: true,
    };
    const m = measureFace(covered.scene, below, MEASURE);
    expect(m.flags).toContain('eyes-obstructed');
    expect(m.canthusC).toBeNull();
    // Bare eyes under a cap: found, not flagged, the canthus read.
    for (const seed of [1, 2]) {
      const { scene, head } = onePerson(56, { cap: true }, seed);
      const faces = on(detect(scene, 20), head);
      expect(faces, `seed ${seed}`).toHaveLength(1);
      const bare = measureFace(scene, faces[0], MEASURE);
      expect(bare.flags, `seed ${seed}`).not.toContain('eyes-obstructed');
      expect(bare.canthusC, `seed ${seed}`).toBeCloseTo(35.6, 0);
    }
  });
});

describe('eyewear in a warm room: lenses only a few degrees colder than the skin', () => {
  /** A person in a 26 °C room (skin 34 °C, inner canthi 35.6 °C), with NETD noise. */
  function warmRoom(faceWidth: number, o: HeadOptions, seed: number) {
    const width = Math.max(200, Math.round(faceWidth * 3.2));
    const scene = new ThermalScene(width, Math.round(width * 0.9), 26, seed);
    const head = scene.head(width / 2, faceWidth * 0.8 + 8, faceWidth, o);
    scene.noise();
    return { scene, head };
  }

  it('bare eyes at kiosk sizes are read, not taken for eyewear', () => {
    // What a fix of the gap below must keep: in a warm room the lids and brows are barely colder than
    // the canthi either.
    for (const fw of [28, 36, 44, 56])
      for (const o of [{}, { cap: true }] as HeadOptions[]) {
        const { scene, head } = warmRoom(fw, o, 1);
        // Under a cap the box starts at the brim (not the painted hairline): every box is this face.
        const faces = o.cap ? detect(scene, 20) : on(detect(scene, 20), head);
        expect(faces, `${fw} px ${JSON.stringify(o)}`).toHaveLength(1);
        const m = measureFace(scene, faces[0], MEASURE);
        expect(m.flags, `${fw} px ${JSON.stringify(o)}`).not.toContain('eyes-obstructed');
        expect(m.canthusC, `${fw} px ${JSON.stringify(o)}`).toBeCloseTo(35.6, 0);
      }
  });

  it('glasses and sunglasses whose lenses read 2 °C below the skin (hair above barely warmer): eyes obstructed', () => {
    // The box holds the hair above the forehead, so the glasses test also looks lower in the box; there
    // the skin above the band was the box's forehead region — hair, in a warm room barely warmer than
    // the lenses. The forehead skin right above the lenses is (`locateCanthi`, the strip above the band).
    // Without it the "canthus" read is that forehead skin, ≈ 1.3 °C below the painted canthi.
    for (const fw of [28, 36, 44])
      for (const o of [{ glasses: true }, { sunglasses: true }] as HeadOptions[])
        for (const seed of [1, 2]) {
          const what = `${fw} px ${JSON.stringify(o)} seed ${seed}`;
          const { scene, head } = warmRoom(fw, { ...o, lensC: 32 }, seed);
          const faces = on(detect(scene, 20), head);
          expect(faces, what).toHaveLength(1);
          const m = measureFace(scene, faces[0], MEASURE);
          expect(m.flags, what).toContain('eyes-obstructed');
          expect(m.canthusC, what).toBeNull();
        }
  });

  // A cap and sunglasses that read as one cold block (lenses 1–3 °C below the skin, the cap as cold): the
  // box starts at the cap, no canthus shows, and the glasses tests that want warm skin above the lenses
  // find the cap. `coveredUpperFace` (thermalCanthi.ts) says why there is no reading: the visitor is told
  // to remove the glasses, not to look at the camera. (Still open, docs/kiosk-clips.md: a box that starts
  // below such a block can read the upper cheek as the canthus.)
  it('sunglasses under a cap, lenses 1–3 °C below the skin: eyes obstructed, no reading', () => {
    for (const fw of [28, 36, 44, 56])
      for (const lensC of [31, 32])
        for (const seed of [1, 2]) {
          const what = `${fw} px, lenses ${lensC} °C, seed ${seed}`;
          const { scene } = warmRoom(fw, { cap: true, sunglasses: true, lensC }, seed);
          const faces = detect(scene, 20);
          expect(faces, what).toHaveLength(1);
          const m = measureFace(scene, faces[0], MEASURE);
          expect(m.flags, what).toContain('eyes-obstructed');
          expect(m.canthusC, what).toBeNull();
        }
  });

  it('coveredUpperFace answers only for eyes covered from the top of the box down', () => {
    // Glasses under a bare forehead are the glasses test's case (warm skin above the lenses), bare eyes
    // under a cap are no cover: both null. The cap-and-sunglasses block: found.
    for (const fw of [28, 44])
      for (const seed of [1, 2]) {
        const cover = (o: HeadOptions) => {
          const { scene } = warmRoom(fw, { ...o, lensC: 31 }, seed);
          return coveredUpperFace(scene.celsius, scene.width, scene.height, detect(scene, 20)[0].box);
        };
        const what = `${fw} px, seed ${seed}`;
        expect(cover({ glasses: true }), `glasses, ${what}`).toBeNull();
        expect(cover({ sunglasses: true }), `sunglasses, ${what}`).toBeNull();
        expect(cover({ cap: true }), `cap, ${what}`).toBeNull();
        expect(cover({ cap: true, sunglasses: true }), `cap and sunglasses, ${what}`).not.toBeNull();
      }
  });
});

describe('hot objects', () => {
  it(`a head-shaped object at 44 °C (over HOT_OBJECT_C; canthus-like spots and all) is never a face`, () => {
    expect(44).toBeGreaterThan(HOT_OBJECT_C);
    for (const seed of [1, 2]) {
      const { scene } = onePerson(44, { skinC: 44 }, seed);
      expect(detect(scene, 20), `seed ${seed}`).toEqual([]);
    }
  });

  it('no box with more than 2 % of its pixels at ≥ HOT_OBJECT_C is a face (a hot drink at the mouth)', () => {
    // Only the head's part above the drink may still be reported (on some seeds it is).
    for (const [fw, seed] of [
      [36, 1],
      [44, 1],
      [56, 2],
    ]) {
      const scene = new ThermalScene(200, 180, 21, seed);
      const { face } = scene.head(100, fw * 0.8 + 8, fw);
      const cup = scene.hotObject(
        face[0] + face[2] * 0.35,
        face[1] + face[3] * 0.62,
        face[2] * 0.3,
        face[3] * 0.15,
        60,
      );
      scene.noise();
      for (const f of detect(scene, 20)) {
        const ix = Math.min(f.box[0] + f.box[2], cup[0] + cup[2]) - Math.max(f.box[0], cup[0]);
        const iy = Math.min(f.box[1] + f.box[3], cup[1] + cup[3]) - Math.max(f.box[1], cup[1]);
        const hotShare = (Math.max(0, ix) * Math.max(0, iy)) / (f.box[2] * f.box[3]);
        expect(hotShare, `${fw} px, seed ${seed}: box ${f.box.join(',')}`).toBeLessThanOrEqual(0.02);
      }
    }
  });

  it('a hot drink held beside a face does not spoil the face', () => {
    for (const seed of [1, 2]) {
      const scene = new ThermalScene(160, 120, 21, seed);
      const head = scene.head(70, 40, 36);
      const cup = scene.hotObject(105, 50, 12, 16, 60);
      scene.noise();
      const faces = detect(scene, 20);
      expect(faces, `seed ${seed}`).toHaveLength(1);
      expect(on(faces, head)).toHaveLength(1);
      expect(iou(faces[0].box, cup)).toBe(0);
    }
  });
});

describe('the reference is never a face', () => {
  it('a face-like box a third inside the housing around the excluded disc is dropped; one beside it is kept', () => {
    // The disc's box [34, 34, 12, 12] grown by EXCLUSION_MARGIN × 12 px on every side: x and y 22…58.
    for (const [cx, kept] of [
      [62, false],
      [84, true],
    ] as const) {
      const scene = new ThermalScene(160, 120, 21, 3);
      const disc = scene.referenceDisc(40, 40, 6);
      const head = scene.head(cx, 42, 24);
      scene.noise();
      // Without the exclusion both are faces (the test below passes only by the exclusion's margin).
      expect(on(detect(scene, 20), head), `face at x ${cx}, nothing excluded`).toHaveLength(1);
      expect(on(detect(scene, 20, [disc]), head), `face at x ${cx}, disc excluded`).toHaveLength(
        kept ? 1 : 0,
      );
    }
  });
});

describe('what else is never a face', () => {
  it('a head-shaped blob more than 4 °C cooler than the face beside it (a poster, clothing) is not a face', () => {
    for (const seed of [1, 2]) {
      const scene = new ThermalScene(200, 120, 21, seed);
      const face = scene.head(60, 40, 36);
      scene.head(140, 40, 36, { skinC: 29 });
      scene.noise();
      const faces = detect(scene, 20);
      expect(faces, `seed ${seed}`).toHaveLength(1);
      expect(on(faces, face)).toHaveLength(1);
      // Alone, the cooler head is a face: only the warmer face beside it makes it background.
      const alone = new ThermalScene(200, 120, 21, seed);
      const only = alone.head(140, 40, 36, { skinC: 29 });
      alone.noise();
      expect(on(detect(alone, 20), only), `seed ${seed}: the cooler head alone`).toHaveLength(1);
    }
  });

  it('in a scene whose warmest skin-like surface is below 27 °C there are no faces', () => {
    // A head-shaped object with face-like structure at 25 °C in a 15 °C store room (a mannequin in the
    // sun, a warm statue): no uncovered skin is that cold.
    for (const seed of [1, 2]) {
      const scene = new ThermalScene(200, 180, 15, seed);
      scene.head(100, 40, 40, { skinC: 25, canthusC: 26.2 });
      scene.noise();
      expect(detect(scene, 20), `seed ${seed}`).toEqual([]);
    }
  });
});

describe('minimum face size', () => {
  it('reports faces from 0.8 × minFacePx (the box may be a little tight), none smaller', () => {
    // The detector looks for heads from 0.8 × minFacePx wide (its work grid's smallest outline): a face
    // of minFacePx whose box came out a few pixels narrow is still found. Below that, nothing; a reading
    // needs the camera profile's minFacePx anyway (the measurement's too-far flag).
    for (const seed of [1, 2]) {
      const small = onePerson(22, {}, seed);
      expect(detect(small.scene, 30), `22 px face, min 30, seed ${seed}`).toEqual([]);
      for (const fw of [24, 30]) {
        const { scene, head } = onePerson(fw, {}, seed);
        expect(on(detect(scene, 30), head), `${fw} px face, min 30, seed ${seed}`).toHaveLength(1);
      }
    }
  });
});

describe('box placement', () => {
  it('boxes the painted face at IoU ≥ 0.5 from 20 to 120 px, its sides on the sides of the face', () => {
    for (const fw of [20, 24, 28, 32, 40, 48, 56, 64, 80, 100, 120]) {
      const { scene, head } = onePerson(fw, {}, fw);
      const minFacePx = Math.min(40, Math.max(12, Math.floor(fw * 0.8)));
      const faces = detect(scene, minFacePx);
      expect(faces, `${fw} px`).toHaveLength(1);
      const [x, y, w, h] = faces[0].box;
      const [tx, ty, tw, th] = head.face;
      expect(iou(faces[0].box, head.face), `${fw} px`).toBeGreaterThanOrEqual(0.5);
      // IoU ≥ 0.5 still holds with 15 % of slack on every side; the sides are known much better (the
      // skin's edge is sharp): within 1.5 px or 2 % of the width, on every work grid.
      const sideSlack = Math.max(1.5, 0.02 * fw);
      expect(Math.abs(x - tx), `${fw} px: left side`).toBeLessThanOrEqual(sideSlack);
      expect(Math.abs(x + w - (tx + tw)), `${fw} px: right side`).toBeLessThanOrEqual(sideSlack);
      // The top at the hairline or up in the hair; the bottom not below the chin.
      expect((y - ty) / th, `${fw} px: top`).toBeGreaterThanOrEqual(-0.3);
      expect((y - ty) / th, `${fw} px: top`).toBeLessThanOrEqual(0.05);
      expect((y + h - (ty + th)) / th, `${fw} px: bottom`).toBeLessThanOrEqual(0.05);
    }
  });
});
