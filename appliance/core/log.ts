/**
 * The one logger. It writes to stderr, so stdout stays free for `--events -`: JSON lines for
 * machines (journald, log shippers), readable lines when a person watches a terminal.
 * Level from CANTHUS_LOG_LEVEL (default info; silent under the test runner).
 */
import pino from 'pino';
import pretty from 'pino-pretty';

const level = process.env.CANTHUS_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info');

export const log = pino(
  { level, base: undefined },
  process.stderr.isTTY
    ? pretty({ destination: 2, sync: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' })
    : pino.destination(2),
);

export type Logger = typeof log;
