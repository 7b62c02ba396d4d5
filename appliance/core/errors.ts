/**
 * An error a person can act on: its message says what is wrong and what is allowed.
 * The CLI prints it without a stack trace; anything else is a bug and keeps its trace.
 */
export class CanthusError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CanthusError';
  }
}

/**
 * What kind of refusal a service gives; the HTTP layer turns each kind into one status
 * (appliance/http/errors.ts), the same for every router.
 */
export type ServiceErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'unprocessable'
  | 'too-many'
  | 'unavailable';

/** A service's refusal: a kind, a message, and details that go with it (e.g. a fit's figures). */
export class ServiceError extends CanthusError {
  constructor(
    readonly kind: ServiceErrorKind,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}
