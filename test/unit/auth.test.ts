import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import {
  Auth,
  type AuthOptions,
  constantTimeEqual,
  hashPassword,
  LoginLimiter,
  SCRYPT_DEFAULTS,
  SessionTable,
  verifyPassword,
} from '../../appliance/features/users/auth.ts';
import { authRoutes } from '../../appliance/features/users/authRoutes.ts';
import { userRoutes } from '../../appliance/features/users/userRoutes.ts';
import { requireRole } from '../../appliance/http/guards.ts';
import { createHttpApp } from '../../appliance/http/httpApp.ts';
import { openStores as openStore } from '../../appliance/store/store.ts';
import { tempDir } from '../helpers/tempDir.ts';

/** Cheap scrypt for tests that only need a hash, not its cost. */
const FAST = { N: 2 ** 10, r: 8, p: 1, keyLength: 64 };
const PASSWORD = 'correct horse battery';

async function appWith(dataDir: string, options: Partial<AuthOptions> = {}) {
  const store = await openStore(dataDir);
  const auth = new Auth({ store, scrypt: FAST, ...options });
  const token = await auth.prepareFirstRun();
  const probe = Router();
  probe.get('/probe/staff', requireRole('staff'), (_req, res) => void res.json({ ok: 'staff' }));
  probe.post('/probe/admin', requireRole('admin'), (_req, res) => void res.json({ ok: 'admin' }));
  const http = createHttpApp({ uiDir: dataDir });
  const audit = () => {};
  http.api.use(authRoutes(auth, audit), userRoutes(auth, store.users, audit), probe);
  return { store, auth, token, app: http.app };
}

describe('passwords', () => {
  it('hashes with scrypt, a random salt and the parameters stored beside the hash', async () => {
    const a = await hashPassword(PASSWORD);
    const b = await hashPassword(PASSWORD);
    expect(a).toMatchObject({ algorithm: 'scrypt', ...SCRYPT_DEFAULTS });
    expect(a.salt).not.toBe(b.salt);
    expect(a.hash).not.toBe(b.hash);
    expect(JSON.stringify(a)).not.toContain(PASSWORD);
    expect(await verifyPassword(PASSWORD, a)).toBe(true);
    expect(await verifyPassword(`${PASSWORD}!`, a)).toBe(false);
  });

  it('verifies with the stored parameters and refuses absurd ones', async () => {
    const hash = await hashPassword(PASSWORD, FAST);
    expect(await verifyPassword(PASSWORD, hash)).toBe(true);
    expect(await verifyPassword(PASSWORD, { ...hash, N: 2 ** 11 })).toBe(false);
    expect(await verifyPassword(PASSWORD, { ...hash, N: 2 ** 30 })).toBe(false);
    expect(await verifyPassword(PASSWORD, { ...hash, N: 1000 })).toBe(false);
  });

  it('compares tokens of any length', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('', 'x')).toBe(false);
  });
});

describe('login lockout and sessions', () => {
  it('locks a username + address after 5 failures for 60 s, then lets it try again', () => {
    const limiter = new LoginLimiter();
    const t0 = 1_000_000;
    for (let i = 1; i <= 4; i++) expect(limiter.fail('ann\0ip', t0 + i)).toBe(0);
    expect(limiter.retryAfterS('ann\0ip', t0 + 5)).toBe(0);
    expect(limiter.fail('ann\0ip', t0 + 5)).toBe(60);
    expect(limiter.retryAfterS('ann\0ip', t0 + 6)).toBe(60);
    expect(limiter.retryAfterS('ann\0other-ip', t0 + 6)).toBe(0);
    expect(limiter.retryAfterS('ann\0ip', t0 + 5 + 59_000)).toBe(1);
    expect(limiter.retryAfterS('ann\0ip', t0 + 5 + 60_000)).toBe(0);
    // After the lock the count starts over.
    expect(limiter.fail('ann\0ip', t0 + 70_000)).toBe(0);
  });

  it('a success clears the failures', () => {
    const limiter = new LoginLimiter();
    for (let i = 0; i < 4; i++) limiter.fail('k', i);
    limiter.succeed('k');
    for (let i = 0; i < 4; i++) expect(limiter.fail('k', 10 + i)).toBe(0);
  });

  it('sessions expire after 12 h idle and each use refreshes them', () => {
    const sessions = new SessionTable();
    const token = sessions.create({ username: 'ann', role: 'staff' }, 0);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(sessions.get(token, 11 * 3600_000)).toEqual({ username: 'ann', role: 'staff' });
    expect(sessions.get(token, 22 * 3600_000)).not.toBeNull();
    expect(sessions.get(token, 34 * 3600_000 + 1)).toBeNull();
    expect(sessions.get('not-a-token', 0)).toBeNull();
  });
});

describe('store', () => {
  it('creates the data folder 0700 and its files 0600', async () => {
    const dir = path.join(tempDir(), 'data');
    const store = await openStore(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(store.users.file).mode & 0o777).toBe(0o600);
    expect(statSync(store.calibrations.file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(store.users.file, 'utf8'))).toEqual({ version: 1, users: [] });
  });

  it('stops on a file it cannot parse, names it and leaves it untouched', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'users.json');
    writeFileSync(file, '{"version":1,"users":[', { mode: 0o600 });
    await expect(openStore(dir)).rejects.toThrow(`users file ${file} is not valid JSON`);
    expect(readFileSync(file, 'utf8')).toBe('{"version":1,"users":[');
    writeFileSync(file, '{"version":1,"people":[]}');
    await expect(openStore(dir)).rejects.toThrow(
      /users file .*users\.json is not in the expected format: expected "users" to be an array/,
    );
    expect(readFileSync(file, 'utf8')).toBe('{"version":1,"people":[]}');
  });
});

describe('first-run setup', () => {
  it('writes a one-time token (0600), creates the first admin with it and deletes it', async () => {
    const dir = tempDir();
    const { app, token, auth, store } = await appWith(dir);
    expect(token).toBeTruthy();
    const tokenFile = path.join(dir, 'setup-token');
    expect(readFileSync(tokenFile, 'utf8').trim()).toBe(token);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect((await request(app).get('/api/setup')).body).toEqual({ setupRequired: true });

    const wrong = await request(app)
      .post('/api/setup')
      .send({ token: 'guess', username: 'admin', password: PASSWORD });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error).toContain('setup token is wrong');

    const short = await request(app).post('/api/setup').send({ token, username: 'admin', password: 'short' });
    expect(short.status).toBe(400);
    expect(short.body.error).toContain('password: must have at least 10 characters');
    expect(short.body.error).not.toContain('short"');

    const agent = request.agent(app);
    const done = await agent.post('/api/setup').send({ token, username: 'admin', password: PASSWORD });
    expect(done.status).toBe(201);
    expect(done.body).toEqual({ username: 'admin', role: 'admin' });
    const cookie = String(done.headers['set-cookie']);
    expect(cookie).toMatch(/canthus_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(existsSync(tokenFile)).toBe(false);
    expect((await agent.get('/api/me')).body).toEqual({ username: 'admin', role: 'admin', language: null });
    expect(auth.setupRequired).toBe(false);

    const again = await request(app).post('/api/setup').send({ token, username: 'eve', password: PASSWORD });
    expect(again.status).toBe(409);
    expect(store.users.count()).toBe(1);
    const saved = readFileSync(store.users.file, 'utf8');
    expect(saved).toContain('"username": "admin"');
    expect(saved).not.toContain(PASSWORD);

    // A restart with a user makes no new token.
    const restarted = await appWith(dir);
    expect(restarted.token).toBeNull();
    expect(existsSync(tokenFile)).toBe(false);
  });
});

describe('login, roles and request guards', () => {
  async function withUsers() {
    const dir = tempDir();
    const ctx = await appWith(dir);
    const admin = request.agent(ctx.app);
    await admin
      .post('/api/setup')
      .send({ token: ctx.token, username: 'admin', password: PASSWORD })
      .expect(201);
    return { ...ctx, admin };
  }

  it('admins create users; staff may watch but not administer; anonymous gets 401', async () => {
    const { app, admin } = await withUsers();
    const created = await admin
      .post('/api/users')
      .send({ username: 'nurse.kim', password: 'ward seven pass', role: 'staff' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ username: 'nurse.kim', role: 'staff', createdBy: 'admin' });
    expect(
      (
        await admin
          .post('/api/users')
          .send({ username: 'nurse.kim', password: 'another pass!', role: 'staff' })
      ).status,
    ).toBe(409);

    const staff = request.agent(app);
    expect(
      (await staff.post('/api/login').send({ username: 'nurse.kim', password: 'ward seven pass' })).status,
    ).toBe(200);
    expect((await staff.get('/api/me')).body).toEqual({
      username: 'nurse.kim',
      role: 'staff',
      language: null,
    });
    expect((await staff.get('/api/probe/staff')).body).toEqual({ ok: 'staff' });
    const forbidden = await staff.post('/api/probe/admin').send({});
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error).toContain('admin role');
    expect(
      (await staff.post('/api/users').send({ username: 'x-ray', password: PASSWORD, role: 'admin' })).status,
    ).toBe(403);
    expect((await admin.get('/api/probe/staff')).body).toEqual({ ok: 'staff' });
    expect((await admin.post('/api/probe/admin').send({})).status).toBe(200);

    const anonymous = await request(app).get('/api/probe/staff');
    expect(anonymous.status).toBe(401);
    expect((await request(app).get('/api/me')).status).toBe(401);

    const users = await admin.get('/api/users');
    expect(users.body.map((u: { username: string }) => u.username)).toEqual(['admin', 'nurse.kim']);
    expect(JSON.stringify(users.body)).not.toContain('scrypt');

    await staff.post('/api/logout').send({}).expect(204);
    expect((await staff.get('/api/me')).status).toBe(401);
  });

  it('rejects bad bodies with a message naming the field, and non-JSON state changes', async () => {
    const { admin } = await withUsers();
    const unknown = await admin
      .post('/api/users')
      .send({ username: 'bob-1', password: PASSWORD, role: 'staff', admin: true });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toContain('unknown field "admin"');
    const role = await admin.post('/api/users').send({ username: 'bob-1', password: PASSWORD, role: 'root' });
    expect(role.body.error).toContain('role: must be one of "admin", "staff"');
    const name = await admin.post('/api/users').send({ username: 'B', password: PASSWORD, role: 'staff' });
    expect(name.body.error).toContain('username: must be 3–32 characters');
    const missing = await admin.post('/api/users').send({ username: 'bob-1', role: 'staff' });
    expect(missing.body.error).toContain('missing field "password"');
    const containsName = await admin
      .post('/api/users')
      .send({ username: 'bobby', password: 'bobby12345', role: 'staff' });
    expect(containsName.status).toBe(400);
    expect(containsName.body.error).toContain('password: must not contain the username');

    const form = await admin
      .post('/api/users')
      .type('form')
      .send('username=bob-1&password=xxxxxxxxxxxx&role=admin');
    expect(form.status).toBe(415);
    expect(form.body.error).toContain('Content-Type: application/json');
    const text = await admin.post('/api/logout').type('text/plain').send('{}');
    expect(text.status).toBe(415);
  });

  it('locks a username from one address after 5 wrong passwords (429 with Retry-After)', async () => {
    const { app } = await withUsers();
    for (let i = 0; i < 4; i++) {
      const wrong = await request(app)
        .post('/api/login')
        .send({ username: 'admin', password: 'wrong password' });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error).toBe('username or password is wrong');
    }
    const fifth = await request(app)
      .post('/api/login')
      .send({ username: 'admin', password: 'wrong password' });
    expect(fifth.status).toBe(401);
    expect(fifth.body.error).toContain('locked for 60 s');
    const locked = await request(app).post('/api/login').send({ username: 'admin', password: PASSWORD });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(55);
    // Unknown usernames answer like wrong passwords.
    const nobody = await request(app).post('/api/login').send({ username: 'nobody', password: PASSWORD });
    expect(nobody.status).toBe(401);
    expect(nobody.body.error).toBe('username or password is wrong');
  });

  it('requireRole without the users feature fails closed with 503', async () => {
    const http = createHttpApp({ uiDir: tempDir() });
    http.api.get('/x', requireRole('staff'), (_req, res) => void res.send('open'));
    const res = await request(http.app).get('/api/x');
    expect(res.status).toBe(503);
    expect(res.body.error).toMatch(/users feature is not running/);
  });
});
