import { describe, expect, it } from 'vitest';
import { rotateCounts, rotatedSize, rotateFrame } from '../../appliance/camera/rotate.ts';

// A 3 × 2 image:  1 2 3
//                 4 5 6
const image = Uint16Array.from([1, 2, 3, 4, 5, 6]);

describe('camera rotation', () => {
  it('turns 90° clockwise: the left column becomes the top row (a head at the left ends up on top)', () => {
    // 2 wide × 3 tall:  4 1 / 5 2 / 6 3
    expect([...rotateCounts(image, 3, 2, 90)]).toEqual([4, 1, 5, 2, 6, 3]);
    expect(rotatedSize(3, 2, 90)).toEqual({ width: 2, height: 3 });
  });

  it('turns 180° and 270°, and 0° leaves the frame as it is', () => {
    expect([...rotateCounts(image, 3, 2, 180)]).toEqual([6, 5, 4, 3, 2, 1]);
    // 270° clockwise = 90° counter-clockwise:  3 6 / 2 5 / 1 4
    expect([...rotateCounts(image, 3, 2, 270)]).toEqual([3, 6, 2, 5, 1, 4]);
    expect(rotateCounts(image, 3, 2, 0)).toBe(image);
    // Four quarter turns are the identity.
    let counts: Uint16Array = image;
    let [w, h] = [3, 2];
    for (let i = 0; i < 4; i++) {
      counts = rotateCounts(counts, w, h, 90);
      [w, h] = [h, w];
    }
    expect([...counts]).toEqual([...image]);
  });

  it('rotates a frame: width and height are the upright ones, time, sequence and flat-field kept', () => {
    const frame = {
      cameraId: 'k',
      seq: 4,
      capturedAt: 1000,
      width: 3,
      height: 2,
      data: image,
      flatField: true,
    };
    const upright = rotateFrame(frame, 90);
    expect(upright).toMatchObject({
      cameraId: 'k',
      seq: 4,
      capturedAt: 1000,
      width: 2,
      height: 3,
      flatField: true,
    });
    expect(frame.width).toBe(3);
    expect(() => rotateCounts(image, 4, 2, 90)).toThrow(/6 pixels, expected 4×2/);
  });
});
