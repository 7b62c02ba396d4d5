/**
 * HTTP refusals: one status for each kind of service refusal, the same for every router.
 * Services throw `ServiceError`s (core/errors.ts) and know nothing of HTTP; the app's error handler
 * answers `{ error: message, ...details }` with the status below.
 */
import { ServiceError, type ServiceErrorKind } from '../core/errors.ts';

export const STATUS_OF_KIND: Record<ServiceErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  unprocessable: 422,
  'too-many': 429,
  unavailable: 503,
};

/** A refusal with an HTTP status; the app's error handler sends `{ error: message }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The status and body of any error thrown by a route. */
export function httpAnswer(error: unknown): { status: number; body: Record<string, unknown> } {
  if (error instanceof ServiceError) {
    const prefix = error.kind === 'invalid' ? 'invalid request: ' : '';
    return { status: STATUS_OF_KIND[error.kind], body: { error: prefix + error.message, ...error.details } };
  }
  const status = (error as { status?: unknown })?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, body: { error: String((error as Error).message) } };
  }
  return { status: 500, body: { error: 'internal error' } };
}
