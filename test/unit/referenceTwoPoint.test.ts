import { describe, expect, it } from 'vitest';
import { SimulatedEntrance } from '../../appliance/camera/simulator/scene.ts';
import type { ReferenceConfig } from '../../appliance/config/load.ts';
import { loadProfiles } from '../../appliance/config/load.ts';
import { EventBus } from '../../appliance/core/eventBus.ts';
import type { Box, ThermalFrame } from '../../appliance/core/types.ts';
import { CameraPipeline } from '../../appliance/pipeline/cameraPipeline.ts';

const simulator = loadProfiles(null).get('simulator')!;
const W = simulator.width;
/** Simulator profile: counts / 64 = kelvin. */
const COUNTS_PER_K = 64;
const SENSOR_GAIN = 1.05;
/** A 38 °C emissivity-1 surface painted into the last frame's counts. */
const SURFACE = { x: 20, y: 20, size: 12, trueC: 38 };

const region = ([x, y, width, height]: Box) => ({ x, y, width, height });

interface Run {
  frame: ThermalFrame;
  /** Mean of the corrected 38 °C surface. */
  surfaceC: number;
}

/**
 * Two blackbodies in view of a sensor with a 5 % gain error; the pipeline corrects with the primary
 * alone or with both. Returns the last corrected frame and what the 38 °C surface reads in it.
 */
function run(
  primaryC: number,
  secondaryC: number,
  twoReferences: boolean,
  secondarySetpointC = secondaryC,
): Run {
  const scene = new SimulatedEntrance({
    profile: simulator,
    seed: 21,
    people: 0,
    flatField: null,
    sensorGain: SENSOR_GAIN,
    blackbody: { setpointC: primaryC, emissivity: 0.98 },
    secondBlackbody: { setpointC: secondaryC, emissivity: 0.98 },
  });
  const reference: ReferenceConfig = {
    setpointC: primaryC,
    emissivity: 0.98,
    region: region(scene.blackbody!.box),
    warmupS: 0,
    stableForS: 1,
    maxDriftCPerMin: 0.6,
    ffcSettleS: 2,
    secondary: twoReferences
      ? { region: region(scene.secondBlackbody!.box), setpointC: secondarySetpointC, emissivity: 0.98 }
      : null,
  };
  const pipeline = new CameraPipeline({ cameraId: 'c', profile: simulator, reference, bus: new EventBus() });
  const frames = simulator.fps * 6;
  let frame: ThermalFrame | null = null;
  for (let i = 0; i < frames; i++) {
    const rendered = scene.render(i);
    const counts = rendered.counts;
    if (i === frames - 1) {
      // What this sensor sends for a 38 °C blackbody-like surface (no noise; the counts quantise to 1/64 K).
      const sensorC = (SURFACE.trueC - 30) * SENSOR_GAIN + 30 + rendered.truth.sensorOffsetC;
      const value = Math.round((sensorC + 273.15) * COUNTS_PER_K);
      for (let y = SURFACE.y; y < SURFACE.y + SURFACE.size; y++) {
        counts.fill(value, y * W + SURFACE.x, y * W + SURFACE.x + SURFACE.size);
      }
    }
    frame = pipeline.process({
      cameraId: 'c',
      seq: i,
      capturedAt: Math.round((i * 1000) / simulator.fps),
      width: W,
      height: simulator.height,
      data: counts,
    } as Parameters<CameraPipeline['process']>[0]);
  }
  let sum = 0;
  for (let y = SURFACE.y; y < SURFACE.y + SURFACE.size; y++) {
    for (let x = SURFACE.x; x < SURFACE.x + SURFACE.size; x++) sum += frame!.celsius[y * W + x];
  }
  return { frame: frame!, surfaceC: sum / SURFACE.size ** 2 };
}

describe('two-point reference (offset and gain)', () => {
  it('corrects a 5 % sensor gain: a 38 °C surface reads within 0.1 °C with two references', () => {
    for (const [primaryC, secondaryC] of [
      [35, 30],
      [30, 35],
    ]) {
      const { frame, surfaceC } = run(primaryC, secondaryC, true);
      // The correction's gain undoes the sensor's: ≈ 1 / 1.05 (true-temperature terms, so not exactly).
      expect(Math.abs(frame.reference.gain - 1 / SENSOR_GAIN)).toBeLessThan(0.01);
      expect(frame.reference.reason).toMatch(/second reference .* gain 0\.9[45]\d/);
      expect(Math.abs(surfaceC - SURFACE.trueC)).toBeLessThan(0.1);
    }
  });

  it('with one reference the gain error stays: ≈ 0.4 °C at 38 °C against a 30 °C primary, ≈ 0.16 against 35 °C', () => {
    // The error grows with the distance from the primary: 5 % of (38 − the primary's apparent reading).
    const fromThirty = run(30, 35, false);
    expect(fromThirty.frame.reference.gain).toBe(1);
    expect(fromThirty.surfaceC - SURFACE.trueC).toBeGreaterThan(0.35);
    expect(fromThirty.surfaceC - SURFACE.trueC).toBeLessThan(0.45);
    const fromThirtyFive = run(35, 30, false);
    expect(fromThirtyFive.surfaceC - SURFACE.trueC).toBeGreaterThan(0.12);
    expect(fromThirtyFive.surfaceC - SURFACE.trueC).toBeLessThan(0.2);
  });

  it('an implausible secondary keeps gain 1, says why, and does not block screening', () => {
    // Configured at 33 °C while the second blackbody is at 30: the two-point gain would be ≈ 0.4.
    const wrongSetpoint = run(35, 30, true, 33);
    expect(wrongSetpoint.frame.reference.gain).toBe(1);
    expect(wrongSetpoint.frame.reference.reason).toMatch(/second reference implausible, gain 1/);
    expect(wrongSetpoint.frame.reference.state).toBe('stable');
    const one = run(35, 30, false);
    expect(wrongSetpoint.surfaceC).toBeCloseTo(one.surfaceC, 2);
  });

  it('an unreadable secondary (region on the wall) keeps gain 1 with the reason', () => {
    const scene = new SimulatedEntrance({ profile: simulator, seed: 3, people: 0, flatField: null });
    const reference: ReferenceConfig = {
      setpointC: 35,
      emissivity: 0.98,
      region: region(scene.blackbody!.box),
      warmupS: 0,
      stableForS: 1,
      maxDriftCPerMin: 0.6,
      ffcSettleS: 2,
      secondary: { region: { x: 30, y: 10, width: 12, height: 12 }, setpointC: 30, emissivity: 0.98 },
    };
    const pipeline = new CameraPipeline({
      cameraId: 'c',
      profile: simulator,
      reference,
      bus: new EventBus(),
    });
    let frame: ThermalFrame | null = null;
    for (let i = 0; i < simulator.fps * 3; i++) {
      const { counts } = scene.render(i);
      frame = pipeline.process({
        cameraId: 'c',
        seq: i,
        capturedAt: Math.round((i * 1000) / simulator.fps),
        width: W,
        height: simulator.height,
        data: counts,
      });
    }
    expect(frame!.reference.gain).toBe(1);
    expect(frame!.reference.reason).toMatch(
      /second reference unusable, gain 1: reading .* from its set point 30\.00/,
    );
    expect(frame!.reference.state).toBe('stable');
  });
});

describe('removeReference', () => {
  it('undoes applyReference exactly, offset and gain about the pivot', async () => {
    const { applyReference, removeReference } = await import('../../calibration/reference.ts');
    const raw = Float32Array.from([20, 30.5, 35, 38.25]);
    const correction = { offsetC: 0.4, gain: 0.95, pivotC: 34.6 };
    const corrected = applyReference(
      Float32Array.from(raw),
      correction.offsetC,
      correction.gain,
      undefined,
      correction.pivotC,
    );
    for (let i = 0; i < raw.length; i++)
      expect(removeReference(corrected[i], correction)).toBeCloseTo(raw[i], 4);
  });
});

describe('a secondary blackbody covered for a moment', () => {
  it('keeps its last gain for a few seconds, then falls back to gain 1', async () => {
    const { ReferenceTracker, SECONDARY_HOLD_MS } = await import(
      '../../calibration/referenceStateMachine.ts'
    );
    const width = 64;
    const height = 32;
    const primary = { x: 4, y: 4, width: 12, height: 12 };
    const secondary = { x: 40, y: 4, width: 12, height: 12 };
    const tracker = new ReferenceTracker({
      setpointC: 35,
      region: primary,
      blackbodyEmissivity: 1,
      warmupMs: 0,
      stableForMs: 1000,
      secondary: { region: secondary, setpointC: 30, emissivity: 1 },
    });
    // A sensor with 5 % gain about 30 °C: the 35 °C blackbody reads 35.25, the 30 °C one 30.
    let seed = 1;
    const noise = () => {
      seed = (seed * 16807) % 2147483647;
      return (seed / 2147483647 - 0.5) * 0.04;
    };
    const frameAt = (timeMs: number, covered: boolean) => {
      const celsius = new Float32Array(width * height).fill(21);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const inPrimary = x >= 4 && x < 16 && y >= 4 && y < 16;
          const inSecondary = x >= 40 && x < 52 && y >= 4 && y < 16;
          if (inPrimary) celsius[y * width + x] = 35.25 + noise();
          if (inSecondary) celsius[y * width + x] = (covered && x < 46 ? 33 : 30) + noise();
        }
      }
      return tracker.update({ capturedAt: timeMs, width, height, celsius, reflectedC: 21 });
    };
    let t = 0;
    let learnt = 1;
    for (; t <= 20_000; t += 100) learnt = frameAt(t, false).reference.gain;
    expect(learnt).toBeCloseTo(1 / 1.05, 2);
    t += 100;
    const briefly = frameAt(t, true).reference;
    expect(briefly.gain).toBe(learnt);
    expect(briefly.reason).toMatch(/gain 0\.95\d held: .*covers it/);
    let later = briefly;
    for (const end = t + SECONDARY_HOLD_MS + 1000; t <= end; t += 100) later = frameAt(t, true).reference;
    expect(later.gain).toBe(1);
    expect(later.reason).toMatch(/second reference unusable, gain 1: .*covers it/);
  });
});
