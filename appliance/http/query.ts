/**
 * Query-string parameters for list endpoints (events, alerts): each read once, checked, and refused
 * with a message that names the parameter, the value and what is allowed.
 */
import type { Request } from 'express';
import { ServiceError } from '../core/errors.ts';

const invalid = (message: string) => new ServiceError('invalid', message);

export const ULID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const CAMERA_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;

export interface QueryReader {
  text(name: string): string | undefined;
  /** An ISO 8601 time, as ms since the epoch. */
  time(name: string): number | undefined;
  /** Two times that must make a window: an empty one is a mistake in the filter, not "nothing". */
  window(fromName: string, toName: string): { from?: number; to?: number };
  boolean(name: string): boolean | undefined;
  cameraId(name: string): string | undefined;
  /** A whole number from 1 to `max`. */
  limit(name: string, max: number): number | undefined;
}

/** Refuses parameters not in `allowed` at once; the reader checks each value as it is read. */
export function readQuery(query: Request['query'], allowed: readonly string[]): QueryReader {
  for (const key of Object.keys(query)) {
    if (!allowed.includes(key)) throw invalid(`unknown parameter "${key}" (allowed: ${allowed.join(', ')})`);
  }
  const text = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw invalid(`${name}: give it once, as text`);
    return value;
  };
  const time = (name: string): number | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
    if (!Number.isFinite(ms))
      throw invalid(
        `${name}: must be an ISO 8601 time such as 2026-11-30T08:00:00Z (got ${JSON.stringify(value)})`,
      );
    return ms;
  };
  return {
    text,
    time,
    window(fromName, toName) {
      const from = time(fromName);
      const to = time(toName);
      if (from !== undefined && to !== undefined && to <= from)
        throw invalid(`${toName}: must be after ${fromName}`);
      return { from, to };
    },
    boolean(name) {
      const value = text(name);
      if (value === undefined) return undefined;
      if (value !== 'true' && value !== 'false')
        throw invalid(`${name}: must be true or false (got ${JSON.stringify(value)})`);
      return value === 'true';
    },
    cameraId(name) {
      const value = text(name);
      if (value !== undefined && !CAMERA_ID.test(value))
        throw invalid(`${name}: must be a camera id such as entrance-1 (got ${JSON.stringify(value)})`);
      return value;
    },
    limit(name, max) {
      const value = text(name);
      if (value === undefined) return undefined;
      const n = Number(value);
      if (!/^\d+$/.test(value) || n < 1 || n > max)
        throw invalid(`${name}: must be a whole number from 1 to ${max} (got ${JSON.stringify(value)})`);
      return n;
    },
  };
}
