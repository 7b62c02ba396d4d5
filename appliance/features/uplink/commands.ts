/**
 * Remote commands: `…/request/<name>` answered on `…/response/<name>` with the request's
 * `correlationId` (JSON) and MQTT 5 correlation data echoed. Whatever arrives — oversized, not
 * JSON, an unknown name — gets an error answer and a log line, never an exception.
 */
import { COMMANDS, type CommandName } from '../../core/uplink.ts';

export interface CommandResponse {
  /** Where the answer goes: `response/<name>`, `response/invalid` for names that cannot be a topic. */
  name: string;
  body: {
    correlationId: string | null;
    ok: boolean;
    result?: unknown;
    error?: { code: 'too-large' | 'malformed' | 'unknown-command' | 'bad-argument'; message: string };
  };
}

export interface CommandContext {
  maxRequestBytes: number;
  applianceId: string;
  health(): unknown;
  /** Queues outbox rows since `fromMs` for a replay; returns how many (at most `limit`). */
  replaySince(fromMs: number, limit: number): number;
}

const NAME = /^[A-Za-z0-9_-]{1,32}(\/[A-Za-z0-9_-]{1,32})?$/;
const MAX_REPLAY = 10_000;

export function handleCommand(name: string, payload: Buffer, ctx: CommandContext): CommandResponse {
  const topicName = NAME.test(name) ? name : 'invalid';
  const fail = (
    code: NonNullable<CommandResponse['body']['error']>['code'],
    message: string,
    correlationId: string | null = null,
  ): CommandResponse => ({ name: topicName, body: { correlationId, ok: false, error: { code, message } } });
  if (payload.length > ctx.maxRequestBytes)
    return fail(
      'too-large',
      `request of ${payload.length} bytes; at most ${ctx.maxRequestBytes} are accepted`,
    );
  let request: Record<string, unknown> = {};
  if (payload.length > 0) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch (error) {
      return fail('malformed', `request is not JSON: ${(error as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      return fail('malformed', 'request must be a JSON object');
    request = parsed as Record<string, unknown>;
  }
  const correlationId =
    typeof request.correlationId === 'string' && request.correlationId.length <= 200
      ? request.correlationId
      : null;
  if (!(COMMANDS as readonly string[]).includes(name))
    return fail(
      'unknown-command',
      `unknown command "${name.slice(0, 64)}" (known: ${COMMANDS.join(', ')})`,
      correlationId,
    );
  const ok = (result: unknown): CommandResponse => ({
    name: topicName,
    body: { correlationId, ok: true, result },
  });
  switch (name as CommandName) {
    case 'ping':
      return ok({ pong: true, applianceId: ctx.applianceId, time: new Date().toISOString() });
    case 'health':
      return ok(ctx.health());
    case 'events': {
      const since = request.since;
      const fromMs = typeof since === 'string' ? Date.parse(since) : Number.NaN;
      if (!Number.isFinite(fromMs))
        return fail(
          'bad-argument',
          `"since" must be an ISO 8601 time, got ${JSON.stringify(since)}`,
          correlationId,
        );
      const limit = request.limit === undefined ? 1000 : request.limit;
      if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_REPLAY)
        return fail(
          'bad-argument',
          `"limit" must be an integer 1–${MAX_REPLAY}, got ${JSON.stringify(limit)}`,
          correlationId,
        );
      const count = ctx.replaySince(fromMs, limit);
      return ok({ since: new Date(fromMs).toISOString(), replaying: count, truncated: count === limit });
    }
  }
}
