import { describe, expect, it } from 'vitest';
import { SimulatedEntrance } from '../../appliance/camera/simulator/scene.ts';
import type { ReferenceConfig } from '../../appliance/config/load.ts';
import { loadProfiles } from '../../appliance/config/load.ts';
import type { CameraProfile } from '../../appliance/core/cameraProfile.ts';
import { EventBus } from '../../appliance/core/eventBus.ts';
import type { Box } from '../../appliance/core/types.ts';
import { CameraPipeline, createTracker, SENSOR_OBJECT } from '../../appliance/pipeline/cameraPipeline.ts';
import { rawToCelsius } from '../../calibration/radiometry.ts';
import { applyReference } from '../../calibration/reference.ts';
import { selectKth } from '../../calibration/selection.ts';

/**
 * The frame path converts counts → °C and applies the blackbody correction in one pass, converting
 * beforehand only the pixels the reference reads. Here it is checked against the two-pass way it
 * replaced: every frame converted whole (`rawToCelsius`), the room estimate and the reference read
 * from that, then `applyReference` over the whole frame. Every pixel must be identical.
 */

const profiles = loadProfiles(null);
const region = ([x, y, width, height]: Box) => ({ x, y, width, height });

/** The room estimate as it was computed from a whole converted frame: median of every n-th pixel. */
function roomFromWholeFrame(celsius: Float32Array): number {
  const step = Math.max(1, Math.floor(celsius.length / 2048));
  const sample: number[] = [];
  for (let i = 0; i < celsius.length; i += step) if (Number.isFinite(celsius[i])) sample.push(celsius[i]);
  const values = Float32Array.from(sample);
  return sample.length === 0 ? Number.NaN : selectKth(values, values.length >> 1, values.length);
}

/** The first pixel where the two frames differ (NaN equals NaN), or −1. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

function compare(
  profile: CameraProfile,
  frames: number,
  reference: (scene: SimulatedEntrance) => ReferenceConfig,
) {
  const scene = new SimulatedEntrance({
    profile,
    seed: 5,
    people: 3,
    feverRate: 0.5,
    flatField: { intervalS: 1.5, durationS: 0.4 },
    secondBlackbody: { setpointC: 30, emissivity: 0.98 },
  });
  const config = reference(scene);
  const pipeline = new CameraPipeline({ cameraId: 'c', profile, reference: config, bus: new EventBus() });
  const tracker = createTracker(config);
  const states = new Set<string>();
  let flatFields = 0;
  for (let i = 0; i < frames; i++) {
    const { counts } = scene.render(i);
    const capturedAt = Math.round((i * 1000) / profile.fps);
    const frame = pipeline.process({
      cameraId: 'c',
      seq: i,
      capturedAt,
      width: scene.width,
      height: scene.height,
      data: counts,
    });
    // The two-pass way, on the same counts.
    const sensorC = rawToCelsius(counts, profile.radiometry, SENSOR_OBJECT);
    const reflectedC = roomFromWholeFrame(sensorC);
    expect(frame.reflectedC).toBe(reflectedC);
    const update = tracker.update({
      capturedAt,
      width: scene.width,
      height: scene.height,
      celsius: sensorC,
      flatField: frame.flatField,
      reflectedC,
    });
    expect(frame.reference).toEqual(update.reference);
    expect(frame.referenceRegion).toEqual(update.region);
    const { offsetC, gain, pivotC } = frame.correction!;
    const expected = applyReference(sensorC, offsetC, gain, new Float32Array(sensorC.length), pivotC);
    expect(firstDifference(frame.celsius, expected)).toBe(-1);
    states.add(frame.reference.state);
    if (frame.flatField) flatFields++;
  }
  return { states, flatFields, last: pipeline.reference! };
}

const base = {
  emissivity: 0.98,
  warmupS: 0,
  stableForS: 0.5,
  maxDriftCPerMin: 0.6,
  ffcSettleS: 0.3,
  secondary: null,
};

describe('the one-pass frame path (radiometry and reference together)', () => {
  const simulator = profiles.get('simulator')!;
  const frames = Math.round(simulator.fps * 4);

  it('gives the two-pass frame with a configured region, through flat-field events', () => {
    const { states, flatFields, last } = compare(simulator, frames, (scene) => ({
      ...base,
      setpointC: 35,
      region: region(scene.blackbody!.box),
    }));
    expect(flatFields).toBeGreaterThan(0);
    expect(states.has('stable')).toBe(true);
    expect(last.offsetC).not.toBe(0);
  });

  it('gives the two-pass frame while the blackbody is searched for and after it is found', () => {
    const { states } = compare(simulator, frames, () => ({ ...base, setpointC: 35, region: null }));
    expect(states.has('stable')).toBe(true);
  });

  it('gives the two-pass frame with a disc and with two references (gain ≠ 1)', () => {
    compare(simulator, frames, (scene) => {
      const [x, y, w, h] = scene.blackbody!.box;
      return {
        ...base,
        setpointC: 35,
        region: null,
        disc: { cx: x + w / 2, cy: y + h / 2, r: Math.min(w, h) / 2 },
      };
    });
    const two = compare(simulator, frames, (scene) => ({
      ...base,
      setpointC: 35,
      region: region(scene.blackbody!.box),
      secondary: { region: region(scene.secondBlackbody!.box), setpointC: 30, emissivity: 0.98 },
    }));
    expect(two.last.gain).not.toBe(1);
  });

  it('gives the two-pass frame for a Planck camera (640×512, NaN below its calibration)', () => {
    const a640 = profiles.get('flir-a640')!;
    compare(a640, 12, (scene) => ({ ...base, setpointC: 35, region: region(scene.blackbody!.box) }));
  });
});
