/** Option parsers for the CLI: each says what it got and what is allowed. */
import { InvalidArgumentError } from 'commander';

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
