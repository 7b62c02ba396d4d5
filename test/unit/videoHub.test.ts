/**
 * The video hub on synthetic frames: it listens only while someone watches, encodes once per
 * camera + palette for all its viewers, and a viewer that is still busy skips frames while the
 * others keep getting them.
 */
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../appliance/core/eventBus.ts';
import type { ReferenceState, ThermalFrame } from '../../appliance/core/types.ts';
import { VideoHub, type Viewer } from '../../appliance/features/video/hub.ts';
import { autoRange, colorize, overlaySvg } from '../../appliance/render/frame.ts';

const reference: ReferenceState = {
  state: 'stable',
  reason: 'ok',
  measuredC: 35,
  setpointC: 35,
  offsetC: 0,
  noiseC: 0.05,
  gain: 1,
};

function emitFrame(bus: EventBus, seq: number): void {
  const width = 32;
  const height = 24;
  const celsius = new Float32Array(width * height).map((_, i) => 20 + ((i + seq) % 17));
  const thermal = {
    cameraId: 'cam',
    seq,
    capturedAt: seq,
    width,
    height,
    celsius,
    reference,
    flatField: false,
    reflectedC: 22,
    referenceRegion: { x: 26, y: 2, width: 4, height: 4 },
    calibrationId: null,
  } satisfies ThermalFrame;
  bus.emit('frame', {
    cameraId: 'cam',
    seq,
    capturedAt: seq,
    thermal,
    reference,
    tracks: [
      {
        personId: 'p1',
        box: [4, 4, 10, 12],
        state: 'measured',
        prompts: [],
        decision: 'elevated',
        estimatedCoreC: 38.2,
        display: '38.2 °C',
      },
    ],
  });
}

const viewer = (palette: 'iron' | 'rainbow', ready: () => boolean, got: Buffer[]): Viewer => ({
  cameraId: 'cam',
  palette,
  ready,
  send: (jpeg) => got.push(jpeg),
});

const settle = async (bus: EventBus) => {
  await bus.drain();
  await new Promise((resolve) => setTimeout(resolve, 20));
  await bus.drain();
};

describe('video hub', () => {
  it('listens to frames only while someone watches', async () => {
    const bus = new EventBus();
    const hub = new VideoHub(bus, 'C');
    expect(bus.stats().map((s) => s.name)).not.toContain('video.render');
    const remove = hub.add(viewer('iron', () => true, []));
    expect(bus.stats().map((s) => s.name)).toContain('video.render');
    remove();
    expect(hub.listening).toBe(false);
    expect(bus.stats().map((s) => s.name)).not.toContain('video.render');
  });

  it('encodes once per palette for all viewers; a busy viewer skips frames, the others do not', async () => {
    const bus = new EventBus();
    const hub = new VideoHub(bus, 'C');
    const fast1: Buffer[] = [];
    const fast2: Buffer[] = [];
    const other: Buffer[] = [];
    const slow: Buffer[] = [];
    hub.add(viewer('iron', () => true, fast1));
    hub.add(viewer('iron', () => true, fast2));
    hub.add(viewer('rainbow', () => true, other));
    let slowReady = false;
    hub.add(viewer('iron', () => slowReady, slow));
    for (let seq = 0; seq < 5; seq++) {
      emitFrame(bus, seq);
      await settle(bus);
    }
    expect(fast1).toHaveLength(5);
    expect(fast2).toHaveLength(5);
    expect(other).toHaveLength(5);
    expect(slow).toHaveLength(0);
    // One JPEG object shared by both iron viewers: encoded once.
    expect(fast1.every((jpeg, i) => jpeg === fast2[i])).toBe(true);
    expect(fast1[0][0]).toBe(0xff);
    expect(fast1[0]).not.toEqual(other[0]);
    expect(hub.stats()).toMatchObject({ viewers: 4, encoded: 10, sent: 15, skippedSlowViewer: 5 });
    slowReady = true;
    emitFrame(bus, 5);
    await settle(bus);
    expect(slow).toHaveLength(1);
    hub.close();
  });

  it('colours by an auto range and writes the overlay as text, escaped', () => {
    const celsius = Float32Array.from({ length: 100 }, (_, i) => 20 + i / 10);
    const range = autoRange(celsius);
    expect(range.lowC).toBeLessThan(21);
    expect(range.highC).toBeGreaterThan(29);
    const frame = colorize(celsius, 10, 10, 'white-hot', range);
    expect(frame.rgb[0]).toBeLessThan(frame.rgb[frame.rgb.length - 1]);
    const svg = overlaySvg(
      {
        tracks: [
          {
            personId: 'p',
            box: [1, 1, 3, 3],
            state: 'measured',
            prompts: [],
            decision: 'normal',
            estimatedCoreC: 36.8,
            display: '<36.8 °C>',
          },
        ],
        reference,
        referenceRegion: null,
        unit: 'C',
      },
      frame,
      2,
      'white-hot',
    );
    expect(svg).toContain('● &lt;36.8 °C&gt;');
  });
});
