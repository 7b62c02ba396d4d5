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
    error?: {
      code: 'too-large' | 'malformed' | 'unknown-command' | 'bad-argument' | 'unavailable';
      message: string;
    };
  };
}

export interface CommandContext {
  maxRequestBytes: number;
  applianceId: string;
  health(): unknown;
  /** Queues outbox rows since `fromMs` for a replay; returns how many (at most `limit`). */
  replaySince(fromMs: number, limit: number): number;
  cameraIds: readonly string[];
  video: { maxDurationS: number; fps: number };
  /** One rendered picture of the camera's next frame; null when no frame comes. */
  snapshot(cameraId: string): Promise<unknown | null>;
  videoStart(cameraId: string, durationS: number, fps: number): unknown;
  videoStop(): unknown;
}

const NAME = /^[A-Za-z0-9_-]{1,32}(\/[A-Za-z0-9_-]{1,32})?$/;
const MAX_REPLAY = 10_000;

export async function handleCommand(
  name: string,
  payload: Buffer,
  ctx: CommandContext,
): Promise<CommandResponse> {
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
    case 'snapshot':
    case 'video/start': {
      const camera = request.cameraId ?? ctx.cameraIds[0];
      if (typeof camera !== 'string' || !ctx.cameraIds.includes(camera))
        return fail(
          'bad-argument',
          `"cameraId" must be one of ${ctx.cameraIds.join(', ') || '(no camera)'}, got ${JSON.stringify(camera)}`,
          correlationId,
        );
      if (name === 'snapshot') {
        const picture = await ctx.snapshot(camera);
        return picture
          ? ok(picture)
          : fail('unavailable', `camera ${camera} delivered no frame in time (offline?)`, correlationId);
      }
      const max = ctx.video.maxDurationS;
      const durationS = request.durationS ?? max;
      if (typeof durationS !== 'number' || !(durationS > 0) || durationS > max)
        return fail(
          'bad-argument',
          `"durationS" must be a number of seconds in (0, ${max}], got ${JSON.stringify(durationS)}`,
          correlationId,
        );
      const fps = request.fps ?? ctx.video.fps;
      if (typeof fps !== 'number' || !(fps > 0) || fps > ctx.video.fps)
        return fail(
          'bad-argument',
          `"fps" must be a number in (0, ${ctx.video.fps}], got ${JSON.stringify(fps)}`,
          correlationId,
        );
      return ok(ctx.videoStart(camera, durationS, fps));
    }
    case 'video/stop':
      return ok(ctx.videoStop());
  }
}
