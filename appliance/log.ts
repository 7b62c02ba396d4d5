/**
 * The one logger. It writes JSON lines to stderr, so stdout stays free for `--events -`.
 * Level from CANTHUS_LOG_LEVEL (default info; silent under the test runner).
 */
import pino from 'pino';

export const log = pino(
  { level: process.env.CANTHUS_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info'), base: undefined },
  pino.destination(2),
);

export type Logger = typeof log;
