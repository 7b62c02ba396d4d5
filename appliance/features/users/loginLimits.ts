/**
 * Limits on what an anonymous caller can make the appliance compute by signing in.
 *
 * Each password check is one scrypt hash (≈ 32 MiB, ≈ 0.1–0.3 s of one core). On Node's libuv
 * pool — whose threads GStreamer's pending pulls and bus polls hold — and unbounded, 50 clients
 * posting wrong passwords took every core and starved capture (issue 11). Hashes now run on
 * low-priority workers of their own (hashWorker.ts), and:
 * - `HashGate`: at most `slots` hashes at once (default: one less than the cores, at most 2), a
 *   short queue behind them, and beyond it an immediate 429 with Retry-After — a flood costs the
 *   appliance a JSON answer, not a hash;
 * - `signInRateLimits`: failed sign-ins counted per address (whatever usernames it tries: spraying
 *   from one address) and across all addresses (spraying from many), with express-rate-limit;
 *   successful sign-ins are not counted. Over either limit: 429 with Retry-After until the window ends.
 * The per-(username, address) lockout of `Auth` stays as the third layer.
 */
import { availableParallelism } from 'node:os';
import type { Request, Response } from 'express';
import { ipKeyGenerator, MemoryStore, type RateLimitRequestHandler, rateLimit } from 'express-rate-limit';
import type { SecurityConfig } from '../../config/load.ts';
import { ServiceError } from '../../core/errors.ts';

/** One less than the cores (capture and screening keep one), at least 1, at most 2. */
export function defaultHashConcurrency(): number {
  return Math.max(1, Math.min(2, availableParallelism() - 1));
}

/** A counting semaphore with a bounded queue for password hashing. */
export class HashGate {
  readonly slots: number;
  readonly queueLength: number;
  #running = 0;
  #waiting: (() => void)[] = [];
  #refused = 0;
  #peak = 0;

  constructor(slots: number, queueLength: number) {
    this.slots = Math.max(1, slots);
    this.queueLength = Math.max(0, queueLength);
  }

  /** Runs `work` when a slot is free; refuses at once (429, Retry-After 1 s) when the queue is full. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.slots) {
      if (this.#waiting.length >= this.queueLength) {
        this.#refused++;
        throw new ServiceError(
          'too-many',
          `the appliance is checking too many passwords at once (allowed: ${this.slots} at a time, ${this.queueLength} waiting): try again in 1 s`,
          { retryAfterS: 1 },
        );
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    this.#peak = Math.max(this.#peak, this.#running);
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      // The slot passes straight to the next waiter, so `running` never exceeds `slots`.
      if (next) next();
      else this.#running--;
    }
  }

  stats(): { slots: number; running: number; waiting: number; peak: number; refused: number } {
    return {
      slots: this.slots,
      running: this.#running,
      waiting: this.#waiting.length,
      peak: this.#peak,
      refused: this.#refused,
    };
  }
}

/** firmware-config/defaults.json's `security.login`, for services built without a configuration. */
export const LOGIN_LIMIT_DEFAULTS: SecurityConfig['login'] = {
  failuresPerAddress: 20,
  failuresAcrossUsers: 200,
  windowMin: 15,
  hashConcurrency: 0,
  hashQueue: 8,
};

export interface SignInLimits {
  /** For POST /api/login and /api/setup: failures per address. */
  perAddress: RateLimitRequestHandler;
  /** For POST /api/login: failures from every address together. */
  acrossUsers: RateLimitRequestHandler;
  /** Stops the stores' cleanup timers. */
  shutdown(): void;
}

export function signInRateLimits(login: SecurityConfig['login']): SignInLimits {
  const windowMs = login.windowMin * 60_000;
  const refuse =
    (what: (limit: number) => string) =>
    (req: Request, res: Response): void => {
      const info = (req as Request & { rateLimit?: { limit: number; resetTime?: Date } }).rateLimit;
      const limit = info?.limit ?? 0;
      const waitS = Math.max(
        1,
        Math.ceil(((info?.resetTime?.getTime() ?? Date.now() + windowMs) - Date.now()) / 1000),
      );
      res.setHeader('Retry-After', String(waitS));
      res.status(429).json({
        error: `${what(limit)}: try again in ${waitS} s (allowed: ${limit} failures per ${login.windowMin} min)`,
        retryAfterS: waitS,
      });
    };
  const stores = [new MemoryStore(), new MemoryStore()];
  const perAddress = rateLimit({
    store: stores[0],
    windowMs,
    limit: login.failuresPerAddress,
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    // IPv6 clients are grouped by /56, as one household or site gets many addresses.
    keyGenerator: (req) => ipKeyGenerator(req.ip ?? '', 56),
    handler: refuse(() => 'too many failed sign-ins from this address'),
  });
  const acrossUsers = rateLimit({
    store: stores[1],
    windowMs,
    limit: login.failuresAcrossUsers,
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: () => 'all',
    handler: refuse(() => 'too many failed sign-ins on this appliance, from all addresses together'),
  });
  return {
    perAddress,
    acrossUsers,
    shutdown() {
      for (const store of stores) store.shutdown();
    },
  };
}
