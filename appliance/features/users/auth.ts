/**
 * Who may do what: password hashing (scrypt), first-run setup token, in-memory sessions in an
 * HttpOnly SameSite=Strict cookie, login lockout. The guards every router uses (CSRF, roles, body
 * validation) are in appliance/http/.
 *
 * Sessions live in memory: a restart logs everyone out. That is deliberate (no session secret to
 * store) and cheap on an appliance that restarts rarely.
 */
import { createHash, randomBytes, randomUUID, scrypt, timingSafeEqual } from 'node:crypto';
import { existsSync, unlinkSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import path from 'node:path';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ServiceError } from '../../core/errors.ts';
import { log } from '../../core/log.ts';
import type { SessionUser } from '../../http/guards.ts';
import { writeFileAtomic } from '../../store/jsonFile.ts';
import {
  type PasswordHash,
  type Role,
  USER_LANGUAGES,
  type UserChange,
  UserConflictError,
  type UserLanguage,
  type UserRecord,
  type Users,
} from '../../store/users.ts';
import { HashWorkers, type Kdf } from './hashWorker.ts';
import { defaultHashConcurrency, HashGate } from './loginLimits.ts';
import { PASSWORD_RULE, passwordProblem } from './passwordPolicy.ts';

// ---------------------------------------------------------------------------------------------
// Passwords

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
  keyLength: number;
}

/** ≈ 32 MiB and ≈ 0.1 s per hash on a small box: slow for guessing, fine for logins. */
export const SCRYPT_DEFAULTS: ScryptParams = { N: 2 ** 15, r: 8, p: 1, keyLength: 64 };

function scryptAsync(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFC'),
      salt,
      params.keyLength,
      { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

export async function hashPassword(
  password: string,
  params: ScryptParams = SCRYPT_DEFAULTS,
  kdf: Kdf = scryptAsync,
): Promise<PasswordHash> {
  const salt = randomBytes(16);
  const key = await kdf(password, salt, params);
  return { algorithm: 'scrypt', ...params, salt: salt.toString('base64'), hash: key.toString('base64') };
}

/** Constant-time check against a stored hash; parameters outside sane bounds never verify. */
export async function verifyPassword(
  password: string,
  stored: PasswordHash,
  kdf: Kdf = scryptAsync,
): Promise<boolean> {
  const { N, r, p, keyLength } = stored;
  const sane =
    stored.algorithm === 'scrypt' &&
    Number.isInteger(N) &&
    N >= 2 ** 10 &&
    N <= 2 ** 20 &&
    (N & (N - 1)) === 0 &&
    r >= 1 &&
    r <= 32 &&
    p >= 1 &&
    p <= 4 &&
    keyLength >= 32 &&
    keyLength <= 128;
  if (!sane) return false;
  const expected = Buffer.from(stored.hash, 'base64');
  const key = await kdf(password, Buffer.from(stored.salt, 'base64'), { N, r, p, keyLength });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** Equal-length digests make the comparison constant-time whatever the inputs' lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

// ---------------------------------------------------------------------------------------------
// Login lockout

export interface LockoutOptions {
  maxFailures: number;
  lockMs: number;
  /** Failures older than this are forgotten. */
  windowMs: number;
}

export const LOCKOUT_DEFAULTS: LockoutOptions = { maxFailures: 5, lockMs: 60_000, windowMs: 15 * 60_000 };

/** Counts failed attempts per key (username + address); after `maxFailures` the key is locked. */
export class LoginLimiter {
  readonly #o: LockoutOptions;
  readonly #entries = new Map<string, { failures: number; firstAt: number; lockedUntil: number }>();

  constructor(options: Partial<LockoutOptions> = {}) {
    this.#o = { ...LOCKOUT_DEFAULTS, ...options };
  }

  /** Seconds until the key may try again, or 0 when it may try now. */
  retryAfterS(key: string, now: number): number {
    const entry = this.#entries.get(key);
    if (!entry || entry.lockedUntil <= now) return 0;
    return Math.ceil((entry.lockedUntil - now) / 1000);
  }

  /** Records a failure; returns the lockout in seconds it caused (0 when none). */
  fail(key: string, now: number): number {
    this.#prune(now);
    let entry = this.#entries.get(key);
    if (
      !entry ||
      now - entry.firstAt > this.#o.windowMs ||
      (entry.lockedUntil > 0 && entry.lockedUntil <= now)
    ) {
      entry = { failures: 0, firstAt: now, lockedUntil: 0 };
      this.#entries.set(key, entry);
    }
    entry.failures++;
    if (entry.failures >= this.#o.maxFailures) {
      entry.lockedUntil = now + this.#o.lockMs;
      return Math.ceil(this.#o.lockMs / 1000);
    }
    return 0;
  }

  succeed(key: string): void {
    this.#entries.delete(key);
  }

  #prune(now: number): void {
    if (this.#entries.size < 1000) return;
    for (const [key, entry] of this.#entries) {
      if (entry.lockedUntil <= now && now - entry.firstAt > this.#o.windowMs) this.#entries.delete(key);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Sessions

interface Session extends SessionUser {
  createdAt: number;
  lastSeenAt: number;
}

export const SESSION_COOKIE = 'canthus_session';
export const SESSION_IDLE_MS = 12 * 3600_000;

/** Random 32-byte tokens; the table keys them by their SHA-256, so it never holds a usable token. */
export class SessionTable {
  readonly #sessions = new Map<string, Session>();
  readonly #idleMs: number;

  constructor(idleMs = SESSION_IDLE_MS) {
    this.#idleMs = idleMs;
  }

  create(user: SessionUser, now: number): string {
    this.#sweep(now);
    const token = randomBytes(32).toString('base64url');
    this.#sessions.set(digest(token), {
      username: user.username,
      role: user.role,
      createdAt: now,
      lastSeenAt: now,
    });
    return token;
  }

  /** The session's user, refreshing its idle timer; null when unknown or expired. */
  get(token: string, now: number): SessionUser | null {
    const key = digest(token);
    const session = this.#sessions.get(key);
    if (!session) return null;
    if (now - session.lastSeenAt > this.#idleMs) {
      this.#sessions.delete(key);
      return null;
    }
    session.lastSeenAt = now;
    return { username: session.username, role: session.role };
  }

  destroy(token: string): void {
    this.#sessions.delete(digest(token));
  }

  /** Ends every session of a user (removed, disabled, password reset) but `keep`; returns how many. */
  destroyUser(username: string, keep: string | null = null): number {
    const kept = keep === null ? null : digest(keep);
    let ended = 0;
    for (const [key, session] of this.#sessions)
      if (session.username === username && key !== kept) {
        this.#sessions.delete(key);
        ended++;
      }
    return ended;
  }

  /** A new role applies to the user's open sessions from their next request. */
  setRole(username: string, role: Role): void {
    for (const session of this.#sessions.values()) if (session.username === username) session.role = role;
  }

  get size(): number {
    return this.#sessions.size;
  }

  #sweep(now: number): void {
    for (const [key, session] of this.#sessions)
      if (now - session.lastSeenAt > this.#idleMs) this.#sessions.delete(key);
  }
}

const digest = (token: string) => createHash('sha256').update(token).digest('hex');

export function readCookie(req: { headers: IncomingHttpHeaders }, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Request guards

// ---------------------------------------------------------------------------------------------
// The auth service

export const USERNAME_PATTERN = '^[a-z0-9][a-z0-9._-]{2,31}$';
export const USERNAME_RULE =
  '3–32 characters: lower-case letters, digits, ".", "_" or "-", starting with a letter or digit';

export interface AuthOptions {
  /** The users and the data folder (for the setup token file). */
  store: { readonly dataDir: string; readonly users: Users };
  /** Mark the cookie Secure (set when the appliance is served over TLS). */
  secureCookies?: boolean;
  idleMs?: number;
  lockout?: Partial<LockoutOptions>;
  scrypt?: ScryptParams;
  /** How long a setup token stays valid (default 60 min). */
  setupTokenTtlMs?: number;
  /** Password hashes at once and checks waiting for one (defaults: see `defaultHashConcurrency`). */
  hashing?: { slots?: number; queue?: number };
  now?: () => number;
}

export const SETUP_TOKEN_TTL_DEFAULT_MS = 60 * 60_000;

export class Auth {
  readonly #store: { readonly dataDir: string; readonly users: Users };
  readonly #secureCookies: boolean;
  readonly #sessions: SessionTable;
  readonly #limiter: LoginLimiter;
  readonly #scrypt: ScryptParams;
  readonly #now: () => number;
  readonly #setupTokenTtlMs: number;
  readonly #hashGate: HashGate;
  readonly #hashWorkers = new HashWorkers();
  #setupToken: string | null = null;
  #setupTokenExpiresAt = 0;
  #setupTokenTimer: NodeJS.Timeout | null = null;
  #dummyHash: Promise<PasswordHash> | null = null;

  constructor(options: AuthOptions) {
    this.#store = options.store;
    this.#secureCookies = options.secureCookies ?? false;
    this.#sessions = new SessionTable(options.idleMs);
    this.#limiter = new LoginLimiter(options.lockout);
    this.#scrypt = options.scrypt ?? SCRYPT_DEFAULTS;
    this.#now = options.now ?? Date.now;
    this.#setupTokenTtlMs = options.setupTokenTtlMs ?? SETUP_TOKEN_TTL_DEFAULT_MS;
    this.#hashGate = new HashGate(
      options.hashing?.slots || defaultHashConcurrency(),
      options.hashing?.queue ?? 8,
    );
  }

  /** Password hashing slots in use, waiting and refused (for health). */
  hashingStats(): ReturnType<HashGate['stats']> {
    return this.#hashGate.stats();
  }

  /** Forgets the setup token's expiry timer and stops the hashing workers (the feature's stop). */
  async close(): Promise<void> {
    this.#clearSetupTimer();
    await this.#hashWorkers.close();
  }

  #clearSetupTimer(): void {
    if (this.#setupTokenTimer) clearTimeout(this.#setupTokenTimer);
    this.#setupTokenTimer = null;
  }

  get setupTokenFile(): string {
    return path.join(this.#store.dataDir, 'setup-token');
  }

  get setupRequired(): boolean {
    return this.#store.users.count() === 0;
  }

  /**
   * First run (no user): a fresh one-time setup token, logged and written to DATA/setup-token
   * (0600), valid for the configured time (then its file goes; the next start makes and logs a
   * new one). With users, a leftover token file goes. Returns the token, or null when setup is done.
   */
  async prepareFirstRun(): Promise<string | null> {
    if (!this.setupRequired) {
      this.#setupToken = null;
      this.#removeTokenFile();
      return null;
    }
    const token = randomBytes(24).toString('base64url');
    await writeFileAtomic(this.setupTokenFile, `${token}\n`);
    this.#setupToken = token;
    this.#setupTokenExpiresAt = this.#now() + this.#setupTokenTtlMs;
    const expiresAt = new Date(this.#setupTokenExpiresAt).toISOString();
    log.warn(
      { setupToken: token, setupTokenFile: this.setupTokenFile, expiresAt },
      'no user yet: create the first admin with POST /api/setup {token, username, password} before the token expires',
    );
    this.#clearSetupTimer();
    // A token left lying around after its time is one more secret on disk: remove it when it expires.
    this.#setupTokenTimer = setTimeout(() => {
      if (this.#setupToken === token) {
        this.#removeTokenFile();
        log.warn({ expiredAt: expiresAt }, 'setup token expired: restart the appliance to get a new one');
      }
    }, this.#setupTokenTtlMs);
    this.#setupTokenTimer.unref();
    return token;
  }

  /** Creates the first admin with the setup token; the token is spent. */
  async completeSetup(
    input: { token: string; username: string; password: string },
    ip: string,
  ): Promise<SessionUser> {
    if (!this.setupRequired)
      throw new ServiceError('conflict', 'setup is already done: an admin exists; log in instead');
    const key = `setup\u0000${ip}`;
    const wait = this.#limiter.retryAfterS(key, this.#now());
    if (wait > 0)
      throw new ServiceError(
        'too-many',
        `too many wrong setup tokens from this address: try again in ${wait} s`,
        { retryAfterS: wait },
      );
    if (this.#setupToken === null) {
      throw new ServiceError(
        'conflict',
        'no setup token is active: restart the appliance to get one (see its log)',
      );
    }
    if (this.#now() >= this.#setupTokenExpiresAt) {
      throw new ServiceError(
        'forbidden',
        `the setup token expired at ${new Date(this.#setupTokenExpiresAt).toISOString()} (valid for ${Math.round(this.#setupTokenTtlMs / 60_000)} min): restart the appliance to get a new one in its log and in ${this.setupTokenFile}`,
      );
    }
    if (!constantTimeEqual(input.token, this.#setupToken)) {
      this.#limiter.fail(key, this.#now());
      throw new ServiceError(
        'forbidden',
        `setup token is wrong: use the one in ${this.setupTokenFile} or in the log`,
      );
    }
    const user = await this.#newUser(input.username, input.password, 'admin', null);
    try {
      await this.#store.users.add(user, { onlyIfNoUsers: true });
    } catch (error) {
      if (error instanceof UserConflictError) throw new ServiceError('conflict', error.message);
      throw error;
    }
    this.#setupToken = null;
    this.#removeTokenFile();
    this.#limiter.succeed(key);
    log.info({ username: user.username }, 'first-run setup done: admin created, setup token deleted');
    return { username: user.username, role: user.role };
  }

  /** Checks a password, with lockout per username + address. */
  async login(input: { username: string; password: string }, ip: string): Promise<SessionUser> {
    const key = `${input.username}\u0000${ip}`;
    const wait = this.#limiter.retryAfterS(key, this.#now());
    if (wait > 0) {
      throw new ServiceError(
        'too-many',
        `too many failed logins for "${input.username}" from this address: try again in ${wait} s`,
        { retryAfterS: wait },
      );
    }
    const user = this.#store.users.find(input.username);
    // Unknown users cost the same time as known ones, so timing does not reveal usernames.
    const stored = user ? user.password : await this.#dummy();
    const checked = await this.#hashGate.run(() =>
      verifyPassword(input.password, stored, this.#hashWorkers.kdf),
    );
    const ok = user !== null && checked;
    if (!user || !ok) {
      const locked = this.#limiter.fail(key, this.#now());
      log.warn({ username: input.username, ip, locked }, 'failed login');
      throw new ServiceError(
        'unauthenticated',
        locked > 0
          ? `username or password is wrong; too many failures: this username is locked for ${locked} s from this address`
          : 'username or password is wrong',
      );
    }
    if (user.disabled) {
      // The password was right: saying so does not help a guesser, and the user learns why.
      throw new ServiceError('forbidden', `user "${user.username}" is disabled: ask an admin to enable it`);
    }
    this.#limiter.succeed(key);
    log.info({ username: user.username, role: user.role, ip }, 'login');
    return { username: user.username, role: user.role };
  }

  /** Creates a user (admin action). */
  async createUser(
    input: { username: string; password: string; role: Role },
    createdBy: string,
  ): Promise<UserRecord> {
    const user = await this.#newUser(input.username, input.password, input.role, createdBy);
    try {
      await this.#store.users.add(user);
    } catch (error) {
      if (error instanceof UserConflictError) throw new ServiceError('conflict', error.message);
      throw error;
    }
    log.info({ username: user.username, role: user.role, createdBy }, 'user created');
    return user;
  }

  /**
   * Changes a user's role or disabled state (admin action). Refuses leaving no enabled admin.
   * A disabled user's sessions end at once; a new role applies to open sessions from their next request.
   */
  async changeUser(
    username: string,
    change: { role?: Role; disabled?: boolean },
    by: string,
  ): Promise<UserRecord> {
    const user = await this.#change(username, change, by);
    if (change.disabled) this.#sessions.destroyUser(username);
    if (change.role !== undefined) this.#sessions.setRole(username, change.role);
    log.info({ username, ...change, by }, 'user changed');
    return user;
  }

  /**
   * Sets a new password (admin reset), checked with the same policy as a new user's; the user's
   * other sessions end (whoever knew the old password is signed out), except `keepToken`'s.
   */
  async resetPassword(
    username: string,
    password: string,
    by: string,
    keepToken: string | null,
  ): Promise<UserRecord> {
    if (!this.#store.users.find(username)) throw unknownUser(username, this.#store.users);
    const problem = passwordProblem(password, username);
    if (problem) throw new ServiceError('invalid', `password: ${problem} (allowed: ${PASSWORD_RULE})`);
    const hash = await this.#hashGate.run(() => hashPassword(password, this.#scrypt, this.#hashWorkers.kdf));
    const user = await this.#change(username, { password: hash }, by);
    const ended = this.#sessions.destroyUser(username, keepToken);
    log.info({ username, by, sessionsEnded: ended }, 'password reset');
    return user;
  }

  /** Removes a user (admin action); their sessions end at once. Refuses removing the last enabled admin. */
  async removeUser(username: string, by: string): Promise<void> {
    let removed: boolean;
    try {
      removed = await this.#store.users.remove(username);
    } catch (error) {
      if (error instanceof UserConflictError) throw new ServiceError('conflict', error.message);
      throw error;
    }
    if (!removed) throw unknownUser(username, this.#store.users);
    const ended = this.#sessions.destroyUser(username);
    log.info({ username, by, sessionsEnded: ended }, 'user removed');
  }

  /** The user's own choice of UI language, kept in their record (any device applies it at sign-in). */
  async setLanguage(username: string, language: UserLanguage): Promise<UserRecord> {
    return this.#change(username, { language }, null);
  }

  async #change(username: string, change: UserChange, by: string | null): Promise<UserRecord> {
    let user: UserRecord | null;
    try {
      user = await this.#store.users.update(username, change, by, new Date(this.#now()).toISOString());
    } catch (error) {
      if (error instanceof UserConflictError) throw new ServiceError('conflict', error.message);
      throw error;
    }
    if (!user) throw unknownUser(username, this.#store.users);
    return user;
  }

  /** Starts a session and sets its cookie. */
  startSession(res: Response, user: SessionUser): void {
    const token = this.#sessions.create(user, this.#now());
    res.cookie(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: this.#secureCookies,
      path: '/',
    });
  }

  endSession(req: Request, res: Response): void {
    const token = readCookie(req, SESSION_COOKIE);
    if (token) this.#sessions.destroy(token);
    res.clearCookie(SESSION_COOKIE, {
      httpOnly: true,
      sameSite: 'strict',
      secure: this.#secureCookies,
      path: '/',
    });
  }

  /** The session user of a raw request (WebSocket upgrades bypass express); null when anonymous. */
  userOf(req: IncomingMessage): SessionUser | null {
    const token = readCookie(req, SESSION_COOKIE);
    return token ? this.#sessions.get(token, this.#now()) : null;
  }

  /** Sets `res.locals.user` from the session cookie (null when anonymous) for every later handler. */
  readonly authenticate: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
    const token = readCookie(req, SESSION_COOKIE);
    res.locals.user = token ? this.#sessions.get(token, this.#now()) : null;
    res.locals.authChecked = true;
    next();
  };

  async #newUser(
    username: string,
    password: string,
    role: Role,
    createdBy: string | null,
  ): Promise<UserRecord> {
    const problem = passwordProblem(password, username);
    if (problem) throw new ServiceError('invalid', `password: ${problem} (allowed: ${PASSWORD_RULE})`);
    return {
      id: randomUUID(),
      username,
      role,
      password: await this.#hashGate.run(() => hashPassword(password, this.#scrypt, this.#hashWorkers.kdf)),
      createdAt: new Date(this.#now()).toISOString(),
      createdBy,
    };
  }

  #dummy(): Promise<PasswordHash> {
    this.#dummyHash ??= this.#hashGate.run(() =>
      hashPassword(randomBytes(16).toString('hex'), this.#scrypt, this.#hashWorkers.kdf),
    );
    // A refused first attempt must not leave a rejected promise behind for every later login.
    this.#dummyHash.catch(() => {
      this.#dummyHash = null;
    });
    return this.#dummyHash;
  }

  #removeTokenFile(): void {
    if (existsSync(this.setupTokenFile)) unlinkSync(this.setupTokenFile);
  }
}

function unknownUser(username: string, users: Users): ServiceError {
  const names = users.all().map((u) => u.username);
  return new ServiceError(
    'not-found',
    `no user "${username}" (users: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''})`,
  );
}

// Body schemas shared by the auth and user routes.

const usernameSchema = { type: 'string', pattern: USERNAME_PATTERN, description: `must be ${USERNAME_RULE}` };
const passwordSchema = { type: 'string', minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH };

export const SETUP_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['token', 'username', 'password'],
  properties: {
    token: { type: 'string', minLength: 1, maxLength: 200 },
    username: usernameSchema,
    password: passwordSchema,
  },
};

export const LOGIN_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'password'],
  // Login does not enforce the creation rules: a wrong password is just wrong.
  properties: {
    username: { type: 'string', minLength: 1, maxLength: 64 },
    password: { type: 'string', minLength: 1, maxLength: PASSWORD_MAX_LENGTH },
  },
};

export const NEW_USER_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'password', 'role'],
  properties: { username: usernameSchema, password: passwordSchema, role: { enum: ['admin', 'staff'] } },
};

export const CHANGE_USER_BODY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    role: { enum: ['admin', 'staff'] },
    disabled: { type: 'boolean', description: 'a disabled user cannot sign in; their sessions end' },
  },
};

export const PASSWORD_RESET_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['password'],
  properties: { password: passwordSchema },
};

export const LANGUAGE_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['language'],
  properties: { language: { enum: [...USER_LANGUAGES] } },
};
