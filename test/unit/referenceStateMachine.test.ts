import { describe, expect, it } from 'vitest';
import {
  type ReferenceObservation,
  ReferenceStateMachine,
  ReferenceTracker,
  type ReferenceTransition,
  STATE_MACHINE_DEFAULTS,
} from '../../calibration/referenceStateMachine.ts';

const OPTIONS = {
  setpointC: 35,
  warmupMs: 5_000,
  stableForMs: 2_000,
  movedAfterMs: 1_000,
  driftWindowMs: 10_000,
  maxDriftCPerMin: STATE_MACHINE_DEFAULTS.maxDriftCPerMin,
  ffcSettleMs: 1_000,
};
const FRAME_MS = 100;

const good = (
  timeMs: number,
  readingC = 33,
  extra: Partial<ReferenceObservation> = {},
): ReferenceObservation => ({
  timeMs,
  readingC,
  noiseC: 0.03,
  spreadC: 0.08,
  farFraction: 0,
  flatField: false,
  ...extra,
});

/** Feeds observations from `fromMs` to `toMs` (exclusive) and returns every transition. */
function run(
  machine: ReferenceStateMachine,
  fromMs: number,
  toMs: number,
  observe: (t: number) => ReferenceObservation,
): ReferenceTransition[] {
  const out: ReferenceTransition[] = [];
  for (let t = fromMs; t < toMs; t += FRAME_MS) out.push(machine.update(observe(t)));
  return out;
}

const changes = (ts: ReferenceTransition[]) =>
  ts.filter((t) => t.changed).map((t) => `${t.previous}→${t.state}`);

/** A machine that has become stable at a reading of 33 °C (camera 2 °C low) by t = 8 s. */
function stableMachine(): ReferenceStateMachine {
  const m = new ReferenceStateMachine(OPTIONS);
  run(m, 0, 8_000, (t) => good(t));
  expect(m.state).toBe('stable');
  return m;
}

describe('ReferenceStateMachine: warming', () => {
  it('stays warming through the camera warm-up, then becomes stable once, blocking screening until then', () => {
    const m = new ReferenceStateMachine(OPTIONS);
    const ts = run(m, 0, 8_000, (t) => good(t));
    expect(ts[0].state).toBe('warming');
    expect(ts[0].screeningAllowed).toBe(false);
    expect(ts[0].reason).toMatch(/camera warming up \(0 of 5 s\)/);
    const firstStable = ts.findIndex((t) => t.state === 'stable');
    expect(firstStable * FRAME_MS).toBe(5_000);
    expect(changes(ts)).toEqual(['warming→stable']);
    expect(ts[firstStable].screeningAllowed).toBe(true);
    expect(ts[firstStable].reason).toBe('blackbody reading 33.00 °C, 2.00 °C from the set point 35.00 °C');
  });

  it('needs the reading steady for stableForMs after warm-up', () => {
    const m = new ReferenceStateMachine(OPTIONS);
    // Warm-up wander: ±0.15 °C alternating, more than the steady range (0.2 °C).
    run(m, 0, 6_000, (t) => good(t, t % 200 === 0 ? 33.15 : 32.85));
    expect(m.state).toBe('warming');
    const ts = run(m, 6_000, 9_000, (t) => good(t));
    // Steady over the last 2 s from 7.9 s on: the last wandering sample (32.85 °C at 5.9 s) is within 0.2 °C of 33.
    expect(ts.findIndex((t) => t.state === 'stable') * FRAME_MS + 6_000).toBe(7_900);
  });
});

describe('ReferenceStateMachine: faults', () => {
  it('a partial cover is occluded at once, stays occluded while it lasts, and recovers only after stableForMs', () => {
    const m = stableMachine();
    const covered = run(m, 8_000, 12_000, (t) =>
      good(t, 33.8, { farFraction: 0.4, noiseC: 1.2, spreadC: 3 }),
    );
    expect(covered[0]).toMatchObject({
      state: 'occluded',
      changed: true,
      previous: 'stable',
      screeningAllowed: false,
    });
    expect(covered[0].reason).toMatch(/40 % of the blackbody region differs from the rest/);
    expect(covered.every((t) => t.state === 'occluded')).toBe(true);
    const back = run(m, 12_000, 15_000, (t) => good(t));
    expect(back[0].reason).toMatch(/^recovering: reading steady for 0\.0 of 2\.0 s/);
    expect(back.findIndex((t) => t.state === 'stable') * FRAME_MS).toBe(2_000);
  });

  it('does not flap when a cover comes and goes every other frame', () => {
    const m = stableMachine();
    const ts = run(m, 8_000, 14_000, (t) =>
      t % 200 === 0 ? good(t, 33, { farFraction: 0.3, noiseC: 1 }) : good(t),
    );
    expect(changes(ts)).toEqual(['stable→occluded']);
  });

  it('a sudden jump of the whole region is occluded, and moved once it persists', () => {
    const m = stableMachine();
    // The blackbody is knocked away; the region now sees a uniform wall 1.5 °C cooler.
    const ts = run(m, 8_000, 11_000, (t) => good(t, 31.5));
    expect(ts[0].state).toBe('occluded');
    expect(ts[0].reason).toMatch(/jumped -1\.50 °C from the blackbody level 33\.00 °C/);
    const movedAt = ts.findIndex((t) => t.state === 'moved');
    expect(movedAt * FRAME_MS).toBe(OPTIONS.movedAfterMs);
    expect(changes(ts)).toEqual(['stable→occluded', 'occluded→moved']);
    expect(ts.at(-1)!.reason).toMatch(/^for 2\.9 s: reading 31\.50 °C jumped/);
  });

  it('a region that is no longer uniform is moved once it persists', () => {
    const m = stableMachine();
    const ts = run(m, 8_000, 10_000, (t) => good(t, 33, { noiseC: 0.6, spreadC: 1.5 }));
    expect(ts[0].state).toBe('occluded');
    expect(ts.at(-1)!.state).toBe('moved');
    expect(ts.at(-1)!.reason).toMatch(/not uniform \(SD 0\.60 °C, spread 1\.50 °C; allowed 0\.30 \/ 0\.60\)/);
  });

  it('a reading far from the set point is never accepted as a blackbody', () => {
    const m = new ReferenceStateMachine(OPTIONS);
    const ts = run(m, 0, 10_000, (t) => good(t, 24));
    expect(ts.some((t) => t.state === 'stable')).toBe(false);
    expect(ts.at(-1)!.state).toBe('moved');
    expect(ts.at(-1)!.reason).toMatch(/11\.00 °C from the set point 35\.00 °C \(allowed 5\.00\)/);
  });

  it('a moved blackbody put back elsewhere recovers after stableForMs at the new level', () => {
    const m = stableMachine();
    run(m, 8_000, 10_000, (t) => good(t, 31.5));
    expect(m.state).toBe('moved');
    // Same blackbody, new position, slightly different reading (another part of the sensor).
    run(m, 10_000, 10_500, () => good(10_000, 33.2, { farFraction: 0.5 }));
    // Recovery is judged against the old level; a re-found region within 0.5 °C of it recovers.
    const ts = run(m, 10_500, 13_000, (t) => good(t, 33.2));
    expect(ts.findIndex((t) => t.state === 'stable') * FRAME_MS).toBe(2_000);
    expect(m.levelC).toBeCloseTo(33.2, 6);
  });

  it('a blackbody that stays steady and uniform at a new level is accepted after relevelAfterMs', () => {
    const m = new ReferenceStateMachine({ ...OPTIONS, relevelAfterMs: 5_000 });
    run(m, 0, 8_000, (t) => good(t));
    const ts = run(m, 8_000, 20_000, (t) => good(t, 31.5));
    const at = (state: string) => ts.findIndex((x) => x.state === state) * FRAME_MS + 8_000;
    expect(at('moved')).toBe(9_000);
    // The new-level run counts from the first frame judged while moved (9.1 s): accepted at 14.1 s, stable 2 s later.
    expect(ts.find((x) => x.reason.includes('accepted'))!.reason).toBe(
      'blackbody steady at a new level 31.50 °C: accepted, recovering',
    );
    expect(at('stable')).toBe(16_200);
    expect(m.levelC).toBeCloseTo(31.5, 6);
  });

  it('no region is missing at once, and recovery waits for stableForMs', () => {
    const m = stableMachine();
    const gone = run(m, 8_000, 9_000, (t) =>
      good(t, 0, { readingC: null, noiseC: null, spreadC: null, farFraction: null }),
    );
    expect(gone[0]).toMatchObject({ state: 'missing', changed: true, previous: 'stable' });
    expect(gone[0].reason).toBe('no blackbody region found in the frame');
    const back = run(m, 9_000, 12_000, (t) => good(t));
    expect(back[0].state).toBe('missing');
    expect(back.findIndex((t) => t.state === 'stable') * FRAME_MS).toBe(2_000);
  });
});

describe('ReferenceStateMachine: drift', () => {
  it('allows by default the drift the offset filter follows within ≈ 0.05 °C (0.6 °C/min × 5.2 s lag)', () => {
    expect(STATE_MACHINE_DEFAULTS.maxDriftCPerMin).toBe(0.6);
  });

  it('a reading changing faster than maxDriftCPerMin is drifting', () => {
    const m = stableMachine();
    // 1 °C/min: 0.1 °C per 6 s, slow enough not to look like a jump.
    const ts = run(m, 8_000, 20_000, (t) => good(t, 33 + ((t - 8_000) / 60_000) * 1.0));
    const first = ts.findIndex((t) => t.state === 'drifting');
    expect(first).toBeGreaterThan(0);
    expect(ts[first].reason).toMatch(/blackbody reading changing 0\.\d\d °C\/min \(allowed ±0\.60\)/);
    expect(ts.at(-1)!.state).toBe('drifting');
  });

  it('a slow drift within the allowed rate stays stable (the offset follows it)', () => {
    const m = stableMachine();
    const ts = run(m, 8_000, 60_000, (t) => good(t, 33 + ((t - 8_000) / 60_000) * 0.5));
    expect(ts.every((t) => t.state === 'stable')).toBe(true);
  });

  it('leaves drifting only after the rate falls and the reading is steady for stableForMs', () => {
    const m = stableMachine();
    run(m, 8_000, 20_000, (t) => good(t, 33 + ((t - 8_000) / 60_000) * 1.5));
    expect(m.state).toBe('drifting');
    const ts = run(m, 20_000, 40_000, (t) => good(t, 33.3));
    const stableAt = ts.findIndex((t) => t.state === 'stable');
    expect(stableAt).toBeGreaterThan(20);
    expect(changes(ts)).toEqual(['drifting→stable']);
  });
});

describe('ReferenceStateMachine: flat-field correction', () => {
  it('holds through the event and the settle time, then resumes stable without a new stability wait', () => {
    const m = stableMachine();
    const ffc = run(m, 8_000, 9_000, (t) => good(t, 0, { readingC: null, flatField: true }));
    expect(ffc[0]).toMatchObject({ state: 'ffc', changed: true, previous: 'stable' });
    expect(ffc.every((t) => t.state === 'ffc')).toBe(true);
    const after = run(m, 9_000, 11_000, (t) => good(t, t < 9_300 ? 34 : 33)); // the image jumps after the shutter
    expect(after[0].reason).toMatch(/settling after flat-field correction \(0\.0 of 1\.0 s\)/);
    const resumedAt = after.findIndex((t) => t.state !== 'ffc');
    expect(resumedAt * FRAME_MS).toBe(OPTIONS.ffcSettleMs);
    expect(after[resumedAt]).toMatchObject({ state: 'stable', previous: 'ffc' });
  });

  it('the offset step at a flat-field event is not drift; drift across the event still is', () => {
    const m = stableMachine();
    run(m, 8_000, 15_000, (t) => good(t));
    run(m, 15_000, 16_000, (t) => good(t, 0, { readingC: null, flatField: true }));
    // The shutter moved the offset by 0.3 °C: in a 10 s window that alone fits ≈ 2.7 °C/min.
    const after = run(m, 16_000, 30_000, (t) => good(t, 33.3));
    expect(after.every((t) => t.state === 'ffc' || t.state === 'stable')).toBe(true);

    const drifting = stableMachine();
    run(drifting, 8_000, 15_000, (t) => good(t, 33 + ((t - 8_000) / 60_000) * 1.0));
    expect(drifting.state).toBe('drifting');
    run(drifting, 15_000, 16_000, (t) => good(t, 0, { readingC: null, flatField: true }));
    const ts = run(drifting, 16_000, 20_000, (t) => good(t, 33.3 + ((t - 16_000) / 60_000) * 1.0));
    expect(ts.at(-1)!.state).toBe('drifting');
  });

  it('returns to warming when the flat-field event came during warm-up', () => {
    const m = new ReferenceStateMachine(OPTIONS);
    run(m, 0, 2_000, (t) => good(t));
    run(m, 2_000, 2_500, (t) => good(t, 0, { flatField: true }));
    expect(m.state).toBe('ffc');
    const ts = run(m, 2_500, 4_000, (t) => good(t));
    expect(ts.at(-1)!.state).toBe('warming');
  });

  it('rejects observations that go back in time', () => {
    const m = new ReferenceStateMachine(OPTIONS);
    m.update(good(1_000));
    expect(() => m.update(good(900))).toThrow(/time went backwards: 900 ms after 1000 ms/);
  });
});

describe('ReferenceTracker on synthetic frames', () => {
  const W = 64;
  const H = 48;
  const BB = { x: 44, y: 4, width: 12, height: 12 };
  /** Room 22 °C, a blackbody at 35 °C that the camera reads `sensorErrorC` off, ±0.03 °C noise. */
  function frame(sensorErrorC: number, seq: number, edit?: (f: Float32Array) => void): Float32Array {
    const f = new Float32Array(W * H);
    let a = seq + 1;
    for (let i = 0; i < f.length; i++) {
      a = (a * 1664525 + 1013904223) >>> 0;
      const x = i % W;
      const y = Math.floor(i / W);
      const inBB = x >= BB.x && x < BB.x + BB.width && y >= BB.y && y < BB.y + BB.height;
      f[i] = (inBB ? 35 : 22) + sensorErrorC + 0.06 * (a / 2 ** 32 - 0.5);
    }
    edit?.(f);
    return f;
  }

  it('finds the blackbody, becomes stable and learns the offset; a hand over it holds the offset', () => {
    const tracker = new ReferenceTracker({ ...OPTIONS, offsetFilter: { timeConstantMs: 500 } });
    let last = tracker.update({ capturedAt: 0, width: W, height: H, celsius: frame(-2, 0) });
    expect(tracker.region).not.toBeNull();
    for (let t = FRAME_MS; t < 8_000; t += FRAME_MS) {
      last = tracker.update({ capturedAt: t, width: W, height: H, celsius: frame(-2, t) });
    }
    expect(last.reference.state).toBe('stable');
    expect(last.reference.offsetC).toBeCloseTo(2, 1);
    expect(last.reference.measuredC).toBeCloseTo(33, 1);
    expect(last.reference.noiseC).toBeLessThan(0.05);
    expect(last.reference.gain).toBe(1);

    const hand = (f: Float32Array) => {
      for (let y = BB.y; y < BB.y + BB.height; y++) for (let x = BB.x; x < BB.x + 6; x++) f[y * W + x] = 31;
    };
    const covered = tracker.update({
      capturedAt: 8_000,
      width: W,
      height: H,
      celsius: frame(-2, 8_000, hand),
    });
    expect(covered).toMatchObject({ changed: true, previous: 'stable' });
    expect(covered.reference.state).toBe('occluded');
    for (let t = 8_100; t < 10_000; t += FRAME_MS) {
      last = tracker.update({ capturedAt: t, width: W, height: H, celsius: frame(-2, t, hand) });
    }
    expect(last.reference.state).toBe('occluded');
    expect(last.reference.offsetC).toBeCloseTo(2, 1); // not pulled toward the hand
  });

  it('corrects the blackbody emissivity: a 0.97 source reads low, the offset does not inherit that', () => {
    const tracker = new ReferenceTracker({
      ...OPTIONS,
      region: BB,
      blackbodyEmissivity: 0.97,
      reflectedC: 22,
    });
    // Perfect camera looking at a 0.97 blackbody at 35 °C: it shows ≈ 34.6 °C.
    const shown = -0.4;
    let last = tracker.update({ capturedAt: 0, width: W, height: H, celsius: frame(shown, 0) });
    for (let t = FRAME_MS; t < 7_000; t += FRAME_MS) {
      last = tracker.update({ capturedAt: t, width: W, height: H, celsius: frame(shown, t) });
    }
    expect(last.reference.state).toBe('stable');
    expect(Math.abs(last.reference.offsetC)).toBeLessThan(0.06);
  });

  it('restarts the offset at the new level after a flat-field event instead of trailing the step', () => {
    const tracker = new ReferenceTracker({ ...OPTIONS, region: BB });
    const at = (t: number, errorC: number, flatField = false) =>
      tracker.update({ capturedAt: t, width: W, height: H, celsius: frame(errorC, t), flatField });
    for (let t = 0; t < 8_000; t += FRAME_MS) at(t, -2);
    for (let t = 8_000; t < 9_000; t += FRAME_MS) at(t, -2, true);
    let last = at(9_000, -1.7);
    for (let t = 9_000 + FRAME_MS; t <= 10_000; t += FRAME_MS) last = at(t, -1.7);
    expect(last.reference.state).toBe('stable');
    // With the 5 s filter trailing the 0.3 °C step, the offset would still be ≈ 0.25 °C off here.
    expect(last.reference.offsetC).toBeCloseTo(1.7, 1);
    expect(Math.abs(last.reference.offsetC - 1.7)).toBeLessThan(0.02);
  });

  it('a flat-field frame yields ffc with no reading', () => {
    const tracker = new ReferenceTracker({ ...OPTIONS, region: BB });
    const u = tracker.update({ capturedAt: 0, width: W, height: H, celsius: frame(0, 0), flatField: true });
    expect(u.reference).toMatchObject({ state: 'ffc', measuredC: null });
  });

  it('reports missing when there is no blackbody in view', () => {
    const tracker = new ReferenceTracker(OPTIONS);
    const empty = new Float32Array(W * H).fill(22);
    const u = tracker.update({ capturedAt: 0, width: W, height: H, celsius: empty });
    expect(u.reference.state).toBe('missing');
    expect(u.region).toBeNull();
  });
});
