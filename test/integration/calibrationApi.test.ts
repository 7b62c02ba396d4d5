import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type ReferenceConfig, referenceWithCalibration } from '../../appliance/config/load.ts';
import { EventBus } from '../../appliance/core/eventBus.ts';
import type { ThermalFrame } from '../../appliance/core/types.ts';
import { CalibrationSessions, type SessionView } from '../../appliance/features/calibration/sessions.ts';
import { type Appliance, startAppliance } from '../../appliance/main.ts';
import { CalibrationHistory } from '../../appliance/store/calibrations.ts';
import { apparentTemperature } from '../../calibration/reference.ts';
import { tempDir, waitFor } from '../helpers/tempDir.ts';

const PASSWORD = 'blackbody at 35';
const STAFF_PASSWORD = 'front door shift';

describe('calibration API on the running appliance (simulated entrance)', () => {
  const dataDir = tempDir();
  let appliance: Appliance;
  let admin: ReturnType<typeof request.agent>;
  let staff: ReturnType<typeof request.agent>;

  const start = async () => {
    // The default simulated entrance, with its sensor's offset (slow random walk, jumps of SD 0.15 °C
    // at flat-field events) held within ±0.02 °C: a free jump inside the 5 s window would exceed the
    // 0.1 °C drift limit. Drifting sensors are covered on synthetic frames below.
    const loaded = loadConfig({ dataDir, port: 0, source: 'simulator:?seed=1&drift=0.02' });
    loaded.config.server.host = '127.0.0.1';
    return startAppliance({ loaded });
  };

  beforeAll(async () => {
    appliance = await start();
    const token = readFileSync(path.join(dataDir, 'setup-token'), 'utf8').trim();
    admin = request.agent(appliance.server!);
    await admin.post('/api/setup').send({ token, username: 'admin', password: PASSWORD }).expect(201);
    await admin
      .post('/api/users')
      .send({ username: 'staff-1', password: STAFF_PASSWORD, role: 'staff' })
      .expect(201);
    staff = request.agent(appliance.server!);
    await staff.post('/api/login').send({ username: 'staff-1', password: STAFF_PASSWORD }).expect(200);
  });
  afterAll(async () => {
    await appliance?.stop();
  });

  const body = { cameraId: 'entrance-1', setpointC: 35, emissivity: 0.98, durationS: 5 };

  it('refuses anonymous (401) and staff (403) sessions', async () => {
    const anonymous = await request(appliance.server!).post('/api/calibration/sessions').send(body);
    expect(anonymous.status).toBe(401);
    const byStaff = await staff.post('/api/calibration/sessions').send(body);
    expect(byStaff.status).toBe(403);
    expect(byStaff.body.error).toContain('admin role');
    expect((await request(appliance.server!).get('/api/calibration/history')).status).toBe(401);
  });

  it('rejects bad bodies with 400 naming the field', async () => {
    const cases: [object, string][] = [
      [{ ...body, durationS: 3 }, 'durationS: must be >= 5'],
      [{ ...body, durationS: undefined }, 'missing field "durationS"'],
      [{ ...body, emissivity: 1.2 }, 'emissivity: must be <= 1'],
      [{ ...body, offsetC: 1 }, 'unknown field "offsetC"'],
      [{ ...body, region: { x: 1, y: 2, width: 10 } }, 'missing field "region.height"'],
      [{ ...body, cameraId: 'lobby-9' }, 'cameraId: unknown camera "lobby-9" (allowed: entrance-1)'],
      [
        { ...body, region: { x: 250, y: 0, width: 20, height: 20 } },
        'region: 20×20 at (250, 0) does not fit the 256×192 frame',
      ],
      [
        { ...body, secondReference: { region: { x: 0, y: 0, width: 8, height: 8 } } },
        'missing field "secondReference.knownC"',
      ],
    ];
    for (const [bad, message] of cases) {
      const res = await admin.post('/api/calibration/sessions').send(bad);
      expect(res.status, message).toBe(400);
      expect(res.body.error).toContain(message);
    }
    const notJson = await admin.post('/api/calibration/sessions').type('form').send('cameraId=entrance-1');
    expect(notJson.status).toBe(415);
  });

  let committedId = '';
  let committedRegion: { x: number; y: number; width: number; height: number };

  it('measures the blackbody, verifies, commits and applies it to the running pipeline', async () => {
    const started = await admin.post('/api/calibration/sessions').send(body);
    expect(started.status, started.body.error).toBe(201);
    const session = started.body as SessionView;
    expect(session).toMatchObject({
      cameraId: 'entrance-1',
      state: 'measuring',
      regionSuggested: true,
      startedBy: 'admin',
    });
    // The simulator's blackbody: 23 px square at the right edge, faces' height.
    const region = session.values.region;
    expect(region.x).toBeGreaterThanOrEqual(223);
    expect(region.x).toBeLessThanOrEqual(228);
    expect(region.width).toBeGreaterThanOrEqual(18);

    // One camera, one session at a time.
    const second = await admin.post('/api/calibration/sessions').send(body);
    expect(second.status).toBe(409);
    // Verify and commit wait for the window.
    expect((await admin.post(`/api/calibration/sessions/${session.id}/verify`).send({})).status).toBe(409);

    const progress = await admin.get(`/api/calibration/sessions/${session.id}`);
    expect(progress.body.figures.samples).toBeGreaterThanOrEqual(0);

    const deadline = Date.now() + 12_000;
    let measured = progress.body as SessionView;
    while (measured.state === 'measuring' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      measured = (await admin.get(`/api/calibration/sessions/${session.id}`)).body as SessionView;
    }
    expect(measured.state).toBe('measured');
    const figures = measured.figures;
    expect(figures.samples).toBeGreaterThanOrEqual(20);
    expect(figures.windowS).toBeGreaterThan(4);
    // The raw reading: the blackbody's true 35 °C plus the simulated sensor's small offset.
    expect(Math.abs(figures.readingC! - 35)).toBeLessThan(0.2);
    expect(figures.readingSdC!).toBeLessThan(0.05);
    expect(figures.offsetC! + figures.readingC!).toBeCloseTo(35, 3);
    expect(figures.noiseC!).toBeGreaterThan(0.02);
    expect(figures.noiseC!).toBeLessThan(0.1);
    expect(Math.abs(figures.correctedErrorC!)).toBeLessThan(0.05);

    const verified = await admin.post(`/api/calibration/sessions/${session.id}/verify`).send({});
    expect(verified.status).toBe(200);
    const verification = verified.body.verification;
    expect(verification.failures).toEqual([]);
    expect(verification.passed).toBe(true);
    expect(verification.checks.noiseC).toMatchObject({ limit: 0.1, passed: true });
    expect(verification.checks.driftC).toMatchObject({ limit: 0.1, passed: true });
    expect(verification.checks.correctedErrorC).toMatchObject({ limit: 0.1, passed: true });

    const committed = await admin.post(`/api/calibration/sessions/${session.id}/commit`).send({});
    expect(committed.status).toBe(201);
    expect(committed.body).toMatchObject({
      cameraId: 'entrance-1',
      committedBy: 'admin',
      values: { region, setpointC: 35, emissivity: 0.98 },
      verification: { passed: true },
    });
    committedId = committed.body.id;
    committedRegion = region;
    expect((await admin.post(`/api/calibration/sessions/${session.id}/commit`).send({})).status).toBe(409);
    expect((await admin.post(`/api/calibration/sessions/${session.id}/discard`).send({})).status).toBe(409);

    expect(appliance.stores.calibrations.latest('entrance-1')?.id).toBe(committedId);
    const health = await admin.get('/api/health');
    expect(health.body.cameras[0].reference.region).toEqual(region);
  });

  it('shows the commit in the history (admin and staff) and in both exports', async () => {
    const history = await staff.get('/api/calibration/history?cameraId=entrance-1');
    expect(history.status).toBe(200);
    expect(history.body.calibrations.map((r: { id: string }) => r.id)).toEqual([committedId]);
    expect(history.body.active).toEqual({ 'entrance-1': committedId });
    expect((await admin.get('/api/calibration/history?cameraId=lobby-2')).body.calibrations).toEqual([]);
    expect((await admin.get('/api/calibration/history?cameraId=..%2Fx')).status).toBe(400);

    const csv = await staff.get('/api/calibration/history/export?format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.headers['content-disposition']).toMatch(
      /^attachment; filename="canthus-appliance-calibrations-\d{4}-\d\d-\d\d\.csv"$/,
    );
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toContain('id,cameraId,committedAt,committedBy,regionX');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`${committedId},entrance-1,`);
    expect(lines[1]).toContain(`,${committedRegion.x},${committedRegion.y},`);

    const json = await admin.get('/api/calibration/history/export?format=json');
    expect(json.headers['content-disposition']).toContain('.json"');
    expect(JSON.parse(json.text).calibrations[0].id).toBe(committedId);
    const bad = await admin.get('/api/calibration/history/export?format=xml');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('format: must be "json" or "csv"');
  });

  it('discards a session on request, and measures a given region', async () => {
    const started = await admin
      .post('/api/calibration/sessions')
      .send({ ...body, region: committedRegion, toleranceC: 0.2 });
    expect(started.status).toBe(201);
    expect(started.body.regionSuggested).toBe(false);
    const discarded = await admin.post(`/api/calibration/sessions/${started.body.id}/discard`).send({});
    expect(discarded.body.state).toBe('discarded');
    expect((await admin.post(`/api/calibration/sessions/${started.body.id}/commit`).send({})).status).toBe(
      409,
    );
    expect((await admin.get('/api/calibration/sessions/nope')).status).toBe(404);
  });

  it('applies the committed calibration again after a restart', async () => {
    await appliance.stop();
    appliance = await start();
    expect(appliance.stores.calibrations.latest('entrance-1')?.id).toBe(committedId);
    await waitFor(() => appliance.health().cameras[0].reference, 10_000, 'a first frame after restart');
    expect(appliance.health().cameras[0].reference?.region).toEqual(committedRegion);
    // Sessions (logins) do not survive the restart: that is by design.
    const again = request.agent(appliance.server!);
    expect((await again.get('/api/me')).status).toBe(401);
    await again.post('/api/login').send({ username: 'admin', password: PASSWORD }).expect(200);
  });
});

/** A scene with a blackbody at 35 °C and a second plate at a known temperature, through a drifting, noisy sensor. */
describe('the acceptance rule on synthetic frames', () => {
  const W = 64;
  const H = 48;
  const ROOM_C = 21;
  const BLACKBODY = { x: 40, y: 10, width: 12, height: 12 };
  const PLATE = { x: 8, y: 10, width: 12, height: 12 };
  const REFERENCE: ReferenceConfig = {
    setpointC: 35,
    emissivity: 0.98,
    region: null,
    warmupS: 0,
    stableForS: 1,
    maxDriftCPerMin: 0.3,
    ffcSettleS: 0,
  };

  interface Sensor {
    offsetC: number;
    /** Added per second. */
    driftCPerS?: number;
    gain?: number;
    netdC?: number;
  }

  async function run(sensor: Sensor, region?: typeof BLACKBODY, pipelineOffsetC = -0.4) {
    const bus = new EventBus();
    let now = 1_700_000_000_000;
    // What the camera does on a commit: apply the record over its reference configuration.
    const target: { applied: ReferenceConfig | null } = { applied: null };
    bus.on(
      'calibration.committed',
      ({ record }) => {
        target.applied = referenceWithCalibration(REFERENCE, record);
      },
      { name: 'camera', delivery: 'inline' },
    );
    const history = await CalibrationHistory.open(path.join(tempDir(), 'calibrations.json'));
    const sessions = new CalibrationSessions({
      bus,
      history,
      cameraIds: ['cam'],
      now: () => now,
    });
    let seed = 12345;
    const gaussian = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const u = (seed + 1) / 2 ** 31;
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const v = seed / 2 ** 31;
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    };
    let seq = 0;
    const emit = () => {
      const t = (seq / 10) * 1; // seconds
      const celsius = new Float32Array(W * H);
      const bb = apparentTemperature(35, 0.98, ROOM_C);
      const plate = apparentTemperature(30, 0.98, ROOM_C);
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const inside = (r: typeof BLACKBODY) =>
            x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
          const trueApparent = inside(BLACKBODY) ? bb : inside(PLATE) ? plate : ROOM_C;
          const sensed =
            trueApparent +
            sensor.offsetC +
            (sensor.driftCPerS ?? 0) * t +
            ((sensor.gain ?? 1) - 1) * (trueApparent - 35) +
            (sensor.netdC ?? 0.04) * gaussian();
          celsius[y * W + x] = sensed;
        }
      }
      const frame: ThermalFrame = {
        cameraId: 'cam',
        seq,
        capturedAt: now,
        width: W,
        height: H,
        celsius,
        reflectedC: ROOM_C,
        flatField: false,
        reference: {
          state: 'stable',
          reason: '',
          measuredC: 35 - pipelineOffsetC,
          setpointC: 35,
          offsetC: pipelineOffsetC,
          noiseC: 0.04,
          gain: 1,
        },
        referenceRegion: null,
        calibrationId: null,
      };
      // As the pipeline does: add its apparent-domain offset to every pixel, and say so on the frame.
      const applied =
        apparentTemperature(35, REFERENCE.emissivity, ROOM_C) -
        apparentTemperature(35 - pipelineOffsetC, REFERENCE.emissivity, ROOM_C);
      for (let i = 0; i < celsius.length; i++) celsius[i] += applied;
      frame.correction = { offsetC: applied, gain: 1, pivotC: 0 };
      bus.emit('frame', {
        cameraId: 'cam',
        seq,
        capturedAt: now,
        thermal: frame,
        reference: frame.reference,
        tracks: [],
      });
      seq++;
      now += 100;
    };
    const starting = sessions.start(
      {
        cameraId: 'cam',
        setpointC: 35,
        emissivity: 0.98,
        durationS: 5,
        region,
        secondReference: { region: PLATE, knownC: 30 },
      },
      'tester',
    );
    let settled = false;
    starting.then(
      () => (settled = true),
      () => (settled = true),
    );
    // Frames keep coming until the session has started, as a camera's would: the region
    // suggestion is a queued listener and, on a busy machine, sees only some of them.
    for (let i = 0; i < 1000 && !settled; i++) {
      emit();
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const session = await starting;
    for (let i = 0; i < 52; i++) emit();
    const view = sessions.verify(session.id, 'tester');
    return { sessions, session, view, target };
  }

  it('finds the blackbody, reads through the applied offset and passes a good camera', async () => {
    const { view, sessions, target } = await run({ offsetC: 0.7 });
    expect(view.values.region.x).toBeGreaterThanOrEqual(39);
    expect(view.values.region.x).toBeLessThanOrEqual(41);
    expect(view.state).toBe('verified');
    expect(view.figures.samples).toBe(50);
    // What the sensor reads (35 + 0.7 apparent, emissivity-corrected), whatever the pipeline had applied.
    expect(view.figures.readingC!).toBeCloseTo(35.71, 1);
    expect(view.figures.offsetC!).toBeCloseTo(-0.71, 1);
    expect(Math.abs(view.figures.driftC!)).toBeLessThan(0.02);
    expect(view.figures.noiseC!).toBeCloseTo(0.04, 1);
    expect(Math.abs(view.figures.correctedErrorC!)).toBeLessThan(0.01);
    expect(Math.abs(view.figures.secondReference!.errorC!)).toBeLessThan(0.02);
    expect(view.verification).toMatchObject({ passed: true, failures: [] });
    const record = await sessions.commit(view.id, 'tester');
    expect(target.applied).toMatchObject({
      setpointC: 35,
      emissivity: 0.98,
      region: view.values.region,
      warmupS: 0,
    });
    expect(sessions.active('cam')?.id).toBe(record.id);
  });

  it('fails a drifting camera and names the figure and its limit', async () => {
    const { view, sessions } = await run({ offsetC: 0.2, driftCPerS: 0.05 });
    expect(view.figures.driftC!).toBeCloseTo(0.245, 1);
    expect(view.verification?.passed).toBe(false);
    expect(view.verification?.checks.driftC).toMatchObject({ passed: false, limit: 0.1 });
    expect(view.verification?.failures.join()).toContain(
      'drift of the raw reading over the window (°C): 0.2',
    );
    await expect(sessions.commit(view.id, 'tester')).rejects.toThrow(
      'only a passing verify can be committed',
    );
  });

  it('fails a noisy camera', async () => {
    // Too noisy to be found as a blackbody …
    await expect(run({ offsetC: 0, netdC: 0.2 })).rejects.toThrow(
      'no steady, uniform blackbody found near 35 °C',
    );
    // … and given explicitly, too noisy to pass.
    const { view } = await run({ offsetC: 0, netdC: 0.2 }, BLACKBODY);
    expect(view.figures.noiseC!).toBeCloseTo(0.2, 1);
    expect(view.verification?.checks.noiseC).toMatchObject({ passed: false, limit: 0.1 });
  });

  it('the second reference exposes a gain error the set point cannot see', async () => {
    const { view } = await run({ offsetC: 0.3, gain: 1.15 });
    // At the set point everything looks right …
    expect(view.verification?.checks.correctedErrorC.passed).toBe(true);
    // … but 5 °C below it the camera reads 0.15 × 5 ≈ 0.75 °C low.
    expect(view.figures.secondReference!.errorC!).toBeCloseTo(-0.75, 1);
    expect(view.verification?.checks.secondReferenceErrorC).toMatchObject({ passed: false, limit: 0.5 });
  });
});
