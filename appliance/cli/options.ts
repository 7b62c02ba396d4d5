/** Option parsers for the CLI: each says what it got and what is allowed. */
import { InvalidArgumentError } from 'commander';
import type { Box } from '../core/types.ts';

export function numberIn(name: string, min: number, max: number, integer = false) {
  return (raw: string): number => {
    const value = Number(raw);
    if (
      raw.trim() === '' ||
      !Number.isFinite(value) ||
      value < min ||
      value > max ||
      (integer && !Number.isInteger(value))
    ) {
      throw new InvalidArgumentError(
        `${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got "${raw}"`,
      );
    }
    return value;
  };
}

export const parsePort = numberIn('port', 0, 65535, true);

/** A rectangle in image pixels, "x,y,width,height": four whole numbers, width and height ≥ 1. */
export function parsePixelBox(raw: string): Box {
  const parts = raw.split(',').map((p) => p.trim());
  const [x, y, width, height] = parts.map(Number);
  if (parts.length !== 4 || parts.some((p) => !/^\d+$/.test(p)) || width < 1 || height < 1) {
    throw new InvalidArgumentError(
      `a region must be x,y,width,height in image pixels (four whole numbers, width and height at least 1, e.g. 86,97,24,36), got "${raw}"`,
    );
  }
  return [x, y, width, height];
}
