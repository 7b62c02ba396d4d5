/**
 * User management over HTTP (supertest against the running appliance): admins change roles,
 * disable, reset passwords and remove users, never leaving the appliance without an enabled admin;
 * a removed or disabled user's sessions end at once (HTTP and open WebSockets); every change is
 * audited; staff are refused; the UI language is kept in the user's record and given at sign-in.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../appliance/config/load.ts';
import { type Appliance, startAppliance } from '../../appliance/main.ts';
import { addUser, setUpAdmin } from '../helpers/signIn.ts';
import { tempDir, waitFor } from '../helpers/tempDir.ts';

const PASSWORD = 'entrance keeper 1';
const cookieOf = (res: request.Response) => String(res.headers['set-cookie'][0]).split(';')[0];

describe('user management (admin) and the language per user', () => {
  const dataDir = tempDir();
  let appliance: Appliance;
  let adminCookie: string;
  let staffCookie: string;
  const server = () => appliance.server!;
  const as = (cookie: string) => ({
    get: (url: string) => request(server()).get(url).set('Cookie', cookie),
    patch: (url: string, body: unknown) =>
      request(server())
        .patch(url)
        .set('Cookie', cookie)
        .send(body as object),
    put: (url: string, body: unknown) =>
      request(server())
        .put(url)
        .set('Cookie', cookie)
        .send(body as object),
    delete: (url: string) =>
      request(server()).delete(url).set('Cookie', cookie).set('Content-Type', 'application/json'),
  });
  const login = (username: string, password: string) =>
    request(server()).post('/api/login').send({ username, password });
  const auditActions = async () =>
    (
      (await as(adminCookie).get('/api/audit?limit=100')).body.entries as { action: string; target: string }[]
    ).map((e) => `${e.action} ${e.target}`);

  beforeAll(async () => {
    const loaded = loadConfig({ dataDir, port: 0, source: 'simulator:?seed=4' });
    loaded.config.server.host = '127.0.0.1';
    appliance = await startAppliance({ loaded });
    adminCookie = await setUpAdmin(appliance, dataDir, PASSWORD);
    staffCookie = await addUser(appliance, adminCookie, {
      username: 'nurse-chen',
      password: 'front door shift',
      role: 'staff',
    });
  });
  afterAll(async () => {
    await appliance?.stop();
  });

  it('refuses staff and anonymous callers every user change', async () => {
    for (const [cookie, status] of [
      ['', 401],
      [staffCookie, 403],
    ] as const) {
      const who = as(cookie);
      expect((await who.get('/api/users')).status).toBe(status);
      expect((await who.patch('/api/users/admin', { role: 'staff' })).status).toBe(status);
      expect((await who.put('/api/users/admin/password', { password: 'a whole new secret' })).status).toBe(
        status,
      );
      expect((await who.delete('/api/users/admin')).status).toBe(status);
    }
    // The admin is untouched.
    expect((await login('admin', PASSWORD)).status).toBe(200);
  });

  it('validates changes with sentences naming the field and what is allowed', async () => {
    const admin = as(adminCookie);
    const role = await admin.patch('/api/users/nurse-chen', { role: 'root' });
    expect(role.status).toBe(400);
    expect(role.body.error).toContain('role: must be one of "admin", "staff"');
    const empty = await admin.patch('/api/users/nurse-chen', {});
    expect(empty.status).toBe(400);
    expect(empty.body.error).toContain('give "role" (admin or staff) or "disabled"');
    const extra = await admin.patch('/api/users/nurse-chen', { role: 'staff', password: 'x' });
    expect(extra.status).toBe(400);
    expect(extra.body.error).toContain('unknown field "password" (allowed: role, disabled)');
    const nobody = await admin.patch('/api/users/ghost-1', { role: 'admin' });
    expect(nobody.status).toBe(404);
    expect(nobody.body.error).toContain('no user "ghost-1"');
    const short = await admin.put('/api/users/nurse-chen/password', { password: 'short' });
    expect(short.status).toBe(400);
    expect(short.body.error).toContain('password: must have at least 10 characters');
    const named = await admin.put('/api/users/nurse-chen/password', { password: 'nurse-chen forever' });
    expect(named.status).toBe(400);
    expect(named.body.error).toMatch(/password: must not .*\(allowed: /);
    expect((await admin.delete('/api/users/ghost-1')).status).toBe(404);
  });

  it('never leaves the appliance without an enabled admin', async () => {
    const admin = as(adminCookie);
    for (const refused of [
      await admin.patch('/api/users/admin', { role: 'staff' }),
      await admin.patch('/api/users/admin', { disabled: true }),
      await admin.delete('/api/users/admin'),
    ]) {
      expect(refused.status).toBe(409);
      expect(refused.body.error).toContain('"admin" is the last enabled admin');
      expect(refused.body.error).toContain('make another user admin first');
    }
    expect(
      (await admin.get('/api/users')).body.find((u: { username: string }) => u.username === 'admin'),
    ).toMatchObject({
      role: 'admin',
      disabled: false,
    });
  });

  it('changes a role for open sessions at once, and audits it', async () => {
    const admin = as(adminCookie);
    const promoted = await admin.patch('/api/users/nurse-chen', { role: 'admin' });
    expect(promoted.status).toBe(200);
    expect(promoted.body).toMatchObject({ username: 'nurse-chen', role: 'admin', changedBy: 'admin' });
    expect(promoted.body.password).toBeUndefined();
    // The same session, no new sign-in: the new role applies from its next request.
    expect((await as(staffCookie).get('/api/users')).status).toBe(200);
    // Two admins now: the first may be demoted (by the other) …
    expect((await as(staffCookie).patch('/api/users/admin', { role: 'staff' })).status).toBe(200);
    expect((await admin.get('/api/users')).status).toBe(403);
    // … and the last admin left is protected again.
    expect((await as(staffCookie).patch('/api/users/nurse-chen', { role: 'staff' })).status).toBe(409);
    expect((await as(staffCookie).patch('/api/users/admin', { role: 'admin' })).status).toBe(200);
    expect((await as(staffCookie).patch('/api/users/nurse-chen', { role: 'staff' })).status).toBe(200);
    expect(await auditActions()).toEqual(
      expect.arrayContaining([
        'user role changed (staff → admin) nurse-chen',
        'user role changed (admin → staff) admin',
        'user role changed (staff → admin) admin',
        'user role changed (admin → staff) nurse-chen',
      ]),
    );
  });

  it('disables a user: their sessions and open streams end at once, sign-in is refused until enabled', async () => {
    const cookie = await addUser(appliance, adminCookie, {
      username: 'porter-li',
      password: 'night porter shift',
      role: 'staff',
    });
    const ws = new WebSocket(`ws://127.0.0.1:${appliance.port}/ws/live`, { headers: { Cookie: cookie } });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    let closeCode = 0;
    ws.on('close', (code) => {
      closeCode = code;
    });
    expect((await as(cookie).get('/api/me')).status).toBe(200);
    expect((await as(adminCookie).patch('/api/users/porter-li', { disabled: true })).status).toBe(200);
    expect((await as(cookie).get('/api/me')).status).toBe(401);
    await waitFor(() => closeCode === 4401 || null, 5_000, 'the live socket closed with 4401');
    const refused = await login('porter-li', 'night porter shift');
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('user "porter-li" is disabled: ask an admin to enable it');
    expect((await as(adminCookie).patch('/api/users/porter-li', { disabled: false })).status).toBe(200);
    expect((await login('porter-li', 'night porter shift')).status).toBe(200);
    expect(await auditActions()).toEqual(
      expect.arrayContaining([
        'user disabled porter-li',
        'user enabled porter-li',
        'login refused (user disabled) porter-li',
      ]),
    );
  });

  it('resets a password under the policy: the old one and its sessions stop working', async () => {
    const before = cookieOf(await login('porter-li', 'night porter shift'));
    const reset = await as(adminCookie).put('/api/users/porter-li/password', {
      password: 'a new night shift',
    });
    expect(reset.status).toBe(200);
    expect((await as(before).get('/api/me')).status).toBe(401);
    expect((await login('porter-li', 'night porter shift')).status).toBe(401);
    expect((await login('porter-li', 'a new night shift')).status).toBe(200);
    // The admin resetting their own password stays signed in here.
    expect(
      (await as(adminCookie).put('/api/users/admin/password', { password: 'entrance keeper 2' })).status,
    ).toBe(200);
    expect((await as(adminCookie).get('/api/me')).status).toBe(200);
    expect(await auditActions()).toEqual(
      expect.arrayContaining(['user password reset porter-li', 'user password reset admin']),
    );
  });

  it('removes a user: their sessions end at once, and they can no longer sign in', async () => {
    const cookie = cookieOf(await login('porter-li', 'a new night shift'));
    expect((await as(adminCookie).delete('/api/users/porter-li')).status).toBe(204);
    expect((await as(cookie).get('/api/me')).status).toBe(401);
    expect((await login('porter-li', 'a new night shift')).status).toBe(401);
    const names = (await as(adminCookie).get('/api/users')).body.map((u: { username: string }) => u.username);
    expect(names).not.toContain('porter-li');
    expect(await auditActions()).toContain('user removed porter-li');
  });

  it('keeps each user’s language on the server and gives it at sign-in on any device', async () => {
    const anonymous = await request(server()).put('/api/me/language').send({ language: 'zh-CN' });
    expect(anonymous.status).toBe(401);
    const bad = await as(staffCookie).put('/api/me/language', { language: 'fr' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('language: must be one of "en", "zh-CN" (got "fr")');
    const zh = await as(staffCookie).put('/api/me/language', { language: 'zh-CN' });
    expect(zh.status).toBe(200);
    expect(zh.body.language).toBe('zh-CN');
    expect((await as(staffCookie).get('/api/me')).body.language).toBe('zh-CN');
    // Another device: the sign-in answer carries the choice.
    const elsewhere = await login('nurse-chen', 'front door shift');
    expect(elsewhere.body).toMatchObject({ username: 'nurse-chen', language: 'zh-CN' });
    // Another user is not affected.
    expect((await as(adminCookie).get('/api/me')).body.language).toBeNull();
    expect(await auditActions()).toContain('language changed nurse-chen');
  });
});
