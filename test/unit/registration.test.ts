import { describe, expect, it } from 'vitest';
import { pairByTimestamp } from '../../appliance/detection/registration.ts';

// Visible at 25 fps (every 40 ms), thermal at 8.7 fps: the streams never line up exactly.
const visible = [1000, 1040, 1080, 1120, 1160].map((capturedAt, i) => ({ capturedAt, id: `v${i}` }));

describe('pairByTimestamp', () => {
  it('picks the visible frame nearest in time, with the signed skew', () => {
    expect(pairByTimestamp(1093, visible, 30)).toEqual({ frame: visible[2], skewMs: -13 });
    expect(pairByTimestamp(1107, visible, 30)).toEqual({ frame: visible[3], skewMs: 13 });
  });

  it('does not depend on the order of the frames', () => {
    expect(pairByTimestamp(1093, [...visible].reverse(), 30)?.frame.id).toBe('v2');
  });

  it('prefers the older frame on a tie', () => {
    expect(pairByTimestamp(1060, visible, 30)).toEqual({ frame: visible[1], skewMs: -20 });
    expect(pairByTimestamp(1060, [...visible].reverse(), 30)).toEqual({ frame: visible[1], skewMs: -20 });
  });

  it('returns null when nothing is within the tolerance, inclusive at the limit', () => {
    expect(pairByTimestamp(1230, visible, 50)).toBeNull();
    expect(pairByTimestamp(1210, visible, 50)).toEqual({ frame: visible[4], skewMs: -50 });
    expect(pairByTimestamp(1060, visible, 19)).toBeNull();
    expect(pairByTimestamp(1000, [], 100)).toBeNull();
  });

  it('rejects a negative or missing tolerance', () => {
    expect(() => pairByTimestamp(1000, visible, -1)).toThrow(RangeError);
    expect(() => pairByTimestamp(1000, visible, Number.NaN)).toThrow(/maxSkewMs/);
  });
});
