/**
 * A portrait-mounted kiosk camera: the runtime turns frames upright right after capture, so the
 * pipeline, the reference and the detector all see upright frames of the rotated size.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecordingWriter } from '../../appliance/camera/recording.ts';
import { loadConfig } from '../../appliance/config/load.ts';
import { EventBus } from '../../appliance/core/eventBus.ts';
import type { ThermalFrame } from '../../appliance/core/types.ts';
import { CameraRuntime } from '../../appliance/pipeline/cameraRuntime.ts';
import { tempDir, waitFor } from '../helpers/tempDir.ts';

/** Lepton-size frames at 30 °C with a 36 °C block at the stored image's top-left corner. */
function writeRecording(dir: string, frames: number): void {
  mkdirSync(dir, { recursive: true });
  const writer = new RecordingWriter(dir, {
    profile: 'lepton35',
    width: 160,
    height: 120,
    fps: 8.7,
    source: 'test',
  });
  for (let f = 0; f < frames; f++) {
    const counts = new Uint16Array(160 * 120).fill(Math.round((30 + 273.15) * 100));
    for (let y = 0; y < 10; y++)
      for (let x = 0; x < 20; x++) counts[y * 160 + x] = Math.round((36 + 273.15) * 100);
    writer.writeFrame(counts);
  }
  writer.close();
}

function runtimeFor(site: unknown, dataDir: string) {
  const file = path.join(dataDir, 'site.json');
  writeFileSync(file, JSON.stringify(site));
  const { config, profiles } = loadConfig({ configFile: file, dataDir });
  const camera = config.cameras[0];
  const bus = new EventBus();
  const runtime = new CameraRuntime({
    config,
    camera,
    profile: profiles.get(camera.profile)!,
    bus,
    stores: { calibrations: { latest: () => null }, registrations: { latest: () => null } } as never,
    visibleDetection: { detect: null, problem: null },
  });
  return { runtime, bus };
}

describe('a camera mounted rotated', () => {
  it('turns every frame upright before radiometry: 120 × 160 frames, the stored left edge on top', async () => {
    const root = tempDir();
    const recording = path.join(root, 'rec');
    writeRecording(recording, 3);
    const { runtime, bus } = runtimeFor(
      {
        cameras: [
          { id: 'kiosk', profile: 'lepton35', source: `recording:${recording}?pace=fast`, rotate: 90 },
        ],
      },
      root,
    );
    const frames: ThermalFrame[] = [];
    bus.on('frame', ({ thermal }) => void frames.push(thermal), { name: 'test', delivery: 'inline' });
    let ended = false;
    runtime.onEnded(() => {
      ended = true;
    });
    expect({ w: runtime.frameWidth, h: runtime.frameHeight }).toEqual({ w: 120, h: 160 });
    runtime.start();
    await waitFor(() => ended, 15_000, 'end of the recording');
    await runtime.stop();
    expect(frames).toHaveLength(3);
    const frame = frames[0];
    expect({ w: frame.width, h: frame.height }).toEqual({ w: 120, h: 160 });
    // The block at stored (0..19, 0..9) is, turned 90° clockwise, at upright x 110..119, y 0..19.
    const at = (x: number, y: number) => frame.celsius[y * frame.width + x];
    // (Differences: the reference correction shifts the whole frame by one offset.)
    expect(at(115, 5) - at(115, 25)).toBeCloseTo(6, 1);
    expect(at(110, 19) - at(5, 5)).toBeCloseTo(6, 1);
    expect(at(109, 5) - at(5, 5)).toBeCloseTo(0, 1);
    expect(at(110, 20) - at(5, 5)).toBeCloseTo(0, 1);
  });

  it('refuses a rotation that is not a quarter turn, naming the field and the allowed values', () => {
    const root = tempDir();
    const file = path.join(root, 'site.json');
    writeFileSync(
      file,
      JSON.stringify({
        cameras: [{ id: 'kiosk', profile: 'lepton35', source: 'v4l2:/dev/video0', rotate: 45 }],
      }),
    );
    expect(() => loadConfig({ configFile: file, dataDir: root })).toThrow(
      '/cameras/0/rotate: 45 is not allowed (allowed: 0, 90, 180, 270)',
    );
  });
});
