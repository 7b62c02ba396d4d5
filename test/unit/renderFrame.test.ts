import { describe, expect, it } from 'vitest';
import { colorize, overlaySvg } from '../../appliance/render/frame.ts';

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
