import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cameraReference, loadConfig, referenceWithCalibration } from '../../appliance/config/load.ts';
import { discBounds, readDisc, readRegion } from '../../calibration/reference.ts';
import { ReferenceTracker } from '../../calibration/referenceStateMachine.ts';
import { tempDir } from '../helpers/tempDir.ts';

const W = 120;
const H = 160;

/**
 * A kiosk's reference as the Lepton sees it: a 36 °C disc of radius 6 whose rim blurs over ≈ 1.5 px
 * into a 31 °C housing (24 × 24 px), in a 22 °C room.
 */
function kioskFrame(cx = 60.5, cy = 20.5, r = 6, discC = 36): Float32Array {
  const celsius = new Float32Array(W * H).fill(22);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const inHousing = Math.abs(x + 0.5 - cx) <= 12 && Math.abs(y + 0.5 - cy) <= 12;
      if (!inHousing) continue;
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
      // Full temperature to r − 1.5, then a linear blur to the housing at r + 0.5.
      const t = Math.min(1, Math.max(0, (r + 0.5 - d) / 2));
      celsius[y * W + x] = 31 + (discC - 31) * t + ((x * 7 + y * 13) % 5) * 0.01;
    }
  }
  return celsius;
}

describe('a disc reference', () => {
  it('is read from its interior: the blurred rim and the housing do not lower the reading', () => {
    const celsius = kioskFrame();
    const disc = { cx: 60.5, cy: 20.5, r: 6 };
    const reading = readDisc(celsius, W, H, disc)!;
    expect(reading.readingC).toBeCloseTo(36.02, 1);
    expect(reading.spreadC).toBeLessThan(0.1);
    // Pixel centres within 0.6 × r = 3.6 px: ≈ π · 3.6² ≈ 40 pixels.
    expect(reading.pixelCount).toBeGreaterThanOrEqual(36);
    expect(reading.pixelCount).toBeLessThanOrEqual(45);
    // The whole square around the disc mixes in rim and housing: ≥ 0.5 °C too low.
    const box = discBounds(disc);
    expect(box).toEqual({ x: 54, y: 14, width: 13, height: 13 });
    expect(readRegion(celsius, W, H, box, { erodeFraction: 0 })!.readingC).toBeLessThan(35.5);
  });

  it('is missing when it lies outside the frame, and refuses a nonsense radius', () => {
    expect(readDisc(kioskFrame(), W, H, { cx: 500, cy: 20, r: 6 })).toBeNull();
    expect(() => readDisc(kioskFrame(), W, H, { cx: 60, cy: 20, r: 0 })).toThrow(/positive radius/);
  });

  it('drives the reference tracker: stable on the disc, its bounding box as the region to exclude', () => {
    const tracker = new ReferenceTracker({
      setpointC: 36,
      disc: { cx: 60.5, cy: 20.5, r: 6 },
      // A rectangle elsewhere is ignored when a disc is given.
      region: { x: 0, y: 100, width: 10, height: 10 },
      warmupMs: 0,
      stableForMs: 1000,
    });
    let update = tracker.update({ capturedAt: 0, width: W, height: H, celsius: kioskFrame() });
    for (let t = 114; t <= 2000; t += 114)
      update = tracker.update({ capturedAt: t, width: W, height: H, celsius: kioskFrame() });
    expect(update.reference.state).toBe('stable');
    expect(update.reference.measuredC).toBeCloseTo(36.02, 1);
    expect(tracker.region).toEqual({ x: 54, y: 14, width: 13, height: 13 });
    // A hand over the disc is seen (not averaged away with the housing).
    const covered = kioskFrame();
    for (let y = 14; y < 21; y++) for (let x = 50; x < 70; x++) covered[y * W + x] = 33;
    update = tracker.update({ capturedAt: 2114, width: W, height: H, celsius: covered });
    expect(update.reference.state).not.toBe('stable');
  });
});

describe('disc and exclusion zones in the configuration', () => {
  const load = (site: unknown) => {
    const dir = tempDir();
    const file = path.join(dir, 'site.json');
    writeFileSync(file, JSON.stringify(site));
    return { file, ...loadConfig({ configFile: file, dataDir: dir }) };
  };
  const camera = (extra: object) => ({
    id: 'kiosk',
    profile: 'lepton35',
    source: 'v4l2:/dev/video0',
    ...extra,
  });

  it('takes a camera disc in place of the appliance-wide region, and exclusion zones', () => {
    const { config } = load({
      reference: { region: { x: 1, y: 1, width: 8, height: 8 } },
      cameras: [
        camera({
          reference: { disc: { cx: 93.1, cy: 132.2, r: 5.8 } },
          exclude: [{ x: 0, y: 0, width: 30, height: 20 }],
        }),
      ],
    });
    const reference = cameraReference(config, config.cameras[0]);
    expect(reference.disc).toEqual({ cx: 93.1, cy: 132.2, r: 5.8 });
    expect(reference.region).toBeNull();
    expect(config.cameras[0].exclude).toEqual([{ x: 0, y: 0, width: 30, height: 20 }]);
    // A committed calibration measured a rectangle: that is what is read from then on.
    const calibrated = referenceWithCalibration(reference, {
      values: { region: { x: 80, y: 120, width: 12, height: 12 }, setpointC: 36.5, emissivity: 0.97 },
    } as never);
    expect(calibrated).toMatchObject({ disc: null, region: { x: 80, y: 120, width: 12, height: 12 } });
  });

  it('refuses a region and a disc together, and a bad disc or zone, naming the field', () => {
    const both = load.bind(null, {
      cameras: [
        camera({ reference: { region: { x: 1, y: 1, width: 8, height: 8 }, disc: { cx: 9, cy: 9, r: 5 } } }),
      ],
    });
    expect(both).toThrow(
      /\/cameras\/0\/reference\/disc: .* given together with region .*allowed: one of region or disc/,
    );
    expect(() => load({ cameras: [camera({ reference: { disc: { cx: 9, cy: 9, r: 1 } } })] })).toThrow(
      '/cameras/0/reference/disc/r: must be >= 2, got 1',
    );
    expect(() => load({ cameras: [camera({ exclude: [{ x: 0, y: 0, w: 5, height: 5 }] })] })).toThrow(
      /\/cameras\/0\/exclude\/0: unknown key "w" \(allowed: x, y, width, height\)/,
    );
  });
});
