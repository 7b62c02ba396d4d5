/**
 * The stores at start (issue 11, defects 5 and 6): a hand-corrupted record refuses the start with
 * the file, the record's index and the field, leaving the file as it is; temporary files a crash
 * left behind (one may hold password hashes) are gone after a start.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../appliance/config/load.ts';
import { startAppliance } from '../../appliance/main.ts';
import { openStores } from '../../appliance/store/store.ts';
import { tempDir } from '../helpers/tempDir.ts';

const calibration = (values: unknown) => ({
  id: 'c1',
  cameraId: 'entrance-1',
  committedBy: 'admin',
  committedAt: '2026-01-01T00:00:00.000Z',
  values,
  figures: {},
  verification: null,
});
const user = (override: Record<string, unknown>) => ({
  id: 'u1',
  username: 'admin',
  role: 'admin',
  password: { algorithm: 'scrypt', N: 32768, r: 8, p: 1, keyLength: 64, salt: 'c2FsdA==', hash: 'aGFzaA==' },
  createdAt: '2026-01-01T00:00:00.000Z',
  createdBy: null,
  ...override,
});
const registration = (override: Record<string, unknown>) => ({
  id: 'r1',
  cameraId: 'door',
  committedBy: 'admin',
  committedAt: '2026-01-01T00:00:00.000Z',
  visibleSize: { width: 640, height: 480 },
  thermalSize: { width: 384, height: 288 },
  pairs: [],
  homography: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  figures: {},
  limits: { maxRmsPx: 2, maxPointPx: 4 },
  forced: false,
  failures: [],
  ...override,
});

const cases: { name: string; file: string; content: unknown; message: RegExp }[] = [
  {
    name: 'a calibration region with x "a"',
    file: 'calibrations.json',
    content: {
      version: 1,
      calibrations: [
        calibration({ region: { x: 1, y: 2, width: 8, height: 8 }, setpointC: 35, emissivity: 0.98 }),
        calibration({ region: { x: 'a', y: 2, width: 8, height: 8 }, setpointC: 35, emissivity: 0.98 }),
      ],
    },
    message:
      /calibration history file .*calibrations\.json is not in the expected format: calibrations\[1\]\.values\.region\.x must be integer \(got "a"\)/,
  },
  {
    name: 'a calibration set point of 3500 °C',
    file: 'calibrations.json',
    content: {
      version: 1,
      calibrations: [
        calibration({ region: { x: 1, y: 2, width: 8, height: 8 }, setpointC: 3500, emissivity: 0.98 }),
      ],
    },
    message: /calibrations\[0\]\.values\.setpointC: must be <= 50 \(got 3500\)/,
  },
  {
    name: 'a user with a role that does not exist',
    file: 'users.json',
    content: { version: 1, users: [user({}), user({ id: 'u2', username: 'eve', role: 'root' })] },
    message: /users file .*users\.json is not in the expected format: users\[1\]\.role must be one of/,
  },
  {
    name: 'a user whose hash parameters are absurd, without echoing the hash',
    file: 'users.json',
    content: { version: 1, users: [user({ password: { ...user({}).password, N: 7, hash: 'not base64!' } })] },
    message:
      /users\[0\]\.password\.N: must be >= 1024 \(got 7\); users\[0\]\.password\.hash is not in the expected form(?! \(got)/,
  },
  {
    name: 'a registration pair without its thermal point',
    file: 'registrations.json',
    content: { version: 1, registrations: [registration({ pairs: [{ visible: { x: 1, y: 2 } }] })] },
    message:
      /registration history file .*registrations\.json is not in the expected format: registrations\[0\]\.pairs\[0\]\.thermal is missing/,
  },
];

describe('start-up refuses hand-corrupted store records', () => {
  for (const { name, file, content, message } of cases) {
    it(`${name}: names the file, the record and the field, and leaves the file as it was`, async () => {
      const dir = tempDir();
      const text = JSON.stringify(content, null, 2);
      writeFileSync(path.join(dir, file), text, { mode: 0o600 });
      const loaded = loadConfig({ dataDir: dir, port: 0 });
      const started = startAppliance({ loaded, headless: true });
      await expect(started).rejects.toThrow(message);
      await expect(started).rejects.toThrow(/it was left as it is: restore it from a backup or move it away/);
      expect(readFileSync(path.join(dir, file), 'utf8')).toBe(text);
    });
  }

  it('still opens what the appliance itself writes', async () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'calibrations.json'),
      JSON.stringify({
        version: 1,
        calibrations: [
          calibration({ region: { x: 1, y: 2, width: 8, height: 8 }, setpointC: 35, emissivity: 0.98 }),
        ],
      }),
    );
    writeFileSync(path.join(dir, 'users.json'), JSON.stringify({ version: 1, users: [user({})] }));
    writeFileSync(
      path.join(dir, 'registrations.json'),
      JSON.stringify({ version: 1, registrations: [registration({})] }),
    );
    const stores = await openStores(dir);
    expect(stores.calibrations.list()).toHaveLength(1);
    stores.close();
  });
});

describe('stale temporary files', () => {
  it('are gone after a start; other files stay', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'snapshots'), { mode: 0o700 });
    const stale = [
      '.users.json.0123456789ab.tmp',
      '.calibrations.json.a1b2c3d4e5f6.tmp',
      '.setup-token.ffffffffffff.tmp',
    ];
    for (const name of stale)
      writeFileSync(path.join(dir, name), '{"users":[{"password":{"hash":"…"}}]}', { mode: 0o600 });
    writeFileSync(path.join(dir, 'snapshots', '01J0000000.png.tmp'), 'half a PNG');
    writeFileSync(path.join(dir, 'notes.tmp.txt'), 'not ours');
    const loaded = loadConfig({ dataDir: dir, port: 0 });
    const appliance = await startAppliance({ loaded, headless: true });
    await appliance.stop();
    for (const name of stale) expect(existsSync(path.join(dir, name)), name).toBe(false);
    expect(readdirSync(path.join(dir, 'snapshots'))).toEqual([]);
    expect(existsSync(path.join(dir, 'notes.tmp.txt'))).toBe(true);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});
