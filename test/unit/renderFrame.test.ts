import { describe, expect, it } from 'vitest';
import {
  blendLookup,
  colorize,
  overlaySvg,
  visibleOverlaySvg,
  visibleViewSize,
  warpVisible,
} from '../../appliance/render/frame.ts';

describe('the live view overlay', () => {
  it('draws the colour scale hot at the top, cold at the bottom, with stop offsets SVG accepts', () => {
    const celsius = new Float32Array(64 * 48).map((_, i) => 20 + (i % 64) / 4);
    const frame = colorize(celsius, 64, 48, 'iron');
    const svg = overlaySvg(
      {
        tracks: [],
        reference: {
          state: 'stable',
          reason: '',
          measuredC: 35,
          setpointC: 35,
          offsetC: 0,
          noiseC: 0.05,
          gain: 1,
        },
        referenceRegion: null,
        unit: 'C',
      },
      frame,
      4,
      'iron',
    );
    const stops = [...svg.matchAll(/<stop offset="([\d.]+)" stop-color="rgb\((\d+),(\d+),(\d+)\)"\/>/g)];
    expect(stops.length).toBeGreaterThan(2);
    const offsets = stops.map((m) => Number(m[1]));
    // SVG clamps a stop offset below the previous one: the bar would be one colour.
    for (let i = 1; i < offsets.length; i++) expect(offsets[i]).toBeGreaterThan(offsets[i - 1]);
    const brightness = (m: RegExpMatchArray) => Number(m[2]) + Number(m[3]) + Number(m[4]);
    expect(brightness(stops[0])).toBeGreaterThan(brightness(stops[stops.length - 1]));
  });
});

describe('the bi-spectrum views', () => {
  const reference = {
    state: 'stable' as const,
    reason: '',
    measuredC: 35,
    setpointC: 35,
    offsetC: 0,
    noiseC: 0.05,
    gain: 1,
  };

  it('warps the visible image into thermal geometry through the inverse of the registration', () => {
    // Visible → thermal: thermal = visible / 2 + (3, 1). Each output pixel (scale 2) looks up its
    // visible pixel through H⁻¹; the visible image is 40×30, a value per pixel for checking.
    const H = [0.5, 0, 3, 0, 0.5, 1, 0, 0, 1] as Parameters<typeof blendLookup>[0];
    const lookup = blendLookup(H, { width: 16, height: 12 }, { width: 40, height: 30 }, 2);
    expect(lookup.length).toBe(32 * 24);
    // Output pixel (x, y) is thermal ((x + .5) / 2, (y + .5) / 2) → visible 2·(t − (3, 1)).
    const at = (x: number, y: number) => lookup[y * 32 + x];
    const tx = (x: number) => Math.floor(2 * ((x + 0.5) / 2 - 3));
    const ty = (y: number) => Math.floor(2 * ((y + 0.5) / 2 - 1));
    expect(at(10, 5)).toBe(ty(5) * 40 + tx(10));
    expect(at(31, 23)).toBe(ty(23) * 40 + tx(31));
    // Left of thermal x = 3 the visible camera sees nothing: black.
    expect(at(2, 5)).toBe(-1);
    const rgb = new Uint8Array(40 * 30 * 3).map((_, i) => (i / 3) % 251);
    const warped = warpVisible(rgb, lookup);
    expect(warped[(5 * 32 + 10) * 3]).toBe(rgb[at(10, 5) * 3]);
    expect([...warped.subarray((5 * 32 + 2) * 3, (5 * 32 + 2) * 3 + 3)]).toEqual([0, 0, 0]);
  });

  it('places the persons on the visible view through H⁻¹, and none without a registration', () => {
    const H = [0.5, 0, 3, 0, 0.5, 1, 0, 0, 1] as Parameters<typeof blendLookup>[0];
    const input = {
      tracks: [
        {
          personId: 'p1',
          box: [13, 11, 10, 20] as [number, number, number, number],
          state: 'measured' as const,
          decision: 'elevated' as const,
          display: '38.2 °C',
          prompts: [],
        },
      ],
      reference,
      referenceRegion: null,
      unit: 'C' as const,
    } as unknown as Parameters<typeof visibleOverlaySvg>[0];
    const svg = visibleOverlaySvg(input, H, { width: 320, height: 240 });
    // Thermal (13, 11) → visible ((13 − 3)·2, (11 − 1)·2) = (20, 20); 10×20 → 20×40.
    expect(svg).toContain('<rect x="20" y="20" width="20" height="40"');
    expect(svg).toContain('▲ 38.2 °C');
    expect(visibleOverlaySvg(input, null, { width: 320, height: 240 })).not.toContain('<rect');
    // An HD visible frame is shown at most 640 wide.
    expect(visibleViewSize({ width: 1920, height: 1080 })).toEqual({ width: 640, height: 360 });
  });
});
