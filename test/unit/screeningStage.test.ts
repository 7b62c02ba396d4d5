import { describe, expect, it } from 'vitest';
import type {
  Box,
  Measurement,
  QualityFlag,
  ReferenceStateName,
  ScreeningEvent,
  ThermalFrame,
} from '../../appliance/core/types.ts';
import {
  decideReading,
  invalidReasons,
  NEVER_AT_MEASUREMENT_POINT,
  type PersonReading,
  type PersonSample,
  personReading,
} from '../../appliance/screening/decisionRules.ts';
import type { ScreeningConfig } from '../../appliance/screening/screeningStage.ts';
import { TRACKER_DEFAULTS } from '../../appliance/tracking/personTracker.ts';
import { constantOffsetModel } from '../../calibration/skinCore.ts';
import { scriptedFace, stageWithEvents, TEST_SCREENING } from '../helpers/screeningConfig.ts';

const MODEL = constantOffsetModel(1.25);
const RULES = { windowFrames: 9, minGoodFrames: 3 };
const ABSOLUTE = {
  mode: 'absolute' as const,
  thresholdC: 37.5,
  retestBandC: 0.3,
  unit: 'C' as const,
  model: MODEL,
};

function reading(skinC: number, goodFrames = 9): PersonReading {
  return {
    skinC,
    faceMaxC: null,
    foreheadC: null,
    ambientC: 21,
    goodFrames,
    windowFrames: Math.min(9, goodFrames),
    referenceOffsetC: 0,
    at: 0,
    calibrationId: null,
  };
}

function sample(canthusC: number | null, overrides: Partial<PersonSample> = {}): PersonSample {
  return {
    at: 0,
    canthusC,
    faceMaxC: null,
    foreheadC: null,
    pixelsAcrossFace: 50,
    yawDeg: 0,
    flags: [],
    referenceState: 'stable',
    referenceReason: '',
    referenceOffsetC: 0,
    ambientC: 21,
    ...overrides,
  };
}

describe('decision rules at their boundaries', () => {
  const at = (skinC: number, goodFrames = 9) =>
    decideReading(reading(skinC, goodFrames), ABSOLUTE, RULES, []);

  it('elevated from the threshold up, retest in the band below it, normal below the band', () => {
    expect(at(37.5 - 1.25).decision).toBe('elevated');
    expect(at(37.5 - 1.25 - 0.001).decision).toBe('retest');
    expect(at(37.2 - 1.25).decision).toBe('retest');
    expect(at(37.2 - 1.25 - 0.001).decision).toBe('normal');
    expect(at(37.5 - 1.25).estimatedCoreC).toBeCloseTo(37.5, 9);
  });

  it('few good frames turn normal into retest but never lower an elevated reading', () => {
    expect(at(35.5, 2).decision).toBe('retest');
    expect(
      at(35.5, 2)
        .reasons.map((r) => r.text)
        .join(),
    ).toMatch(/only 2 good frames/);
    expect(at(35.5, 2).reasons.map((r) => r.code)).toEqual(['measure-again']);
    expect(at(35.5, 3).decision).toBe('normal');
    expect(at(38.5 - 1.25, 1).decision).toBe('elevated');
  });

  it('does not pull a high reading toward normal: the estimate moves one for one with the canthus', () => {
    expect(at(40 - 1.25).estimatedCoreC).toBeCloseTo(40, 9);
    expect(at(41.5 - 1.25).estimatedCoreC).toBeCloseTo(41.5, 9);
  });

  it('relative mode: the first reading seeds, then alarm at baseline + delta, retest just below', () => {
    const relative = { ...ABSOLUTE, mode: 'relative' as const };
    expect(decideReading(reading(35.8), { ...relative, relativeAlarmAtC: null }, RULES, []).decision).toBe(
      'normal',
    );
    expect(decideReading(reading(36.8), { ...relative, relativeAlarmAtC: 36.8 }, RULES, []).decision).toBe(
      'elevated',
    );
    expect(decideReading(reading(36.6), { ...relative, relativeAlarmAtC: 36.8 }, RULES, []).decision).toBe(
      'retest',
    );
    expect(decideReading(reading(36.4), { ...relative, relativeAlarmAtC: 36.8 }, RULES, []).decision).toBe(
      'normal',
    );
  });

  it('no reading: invalid with the reasons', () => {
    const x = { code: 'measure-again' as const, text: 'x' };
    expect(decideReading(null, ABSOLUTE, RULES, [x])).toEqual({
      decision: 'invalid',
      reasons: [x],
      skinC: null,
      estimatedCoreC: null,
    });
  });
});

describe('personReading', () => {
  it('takes the median of the best window: frames that missed the canthus do not average a fever down', () => {
    // Nine good frames: six saw the canthus (~38.0), three missed it and read low.
    const values = [38.0, 37.98, 38.02, 38.01, 37.99, 38.0, 37.2, 37.4, 37.0];
    const r = personReading(
      values.map((v) => sample(v)),
      RULES,
    );
    expect(r?.skinC).toBeCloseTo(37.99, 6);
    expect(r?.goodFrames).toBe(9);
  });

  it('uses only flag-free frames with a stable reference, preferring large frontal faces', () => {
    const samples = [
      sample(38.5, { flags: ['reference-not-stable'], referenceState: 'occluded' }),
      sample(38.4, { referenceState: 'drifting' }),
      sample(38.3, { flags: ['not-frontal'] }),
      sample(36.0, { pixelsAcrossFace: 20 }),
      sample(36.5, { pixelsAcrossFace: 60 }),
    ];
    const r = personReading(samples, { windowFrames: 1, minGoodFrames: 1 });
    expect(r?.skinC).toBe(36.5);
    expect(r?.goodFrames).toBe(2);
    expect(personReading([samples[0], samples[1]], RULES)).toBeNull();
  });
});

describe('glasses', () => {
  it('a person whose eyes are covered in a fifth of the near frames gets no reading, even from frames that passed', () => {
    const samples = [
      ...Array.from({ length: 8 }, () => sample(35.2)),
      ...Array.from({ length: 2 }, () => sample(null, { flags: ['eyes-obstructed'] })),
      sample(null, { flags: ['too-far'] }),
    ];
    expect(personReading(samples, RULES)).toBeNull();
    expect(invalidReasons(samples)[0]).toEqual({
      code: 'remove-glasses',
      text: 'glasses: eyes not measurable (remove glasses)',
    });
    expect(personReading(samples.slice(0, 9), RULES)?.skinC).toBe(35.2);
  });
});

describe('invalid reasons', () => {
  it('names the problem in words a person at the door understands', () => {
    const texts = (reasons: { text: string }[]) => reasons.map((r) => r.text);
    expect(invalidReasons([sample(null, { flags: ['too-far'] })])).toEqual([NEVER_AT_MEASUREMENT_POINT]);
    expect(texts(invalidReasons([sample(null, { flags: ['eyes-obstructed'] })]))).toEqual([
      'glasses: eyes not measurable (remove glasses)',
    ]);
    expect(
      invalidReasons([sample(36, { flags: ['reference-not-stable'], referenceState: 'occluded' })]),
    ).toEqual([{ code: 'reference-not-stable', text: 'reference not stable: blackbody occluded' }]);
    const mixed = [
      sample(null, { flags: ['too-far'] }),
      sample(36, { flags: ['not-frontal'] }),
      sample(36, { flags: ['not-frontal'] }),
      sample(36, { flags: ['faces-too-close', 'not-frontal'] }),
    ];
    expect(invalidReasons(mixed).map((r) => r.code)).toEqual(['look-at-camera', 'one-at-a-time']);
    expect(texts(invalidReasons(mixed))).toEqual([
      'not facing the camera: look at the camera',
      'two faces too close: one person at a time',
    ]);
  });
});

// ---- the stage, with scripted detections and measurements ----

const SCREENING = TEST_SCREENING;

interface ScriptedFace {
  box: Box;
  canthusC: number | null;
  /** The face's warmest skin (null by default). */
  faceMaxC?: number;
  flags?: QualityFlag[];
}

interface ScriptedFrame {
  faces: ScriptedFace[];
  reference?: ReferenceStateName;
  flatField?: boolean;
}

function runStage(
  frames: ScriptedFrame[],
  screening: ScreeningConfig = SCREENING,
  excludeZones: Box[] = [],
  cadence: { detectEvery?: number; detections?: number[] } = {},
  /** Filled in after the run: the stage's count of tracks that never became persons. */
  observed: { tracksNotPersons?: number } = {},
): ScreeningEvent[] {
  let current: ScriptedFrame = frames[0];
  const { stage, events } = stageWithEvents({
    screening,
    model: MODEL,
    measurableFacePx: 40,
    excludeZones,
    detectEvery: cadence.detectEvery,
    detectFaces: (frame, exclude) => {
      cadence.detections?.push(frame.seq);
      expect(exclude).toEqual([[200, 50, 20, 20]]);
      return current.faces.map((f) => scriptedFace(f.box));
    },
    measure: (_frame, face): Measurement => {
      const scripted = current.faces.find((f) => f.box === face.box)!;
      return {
        canthusC: scripted.canthusC,
        faceMaxC: scripted.faceMaxC ?? null,
        foreheadC: null,
        pixelsAcrossFace: face.box[2],
        yawDeg: 0,
        flags: scripted.flags ?? [],
      };
    },
  });
  frames.forEach((f, seq) => {
    current = f;
    const state = f.reference ?? 'stable';
    const frame: ThermalFrame = {
      cameraId: 'cam',
      seq,
      capturedAt: 1_000_000 + seq * 111,
      width: 256,
      height: 192,
      celsius: new Float32Array(0),
      reference: { state, reason: state, measuredC: 35, setpointC: 35, offsetC: 0.2, noiseC: 0.05, gain: 1 },
      flatField: f.flatField ?? false,
      reflectedC: 21,
      referenceRegion: { x: 200, y: 50, width: 20, height: 20 },
      calibrationId: null,
    };
    stage.process(frame);
  });
  stage.flush(1_000_000 + frames.length * 111);
  observed.tracksNotPersons = stage.unconfirmedCandidates;
  return events;
}

/** A person walking in from the left, standing still for `standFrames`, then gone. */
function walkIn(
  canthusC: number,
  standFrames: number,
  overrides: Partial<ScriptedFrame> = {},
  flags?: QualityFlag[],
): ScriptedFrame[] {
  const frames: ScriptedFrame[] = [];
  for (let k = 0; k < 8; k++)
    frames.push({
      faces: [{ box: [20 + 8 * k, 40, 20 + 3 * k, 26 + 4 * k], canthusC: null, flags: ['too-far'] }],
    });
  for (let k = 0; k < standFrames; k++) {
    frames.push({
      faces: [{ box: [84 + (k % 2), 40, 50, 65], canthusC: canthusC + (k % 3) * 0.01, flags }],
      ...overrides,
    });
  }
  return frames;
}

const emptyFrames = (n: number): ScriptedFrame[] => Array.from({ length: n }, () => ({ faces: [] }));

describe('ScreeningStage', () => {
  it('detects on every n-th frame, counted in frames, and keeps the person and the verdict between', () => {
    const frames = [...walkIn(37.0, 30), ...emptyFrames(20)];
    const every = runStage(frames);
    const detections: number[] = [];
    const events = runStage(frames, SCREENING, [], { detectEvery: 3, detections });
    expect(detections).toEqual(Array.from({ length: Math.ceil(frames.length / 3) }, (_, i) => i * 3));
    const ends = events.filter((e) => e.kind === 'end');
    expect(ends).toHaveLength(1);
    expect(ends[0].personId).toBe(every.at(-1)?.personId);
    expect(ends[0].decision).toBe('elevated');
    expect(events.filter((e) => e.alert)).toHaveLength(1);
    // The standing frames are seq 8…37: measured on 9, 12, …, 36.
    expect(ends[0].goodFrames).toBe(10);
    expect(() => runStage(frames, SCREENING, [], { detectEvery: 0 })).toThrow(
      'detection cadence must be a whole number of frames ≥ 1, got 0',
    );
  });

  it('never makes a person of a face in a configured exclusion zone (a heater that looks like a head)', () => {
    // A warm, face-like heater at (150, 120) in every frame, beside a person walking in.
    const heater: ScriptedFace = { box: [150, 120, 44, 56], canthusC: 38.2 };
    const frames = [...walkIn(35.8, 30), ...emptyFrames(20)].map((f) => ({
      ...f,
      faces: [...f.faces, heater],
    }));
    const withoutZone = runStage(frames);
    expect(new Set(withoutZone.filter((e) => e.kind === 'end').map((e) => e.personId)).size).toBe(2);
    const events = runStage(frames, SCREENING, [[140, 110, 70, 80]]);
    const ends = events.filter((e) => e.kind === 'end');
    expect(ends).toHaveLength(1);
    expect(ends[0].decision).toBe('normal');
    expect(events.some((e) => e.alert)).toBe(false);
    // The reading states its resolution: 50 px faces, ≈ 3.6 px on the canthus, no small-face note.
    expect(ends[0].resolution).toEqual({ pixelsAcrossFace: 50, canthusPx: 3.6, windowPx: 3, note: null });
  });

  it('new → update … → end with one id; a fever alerts exactly once and stays elevated', () => {
    const events = runStage([...walkIn(37.0, 30), ...emptyFrames(20)]);
    expect(events[0].kind).toBe('new');
    expect(events.at(-1)?.kind).toBe('end');
    expect(new Set(events.map((e) => e.personId))).toEqual(new Set(['cam-1']));
    expect(events.filter((e) => e.kind === 'end')).toHaveLength(1);
    expect(events.filter((e) => e.alert)).toHaveLength(1);
    const end = events.at(-1)!;
    expect(end.decision).toBe('elevated');
    // Values cycle 37.00/37.01/37.02 in the window: the median is 37.01.
    expect(end.skinC).toBeCloseTo(37.01, 6);
    expect(end.estimatedCoreC).toBeCloseTo(38.26, 6);
    expect(end.display).toBe('38.3 °C');
    expect(end.goodFrames).toBe(30);
    const firstElevated = events.findIndex((e) => e.decision === 'elevated');
    expect(events.slice(firstElevated).every((e) => e.decision === 'elevated')).toBe(true);
  });

  it('rate-limits updates', () => {
    const events = runStage([...walkIn(35.5, 40), ...emptyFrames(20)]);
    const updates = events.filter((e) => e.kind === 'update');
    for (let k = 1; k < updates.length; k++)
      expect(updates[k].at - updates[k - 1].at).toBeGreaterThanOrEqual(1000);
    expect(events.at(-1)?.decision).toBe('normal');
  });

  it('reference not stable in every frame: invalid, no reading, and the reason names the blackbody', () => {
    const events = runStage([...walkIn(38.5, 30, { reference: 'occluded' }), ...emptyFrames(20)]);
    const end = events.find((e) => e.kind === 'end')!;
    expect(end.decision).toBe('invalid');
    expect(end.skinC).toBeNull();
    expect(end.estimatedCoreC).toBeNull();
    expect(end.reasons).toContain('reference not stable: blackbody occluded');
    expect(events.some((e) => e.alert)).toBe(false);
  });

  it('glasses: invalid with the glasses reason; waiting too far away: never at the measurement point', () => {
    const glasses = runStage([...walkIn(36, 20, {}, ['eyes-obstructed']), ...emptyFrames(20)]);
    expect(glasses.at(-1)?.reasons).toEqual(['glasses: eyes not measurable (remove glasses)']);
    // Someone who stays in view a step short of the mark (32 px, 40 measurable), for seconds (30 frames
    // ≈ 3.3 s) at a steady size is a person.
    const waiting: ScriptedFrame[] = Array.from({ length: 30 }, (_, k) => ({
      faces: [{ box: [60 + (k % 3), 40, 32 + (k % 2), 40], canthusC: null, flags: ['too-far'] }],
    }));
    const far = runStage([...waiting, ...emptyFrames(20)]);
    expect(far.at(-1)?.decision).toBe('invalid');
    expect(far.at(-1)?.reasons).toEqual([NEVER_AT_MEASUREMENT_POINT.text]);
    expect(far.at(-1)?.reasonCodes).toEqual(['never-at-measurement-point']);
    expect(far.at(-1)?.state).toBe('invalid');
  });

  it("a face seen only briefly, or without a face's structure, never becomes a person and sends no event", () => {
    // Eight frames of a far face that grows by half its size (the detector's boxes on a passer-by).
    const passerBy: { tracksNotPersons?: number } = {};
    expect(runStage([...walkIn(36, 0), ...emptyFrames(20)], SCREENING, [], {}, passerBy)).toEqual([]);
    // Not a person, but counted (camera health: tracksNotPersons).
    expect(passerBy.tracksNotPersons).toBe(1);
    // A warm blob at the measurement point without a face's structure (no canthus: a hand, a body)
    // for a second.
    const blob: ScriptedFrame[] = Array.from({ length: 10 }, () => ({
      faces: [{ box: [60, 40, 40, 48], canthusC: null }],
    }));
    const hand: { tracksNotPersons?: number } = {};
    expect(runStage([...blob, ...emptyFrames(20)], SCREENING, [], {}, hand)).toEqual([]);
    expect(hand.tracksNotPersons).toBe(1);
    // The same face shown steadily becomes one person with one `end`.
    const person: { tracksNotPersons?: number } = {};
    const steady = runStage([...walkIn(36, 5), ...emptyFrames(20)], SCREENING, [], {}, person);
    expect(steady.filter((e) => e.kind === 'end')).toHaveLength(1);
    expect(person.tracksNotPersons).toBe(0);
  });

  it('a flat-field freeze neither ends nor splits a person', () => {
    const frames = walkIn(36, 10);
    const standing = frames.at(-1)!;
    const freeze = Array.from({ length: 20 }, () => ({ ...standing, flatField: true }));
    const events = runStage([...frames, ...freeze, ...walkIn(36, 10).slice(8), ...emptyFrames(20)]);
    expect(new Set(events.map((e) => e.personId)).size).toBe(1);
    expect(events.filter((e) => e.kind === 'end')).toHaveLength(1);
    expect(events.at(-1)?.goodFrames).toBe(20);
  });

  it('a person lost for a while and back where they were is one person: one `end`, sent after the rejoin window', () => {
    const standing = (faceMaxC: number, n: number): ScriptedFrame[] =>
      Array.from({ length: n }, (_, k) => ({
        faces: [{ box: [84 + (k % 2), 40, 50, 65], canthusC: 35.6 + (k % 3) * 0.01, faceMaxC }],
      }));
    // Head bowed for 1.8 s (longer than the tracker's unseen allowance), then the face again.
    const frames = [...walkIn(35.6, 12), ...emptyFrames(16), ...standing(35.8, 12), ...emptyFrames(40)];
    const events = runStage(frames);
    const ends = events.filter((e) => e.kind === 'end');
    expect(ends).toHaveLength(1);
    expect(new Set(events.map((e) => e.personId))).toEqual(new Set(['cam-1']));
    expect(events.filter((e) => e.kind === 'new')).toHaveLength(1);
    expect(ends[0].goodFrames).toBe(24);
    // The `end` waits out the rejoin window (after the face was last seen, frame 47).
    const window = TRACKER_DEFAULTS.rejoinWithinMs;
    expect(ends[0].lastSeq).toBe(47);
    expect(ends[0].at - (1_000_000 + 47 * 111)).toBeGreaterThan(window);
    expect(ends[0].at - (1_000_000 + 47 * 111)).toBeLessThan(window + 2 * 111);
    // A face at the same place and size but clearly warmer (2 °C) is someone else: two persons.
    const warmer = runStage([
      ...walkIn(35.6, 12).map((f) => ({ faces: f.faces.map((x) => ({ ...x, faceMaxC: 35.8 })) })),
      ...emptyFrames(16),
      ...standing(37.8, 12),
      ...emptyFrames(40),
    ]);
    expect(new Set(warmer.filter((e) => e.kind === 'end').map((e) => e.personId)).size).toBe(2);
    // A fever raises its alert while the person is in view, not when their `end` goes out.
    const fever = runStage([...walkIn(37.0, 12), ...emptyFrames(40)]);
    const alert = fever.find((e) => e.alert)!;
    expect(alert.decision).toBe('elevated');
    expect(alert.kind).not.toBe('end');
    expect(alert.at).toBeLessThanOrEqual(1_000_000 + 19 * 111);
    expect(fever.find((e) => e.kind === 'end')!.at).toBeGreaterThan(1_000_000 + 19 * 111 + window);
  });

  it("a colder box under a person's head is their body, not a person; a child in front of a parent is a person", () => {
    // Boxes as on a kiosk clip: the face, and a 42 × 44 box on the shoulder below its chin that shows a
    // "canthus" and a steady size for seconds, 0.8 °C colder than the face.
    const scene = (lowerC: number): ScriptedFrame[] =>
      Array.from({ length: 30 }, (_, k) => ({
        faces: [
          { box: [60 + (k % 2), 30, 40, 52], canthusC: 35.6, faceMaxC: 35.8 },
          { box: [40, 86 + (k % 2), 42, 44], canthusC: lowerC - 0.1, faceMaxC: lowerC },
        ],
      }));
    const shoulder: { tracksNotPersons?: number } = {};
    const body = runStage([...scene(35.0), ...emptyFrames(40)], SCREENING, [], {}, shoulder);
    expect(body.filter((e) => e.kind === 'end').map((e) => e.box[1])).toEqual([30]);
    expect(shoulder.tracksNotPersons).toBe(1);
    // A child's face there is as warm as the parent's: two persons.
    const child = runStage([...scene(35.7), ...emptyFrames(40)]);
    expect(child.filter((e) => e.kind === 'end')).toHaveLength(2);
  });

  it('a person boxed head and shoulders while leaning in goes on with their face, not their shoulder: one person', () => {
    // Kiosk clip boxes: leaning in, the detector boxes head and shoulders (81–90 px, a "canthus" read,
    // a person after four frames), misses two frames, then boxes the face in that box's top and, from
    // the third frame on, the shoulder below it (0.9 °C colder).
    const leaning: ScriptedFrame[] = [
      [14, 52, 90, 68],
      [20, 55, 88, 65],
      [25, 57, 86, 63],
      [31, 58, 81, 58],
    ].map((box) => ({ faces: [{ box: box as Box, canthusC: 36.0, faceMaxC: 35.9 }] }));
    const face = (k: number): ScriptedFace => ({
      box: [Math.max(60, 82 - 4 * k), 48, 27 + (k % 2), 24],
      canthusC: 35.6,
      faceMaxC: 35.7,
    });
    const standing: ScriptedFrame[] = Array.from({ length: 30 }, (_, k) => ({
      faces:
        k < 2 ? [face(k)] : [face(k), { box: [25, 79 + (k % 2), 41, 44], canthusC: 34.6, faceMaxC: 34.8 }],
    }));
    const events = runStage([...leaning, ...emptyFrames(2), ...standing, ...emptyFrames(40)]);
    const ends = events.filter((e) => e.kind === 'end');
    expect(ends).toHaveLength(1);
    expect(new Set(events.map((e) => e.personId)).size).toBe(1);
  });

  it('the `end` box is the face the track showed, not a box that jumped to head and shoulders for a frame', () => {
    // Kiosk clip: a visitor at the mark boxed 38 px wide, for one frame with her shoulders (58 px: half
    // as wide again, the largest box, so the best-quality frame by size).
    const face = (k: number): ScriptedFace => ({ box: [40 + (k % 2), 60, 38, 50], canthusC: 35.8 });
    const frames: ScriptedFrame[] = Array.from({ length: 20 }, (_, k) => ({
      faces: [k === 8 ? { box: [30, 58, 58, 62], canthusC: 35.8 } : face(k)],
    }));
    const ends = runStage([...frames, ...emptyFrames(40)]).filter((e) => e.kind === 'end');
    expect(ends).toHaveLength(1);
    expect(ends[0].box[2]).toBe(38);
    // A face that grows as the visitor steps closer is borne out frame by frame: its largest box is the
    // `end` box.
    const closer: ScriptedFrame[] = Array.from({ length: 20 }, (_, k) => ({
      faces: [{ box: [40, 60, 38 + Math.min(k, 10), 50], canthusC: 35.8 }],
    }));
    const grown = runStage([...closer, ...emptyFrames(40)]).filter((e) => e.kind === 'end');
    expect(grown.map((e) => e.box[2])).toEqual([48]);
  });

  it('two people side by side get two ids and two end events', () => {
    const frames: ScriptedFrame[] = Array.from({ length: 30 }, () => ({
      faces: [
        { box: [30, 40, 45, 58], canthusC: 35.5 },
        { box: [150, 40, 45, 58], canthusC: 37.0 },
      ],
    }));
    const events = runStage([...frames, ...emptyFrames(20)]);
    const ends = events.filter((e) => e.kind === 'end');
    expect(ends.map((e) => e.personId).sort()).toEqual(['cam-1', 'cam-2']);
    expect(ends.map((e) => e.decision).sort()).toEqual(['elevated', 'normal']);
  });

  it('relative mode: the first person seeds the baseline, a much warmer one later is elevated', () => {
    const relative = { ...SCREENING, mode: 'relative' as const };
    const people = [35.6, 35.7, 35.5, 36.9].flatMap((c) => [...walkIn(c, 15), ...emptyFrames(20)]);
    const ends = runStage(people, relative).filter((e) => e.kind === 'end');
    expect(ends.map((e) => e.decision)).toEqual(['normal', 'normal', 'normal', 'elevated']);
    expect(ends[0].reasons).toEqual(['relative mode: first reading starts the baseline']);
  });
});
