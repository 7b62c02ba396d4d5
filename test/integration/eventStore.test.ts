import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import request from 'supertest';
import { ulid } from 'ulid';
import { beforeAll, describe, expect, it } from 'vitest';
import { readRecording } from '../../appliance/camera/recording.ts';
import { simulateRecording } from '../../appliance/cli/simulate.ts';
import { loadConfig } from '../../appliance/config/load.ts';
import type { CalibrationRecord } from '../../appliance/core/records.ts';
import type { ScreeningEvent } from '../../appliance/core/types.ts';
import { startAppliance } from '../../appliance/main.ts';
import { EVENTS_DB, EventStore } from '../../appliance/store/eventStore.ts';
import { screeningEvent } from '../helpers/screeningEvent.ts';
import { tempDir } from '../helpers/tempDir.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PASSWORD = 'persons screened at the door';

type Row = {
  id: string;
  personId: string;
  cameraId: string;
  final: boolean;
  decision: string;
  estimatedCoreC: number | null;
  reasons: string[];
  reasonCodes: string[];
  calibrationId: string | null;
  lastEventId: string;
};

/** A simulated entrance (seed 5) and where its blackbody stands. */
function simulate(
  dir: string,
  seconds: number,
  people: number,
): { recording: string; region: CalibrationRecord['values']['region'] } {
  const recording = path.join(dir, 'rec');
  simulateRecording({ out: recording, profile: 'simulator', seed: 5, people, seconds });
  const simulation = readRecording(recording).meta.simulation as {
    blackbody: { box: [number, number, number, number] };
  };
  const [x, y, width, height] = simulation.blackbody.box;
  // Inside the blackbody square, clear of its edges.
  return { recording, region: { x: x + 2, y: y + 2, width: width - 4, height: height - 4 } };
}

describe('the event store across a restart', () => {
  const dir = tempDir('canthus-eventstore-');
  const data = path.join(dir, 'data');
  let recording = '';
  let calibration: CalibrationRecord;

  beforeAll(() => {
    // 20 s, 4 people: `canthus simulate --seconds 20 --seed 5 --people 4`.
    const simulated = simulate(dir, 20, 4);
    recording = simulated.recording;
    calibration = {
      id: ulid(),
      cameraId: 'entrance-1',
      committedBy: 'admin',
      committedAt: new Date().toISOString(),
      values: { region: simulated.region, setpointC: 35, emissivity: 0.98 },
      figures: {},
      verification: { passed: true },
    };
    mkdirSync(data, { recursive: true, mode: 0o700 });
    writeFileSync(
      path.join(data, 'calibrations.json'),
      JSON.stringify({ version: 1, calibrations: [calibration] }, null, 2),
      { mode: 0o600 },
    );
  });

  it('serves exactly the persons screened before the restart, with their verdicts', async () => {
    // First run: the recording, replayed as fast as it goes; collect the verdicts from the bus.
    const first = loadConfig({ dataDir: data, port: 0, source: `recording:${recording}?pace=fast` });
    first.config.server.host = '127.0.0.1';
    const appliance = await startAppliance({ loaded: first });
    const ends: ScreeningEvent[] = [];
    appliance.bus.on(
      'screening',
      (event) => {
        if (event.kind === 'end') ends.push(event);
      },
      { name: 'test.ends', delivery: 'inline' },
    );
    try {
      await appliance.finished;
      expect(appliance.failures()).toEqual([]);
      expect(appliance.cameras[0].pipeline.calibrationId).toBe(calibration.id);
    } finally {
      await appliance.stop();
    }
    expect(ends.length).toBeGreaterThanOrEqual(2);
    expect(new Set(ends.map((e) => e.personId)).size).toBe(ends.length);
    for (const end of ends) expect(end.calibration.calibrationId).toBe(calibration.id);

    // Second run on the same data folder, with a camera that gives no frames (no new persons).
    const second = loadConfig({ dataDir: data, port: 0, source: 'v4l2:/dev/video-canthus-unplugged' });
    second.config.server.host = '127.0.0.1';
    const restarted = await startAppliance({ loaded: second });
    try {
      const server = restarted.server!;
      // Anonymous: refused.
      for (const url of ['/api/events', '/api/events.csv', `/api/events/${ends[0].id}`]) {
        const anonymous = await request(server).get(url);
        expect(anonymous.status, url).toBe(401);
      }
      const token = readFileSync(path.join(data, 'setup-token'), 'utf8').trim();
      const admin = request.agent(server);
      await admin.post('/api/setup').send({ token, username: 'admin', password: PASSWORD }).expect(201);

      const listed = await admin.get('/api/events?limit=500');
      expect(listed.status, listed.body.error).toBe(200);
      const rows = listed.body.events as Row[];
      expect(listed.body.nextCursor).toBeNull();
      expect(rows).toHaveLength(ends.length);
      // Newest first.
      const ids = rows.map((r) => r.id);
      expect(ids).toEqual([...ids].sort().reverse());
      for (const end of ends) {
        const row = rows.find((r) => r.lastEventId === end.id);
        expect(row, `person ${end.personId} (end ${end.id})`).toBeDefined();
        expect(row).toMatchObject({
          personId: end.personId,
          cameraId: 'entrance-1',
          final: true,
          decision: end.decision,
          estimatedCoreC: end.estimatedCoreC,
          reasons: end.reasons,
          reasonCodes: end.reasonCodes,
          calibrationId: calibration.id,
        });
      }

      const one = await admin.get(`/api/events/${rows[0].id}`);
      expect(one.status, one.body.error).toBe(200);
      expect(one.body).toMatchObject({ ...rows[0] });
      expect((await admin.get(`/api/events/${ulid()}`)).status).toBe(404);

      const csv = await admin.get('/api/events.csv');
      expect(csv.status).toBe(200);
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      const lines = csv.text.split('\r\n').filter((line) => line !== '');
      expect(lines[0].split(',')[0]).toBe('id');
      expect(lines.slice(1).map((line) => line.split(',')[0])).toEqual(ids);

      const bad: [string, string][] = [
        ['limit=0', 'limit'],
        ['limit=501', 'limit'],
        ['decision=hot', 'decision'],
        ['from=yesterday', 'from'],
        ['bogus=1', 'bogus'],
      ];
      for (const [query, parameter] of bad) {
        for (const route of ['/api/events', '/api/events.csv']) {
          const res = await admin.get(`${route}?${query}`);
          expect(res.status, `${route}?${query}`).toBe(400);
          expect(res.body.error, `${route}?${query}`).toContain(parameter);
        }
      }
    } finally {
      await restarted.stop();
    }
  }, 40_000);
});

describe('the event store when the appliance is killed', () => {
  const dir = tempDir('canthus-eventstore-kill-');
  let recording = '';
  beforeAll(() => {
    // Ten persons: dozens of stored events, so a kill after the 15th lands in the middle.
    recording = simulate(dir, 45, 10).recording;
  });

  /**
   * `canthus run --headless` on the recording, SIGKILLed right after its `killAfterEvents`-th stored
   * event. Returns the event ids it acknowledged (logged after each commit).
   */
  function runAndKill(
    data: string,
    killAfterEvents: number,
  ): Promise<{ acknowledged: string[]; signal: string | null; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          'bin/canthus.js',
          'run',
          '--headless',
          '--source',
          `recording:${recording}?pace=fast`,
          '--data',
          data,
        ],
        {
          cwd: REPO_ROOT,
          env: { ...process.env, CANTHUS_LOG_LEVEL: 'debug' },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      const acknowledged: string[] = [];
      let stderr = '';
      let pending = '';
      // Never a hang: whatever happens, the child is gone after 20 s.
      const bound = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.startsWith('{')) continue;
          const entry = JSON.parse(line) as { msg?: string; event?: string };
          if (entry.msg !== 'screening event stored' || typeof entry.event !== 'string') continue;
          acknowledged.push(entry.event);
          if (acknowledged.length === killAfterEvents) child.kill('SIGKILL');
        }
      });
      child.on('error', reject);
      child.on('close', (_code, signal) => {
        clearTimeout(bound);
        resolve({ acknowledged, signal, stderr: stderr.slice(-2000) });
      });
    });
  }

  it('keeps every acknowledged event and a sound database through five SIGKILLs mid-burst', async () => {
    for (let i = 0; i < 5; i++) {
      const data = path.join(dir, `data-${i}`);
      // In the middle of the burst: right after the 3rd, 6th, … 15th stored event (a replay at full
      // speed stores dozens; a time after the first one is too late on a fast, idle machine).
      const { acknowledged, signal, stderr } = await runAndKill(data, 3 + 3 * i);
      expect(signal, `run ${i} ended on its own:\n${stderr}`).toBe('SIGKILL');
      expect(acknowledged.length, `run ${i}`).toBeGreaterThan(0);
      const db = new Database(path.join(data, EVENTS_DB), { readonly: true, fileMustExist: true });
      try {
        expect(db.pragma('integrity_check', { simple: true }), `run ${i}`).toBe('ok');
        const stored = new Set(
          (db.prepare('SELECT id FROM screening_events').all() as { id: string }[]).map((r) => r.id),
        );
        const missing = acknowledged.filter((id) => !stored.has(id));
        expect(missing, `run ${i}: acknowledged but not stored`).toEqual([]);
      } finally {
        db.close();
      }
    }
    // Five appliance start-ups one after another: ≈ 28 s on a loaded 2-core machine; a generous bound.
  }, 90_000);
});

describe('the event store refuses a file it does not understand', () => {
  const dir = tempDir('canthus-eventstore-refuse-');

  it('refuses a database with a newer schema and leaves it as it is', () => {
    const data = path.join(dir, 'newer');
    mkdirSync(data, { recursive: true });
    const file = path.join(data, EVENTS_DB);
    const db = new Database(file);
    db.exec('CREATE TABLE future (id TEXT PRIMARY KEY)');
    db.prepare('INSERT INTO future VALUES (?)').run('kept');
    db.pragma('user_version = 99');
    db.close();
    const before = readFileSync(file);
    expect(() => EventStore.open(data)).toThrow(file);
    expect(() => EventStore.open(data)).toThrow(/schema version 99/);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it('refuses a file that is not a SQLite database and leaves it as it is', () => {
    const data = path.join(dir, 'garbage');
    mkdirSync(data, { recursive: true });
    const file = path.join(data, EVENTS_DB);
    const garbage = Buffer.concat([
      Buffer.from('not a database, just some bytes\n'),
      Buffer.alloc(4096, 0x5a),
    ]);
    writeFileSync(file, garbage);
    expect(() => EventStore.open(data)).toThrow(file);
    expect(() => EventStore.open(data)).toThrow(/not a readable SQLite database/);
    expect(readFileSync(file).equals(garbage)).toBe(true);
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it('refuses a hand-corrupted row, naming the table, the row and the field, and leaves the file as it is', () => {
    const corruptions: [string, RegExp][] = [
      [
        "UPDATE persons SET decision = 'hot'",
        /persons row \w+: decision must be normal, elevated, retest or invalid/,
      ],
      ["UPDATE persons SET reasons = '[\"unclosed'", /persons row \w+: reasons must be a JSON array/],
      ["UPDATE persons SET last_at = 'yesterday'", /persons row \w+: last_at must be a time in ms/],
      ["UPDATE audit SET detail = '{'", /audit row \w+: detail must be a JSON object with a time in ms/],
    ];
    for (const [index, [sql, message]] of corruptions.entries()) {
      const data = path.join(dir, `corrupt-${index}`);
      mkdirSync(data, { recursive: true });
      const store = EventStore.open(data);
      const at = Date.parse('2026-11-30T08:00:00Z');
      store.recordScreening(screeningEvent({ personId: 'entrance-1-1', at, display: '37.1 °C' }));
      store.recordAudit({
        id: ulid(at),
        at,
        actor: 'admin',
        action: 'login',
        target: null,
        from: null,
        detail: {},
      });
      store.close();
      const file = path.join(data, EVENTS_DB);
      const db = new Database(file);
      db.exec(sql);
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
      const before = readFileSync(file);
      expect(() => EventStore.open(data)).toThrow(message);
      expect(() => EventStore.open(data)).toThrow(file);
      expect(readFileSync(file).equals(before)).toBe(true);
    }
  });
});
