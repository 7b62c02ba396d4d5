import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { Appliance } from '../../appliance/main.ts';

const cookieOf = (res: request.Response) => String(res.headers['set-cookie'][0]).split(';')[0];

/** First-run setup with the token the appliance wrote; returns the admin's session cookie. */
export async function setUpAdmin(appliance: Appliance, dataDir: string, password: string): Promise<string> {
  const token = readFileSync(path.join(dataDir, 'setup-token'), 'utf8').trim();
  return cookieOf(
    await request(appliance.server!)
      .post('/api/setup')
      .send({ token, username: 'admin', password })
      .expect(201),
  );
}

/** An admin creates a user, who signs in; returns that user's session cookie. */
export async function addUser(
  appliance: Appliance,
  adminCookie: string,
  user: { username: string; password: string; role: 'staff' | 'admin' },
): Promise<string> {
  await request(appliance.server!).post('/api/users').set('Cookie', adminCookie).send(user).expect(201);
  return cookieOf(
    await request(appliance.server!)
      .post('/api/login')
      .send({ username: user.username, password: user.password })
      .expect(200),
  );
}
