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
