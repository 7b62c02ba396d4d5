/**
 * Sign-in under attack (issue 11, defect 7): spraying usernames from one address, from many
 * addresses, overflowing the hashing gate, weak passwords at setup and user creation, an expired
 * setup token. Every 429 carries Retry-After; no refusal echoes a password.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { Auth, type AuthOptions } from '../../appliance/features/users/auth.ts';
import { authRoutes } from '../../appliance/features/users/authRoutes.ts';
import {
  HashGate,
  LOGIN_LIMIT_DEFAULTS,
  signInRateLimits,
} from '../../appliance/features/users/loginLimits.ts';
import { passwordProblem } from '../../appliance/features/users/passwordPolicy.ts';
import { userRoutes } from '../../appliance/features/users/userRoutes.ts';
import { createHttpApp } from '../../appliance/http/httpApp.ts';
import { openStores } from '../../appliance/store/store.ts';
import { tempDir } from '../helpers/tempDir.ts';

const FAST = { N: 2 ** 10, r: 8, p: 1, keyLength: 64 };
const PASSWORD = 'a long passphrase for tests';

async function appWith(options: Partial<AuthOptions> = {}, login = LOGIN_LIMIT_DEFAULTS) {
  const dataDir = tempDir();
  const store = await openStores(dataDir);
  const auth = new Auth({ store, scrypt: FAST, ...options });
  const token = (await auth.prepareFirstRun())!;
  const http = createHttpApp({ uiDir: dataDir });
  const audit = () => {};
  http.api.use(authRoutes(auth, audit, signInRateLimits(login)), userRoutes(auth, store.users, audit));
  return { app: http.app, auth, token, dataDir };
}

const login = (app: Parameters<typeof request>[0], username: string, password = 'wrong password here') =>
  request(app).post('/api/login').send({ username, password });

describe('sign-in limits', () => {
  it('limits failed logins per address whatever the usernames: 429 with Retry-After, then even the right password waits', async () => {
    const { app, token } = await appWith({}, { ...LOGIN_LIMIT_DEFAULTS, failuresPerAddress: 5 });
    await request(app).post('/api/setup').send({ token, username: 'admin', password: PASSWORD }).expect(201);
    for (let i = 0; i < 5; i++) expect((await login(app, `fresh-${i}`)).status).toBe(401);
    const refused = await login(app, 'fresh-6');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(14 * 60);
    expect(refused.body.error).toMatch(
      /^too many failed sign-ins from this address: try again in \d+ s \(allowed: 5 failures per 15 min\)$/,
    );
    expect((await login(app, 'admin', PASSWORD)).status).toBe(429);
  });

  it('does not count successful logins against the address', async () => {
    const { app, token } = await appWith({}, { ...LOGIN_LIMIT_DEFAULTS, failuresPerAddress: 3 });
    await request(app).post('/api/setup').send({ token, username: 'admin', password: PASSWORD }).expect(201);
    for (let i = 0; i < 10; i++) expect((await login(app, 'admin', PASSWORD)).status).toBe(200);
    expect((await login(app, 'nobody')).status).toBe(401);
  });

  it('limits failed logins across all addresses together', async () => {
    const { app } = await appWith({}, { ...LOGIN_LIMIT_DEFAULTS, failuresAcrossUsers: 4 });
    // supertest connects from 127.0.0.1 or ::1; the global limit does not care which.
    for (let i = 0; i < 4; i++) expect((await login(app, `user-${i}`)).status).toBe(401);
    const refused = await login(app, 'user-5');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBeDefined();
    expect(refused.body.error).toContain('from all addresses together');
  });

  it('answers a setup lockout with Retry-After', async () => {
    const { app } = await appWith();
    for (let i = 0; i < 5; i++) {
      const wrong = await request(app)
        .post('/api/setup')
        .send({ token: `guess-${i}`, username: 'admin', password: PASSWORD });
      expect(wrong.status).toBe(403);
    }
    const locked = await request(app)
      .post('/api/setup')
      .send({ token: 'guess', username: 'admin', password: PASSWORD });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(50);
  });
});

describe('the hashing gate', () => {
  it('runs at most its slots at once, queues a few and refuses the rest at once with Retry-After 1', async () => {
    const gate = new HashGate(2, 3);
    let running = 0;
    let peak = 0;
    const work = () =>
      gate.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 30));
        running--;
        return 'done';
      });
    const results = await Promise.allSettled(Array.from({ length: 10 }, work));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused).toHaveLength(5);
    expect(refused[0].reason).toMatchObject({ kind: 'too-many', details: { retryAfterS: 1 } });
    expect(refused[0].reason.message).toContain('allowed: 2 at a time, 3 waiting');
    expect(peak).toBe(2);
    expect(gate.stats()).toMatchObject({ running: 0, waiting: 0, peak: 2, refused: 5 });
  });
});

describe('password hashing off the capture path', () => {
  it.runIf(process.platform === 'linux')(
    'runs on a worker thread at nice 19; the process stays at its priority',
    async () => {
      const { app, auth } = await appWith();
      const threadNices = () =>
        readdirSync('/proc/self/task').map((task) =>
          Number(readFileSync(`/proc/self/task/${task}/stat`, 'utf8').split(') ')[1].split(' ')[16]),
        );
      // Earlier tests' services may still have theirs: count.
      const niced = () => threadNices().filter((nice) => nice === 19).length;
      const before = niced();
      expect((await login(app, 'nobody')).status).toBe(401);
      expect(niced()).toBe(before + 1);
      expect(getPriority()).toBe(0);
      await auth.close();
      expect(niced()).toBe(before);
    },
  );
});

describe('password policy at setup and user creation', () => {
  it('refuses the commonest and trivially repetitive passwords, naming the rule and not the password', async () => {
    const { app, token } = await appWith();
    for (const weak of [
      'aaaaaaaaaa',
      '1234567890',
      'qwertyuiop',
      'Password123!',
      'P@ssw0rd2024',
      'abcabcabcabc',
      'abcdefghijkl',
    ]) {
      const answer = await request(app).post('/api/setup').send({ token, username: 'admin', password: weak });
      expect(answer.status, weak).toBe(400);
      expect(answer.body.error).toMatch(/^invalid request: password: .* \(allowed: at least 10 characters/);
      expect(answer.text).not.toContain(weak);
    }
    const ok = await request(app).post('/api/setup').send({ token, username: 'admin', password: PASSWORD });
    expect(ok.status).toBe(201);
    const cookie = ok.headers['set-cookie'];
    const staff = await request(app)
      .post('/api/users')
      .set('Cookie', cookie)
      .send({ username: 'nurse', password: 'Welcome2024!', role: 'staff' });
    expect(staff.status).toBe(400);
    expect(staff.body.error).toContain('common word with digits or symbols added');
  });

  it('accepts passphrases', () => {
    for (const good of ['correct horse battery', 'blackbody at 35', 'Tr0ub4dor&3x', 'front door shift']) {
      expect(passwordProblem(good, 'admin'), good).toBeNull();
    }
  });
});

describe('setup token expiry', () => {
  it('refuses the token after its time, removes its file, and the next start logs a new one', async () => {
    let now = 1_000_000;
    const { app, token, dataDir, auth } = await appWith({ setupTokenTtlMs: 60_000, now: () => now });
    now += 61_000;
    const late = await request(app).post('/api/setup').send({ token, username: 'admin', password: PASSWORD });
    expect(late.status).toBe(403);
    expect(late.body.error).toMatch(
      /^the setup token expired at .* \(valid for 1 min\): restart the appliance/,
    );
    expect(late.text).not.toContain(token);
    await auth.close();
    // A new start (a new Auth on the same folder) makes a new token.
    const store = await openStores(dataDir);
    const again = new Auth({ store, scrypt: FAST, setupTokenTtlMs: 60_000 });
    const fresh = await again.prepareFirstRun();
    expect(fresh).not.toBe(token);
    expect(readFileSync(`${dataDir}/setup-token`, 'utf8').trim()).toBe(fresh);
    await again.close();
  });

  it('deletes the token file when the token expires', async () => {
    const { dataDir, auth } = await appWith({ setupTokenTtlMs: 200 });
    expect(readFileSync(`${dataDir}/setup-token`, 'utf8')).toBeTruthy();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(() => readFileSync(`${dataDir}/setup-token`)).toThrow(/ENOENT/);
    await auth.close();
  });
});
