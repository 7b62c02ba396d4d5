/**
 * The uplink against a real Mosquitto (started here on a free loopback port, its own config and
 * persistence folder): delivery, a broker outage, SIGKILL of the appliance, availability, commands.
 * The reference receiver (`startReceiver`, what `canthus receive` runs) judges what arrived; the
 * appliance's SQLite store says what was produced.
 */
import path from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { decodeTime } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../../appliance/cli/receive.ts';
import { simulateRecording } from '../../appliance/cli/simulate.ts';
import { loadConfig } from '../../appliance/config/load.ts';
import type { Envelope } from '../../appliance/core/uplink.ts';
import { startAppliance } from '../../appliance/main.ts';
import { tempDir, waitFor } from '../helpers/tempDir.ts';
import {
  Broker,
  runAppliance,
  runFleetHost,
  schemaFor,
  storedEvents,
  uplinkSchemas,
  writeConfig,
} from '../helpers/uplink.ts';

const KEEPALIVE_S = 3;
/** How long the broker is down in the outage case (the 30 s). */
const OUTAGE_S = 30;
/** Appliances in the fleet case, and how many of them share one process (see runFleetHost). */
const FLEET = 20;
const PER_PROCESS = 5;

let dir: string;
let broker: Broker;
/** ≈ 4 people, ≈ 25 s at real time; ≈ 3 s at pace=fast. */
let recording: string;
let shortRecording: string;
/** 54 s of an entrance at real time: people keep coming through a 30 s outage and after it. */
let outageRecording: string;
/** One person with a fever, ≈ 10 s (88 frames): what each box of the fleet screens. */
let fleetRecording: string;

beforeAll(() => {
  dir = tempDir('canthus-uplink-mqtt-');
  recording = path.join(dir, 'rec');
  shortRecording = path.join(dir, 'short');
  simulateRecording({ out: recording, profile: 'simulator', seed: 7, people: 4, feverRate: 0.5 });
  simulateRecording({ out: shortRecording, profile: 'simulator', seed: 5, people: 3, feverRate: 0.5 });
  outageRecording = path.join(dir, 'outage-rec');
  simulateRecording({ out: outageRecording, profile: 'simulator', seed: 7, seconds: 54, feverRate: 0.5 });
  fleetRecording = path.join(dir, 'fleet-rec');
  simulateRecording({ out: fleetRecording, profile: 'simulator', seed: 2, people: 1, feverRate: 1 });
});

beforeAll(async () => {
  broker = await Broker.start(path.join(dir ?? tempDir('canthus-broker-'), 'broker'));
});
afterAll(async () => {
  await broker?.stop();
});

function uplinkConfig(applianceId: string, extra: Record<string, unknown> = {}, url = broker.url) {
  return {
    applianceId,
    uplink: {
      enabled: true,
      transport: 'mqtt',
      mqtt: { url, keepaliveS: KEEPALIVE_S, reconnectMs: 300 },
      flushOnStopMs: 10_000,
      replayPerSecond: 200,
      ...extra,
    },
  };
}

function events(receiver: Receiver, applianceId: string): Envelope[] {
  return receiver.lines
    .filter(
      (line) =>
        line.applianceId === applianceId && line.envelope && line.topic && !line.topic.includes('/response/'),
    )
    .map((line) => line.envelope!);
}

const screeningIds = (received: Envelope[]) =>
  received.filter((e) => e.type.startsWith('canthus.screening.')).map((e) => e.id);
const alertIds = (received: Envelope[]) =>
  received
    .filter((e) => e.type === 'canthus.alert')
    .map((e) => (e.data as { screeningEventId: string }).screeningEventId);

/** Every person's events arrived new → … → end in id order (the receiver's own check, restated). */
function expectPerPersonOrder(received: Envelope[]): void {
  const byPerson = new Map<string, Envelope[]>();
  for (const e of received.filter((x) => x.type.startsWith('canthus.screening.'))) {
    const key = `${e.source}|${(e.data as { personId: string }).personId}`;
    byPerson.set(key, [...(byPerson.get(key) ?? []), e]);
  }
  for (const [person, list] of byPerson) {
    const ids = list.map((e) => e.id);
    expect(ids, `events of ${person} arrived out of order`).toEqual([...ids].sort());
  }
}

interface SnapshotData {
  alertId: string;
  screeningEventId: string;
  thermal: { data: string; width: number; height: number };
  visible: unknown;
}
const snapshotsOf = (received: Envelope[]) =>
  received.filter((e) => e.type === 'canthus.snapshot').map((e) => e.data as SnapshotData);

function expectSchemas(received: Envelope[]): void {
  const check = uplinkSchemas();
  for (const envelope of received) {
    const problem = check(schemaFor(envelope.type), envelope);
    expect(problem, `${envelope.type} ${envelope.id} does not follow its schema`).toBeNull();
  }
}

describe('the MQTT uplink', () => {
  it('delivers every stored screening event and alert once, in per-person order, following the schemas', async () => {
    const out = path.join(dir, 'delivery.jsonl');
    const receiver = await startReceiver({ mqtt: broker.url, out, report: () => {} });
    try {
      const data = path.join(dir, 'delivery');
      writeConfig(data, uplinkConfig('box-delivery'));
      const run = runAppliance({ data, source: `recording:${shortRecording}?pace=fast` });
      expect(await run.exited, run.output()).toBe(0);
      const stored = storedEvents(data);
      expect(stored.unsent, 'outbox rows left unsent after a run with the broker up').toBe(0);
      await waitFor(
        () => screeningIds(events(receiver, 'box-delivery')).length >= stored.screening.length,
        10_000,
        'every screening event at the receiver',
      );
      const received = events(receiver, 'box-delivery');
      expect(screeningIds(received).sort()).toEqual(stored.screening);
      expect(alertIds(received).sort()).toEqual(stored.alerts);
      expect(stored.alerts.length, 'the recording should raise at least one alert').toBeGreaterThan(0);
      // Every alert has its picture (default uplink.snapshot = thermal), referenced by the alert id,
      // a real JPEG, and no visible image.
      await waitFor(
        () => snapshotsOf(events(receiver, 'box-delivery')).length >= stored.alerts.length,
        10_000,
        'a snapshot for every alert',
      );
      const pictures = snapshotsOf(events(receiver, 'box-delivery'));
      expect(pictures.map((p) => p.screeningEventId).sort()).toEqual(stored.alerts);
      const alertEnvelopeIds = new Set(
        events(receiver, 'box-delivery')
          .filter((e) => e.type === 'canthus.alert')
          .map((e) => e.id),
      );
      for (const picture of pictures) {
        expect(alertEnvelopeIds.has(picture.alertId), `snapshot of ${picture.alertId} names no alert`).toBe(
          true,
        );
        expect(Buffer.from(picture.thermal.data, 'base64').subarray(0, 2).toString('hex')).toBe('ffd8');
        expect(picture.visible).toBeNull();
      }
      expect(receiver.stats().gaps).toEqual([]);
      expect(received.filter((e) => e.historical)).toEqual([]);
      expectPerPersonOrder(received);
      expectSchemas(received);
      // Availability: online while running, offline (by hand) after a clean stop.
      const availability = receiver.lines.filter((l) => l.applianceId === 'box-delivery' && l.availability);
      expect(availability.map((l) => l.availability)).toEqual(['online', 'offline']);
    } finally {
      await receiver.stop();
    }
  }, 90_000);

  // The two long cases run side by side (it.concurrent): each has its own appliance(s), data
  // folders and receiver, and the outage its own broker, so stopping it touches no one else. Most
  // of the outage's time is waiting (30 s without a broker), which the fleet's work fills.
  it.concurrent(`after a ${OUTAGE_S} s broker outage during an entrance delivers everything produced meanwhile, in per-person order, once, flagged historical`, async () => {
    // Its own broker: stopping it must not disturb the tests running beside this one.
    const own = await Broker.start(path.join(dir, 'broker-outage'));
    // A fixed client id: the receiver's session (and what is queued for it) survives the restart.
    const receiver = await startReceiver({
      mqtt: own.url,
      out: path.join(dir, 'outage.jsonl'),
      clientId: 'outage-receiver',
      report: () => {},
    });
    const data = path.join(dir, 'outage');
    writeConfig(data, uplinkConfig('box-outage', {}, own.url));
    const startedAt = Date.now();
    // Real time: the entrance goes on for ≈ 15 s after the broker is back (≈ 5 s to the first event).
    const run = runAppliance({ data, source: `recording:${outageRecording}` });
    let stoppedAt = 0;
    let restartedAt = 0;
    try {
      await waitFor(
        () => screeningIds(events(receiver, 'box-outage')).length >= 1,
        30_000,
        'a first event',
      ).catch((error: Error) => {
        throw new Error(`${error.message}; appliance output:\n${run.output().slice(-3000)}`);
      });
      await own.stop();
      stoppedAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_S * 1000));
      await own.start();
      restartedAt = Date.now();
      expect(run.child.exitCode, 'the entrance must still be running when the broker comes back').toBeNull();
      expect(await run.exited, run.output()).toBe(0);
      const stored = storedEvents(data);
      expect(stored.unsent).toBe(0);
      await waitFor(
        () => new Set(screeningIds(events(receiver, 'box-outage'))).size >= stored.screening.length,
        // Both clients reconnect with backoff and the replay is rate-capped: on a busy machine this
        // takes a while; the wait ends as soon as everything is there.
        45_000,
        'every screening event at the receiver after the outage',
      ).catch((error: Error) => {
        // Name what is missing: an outage test that only says "timed out" cannot be diagnosed.
        const got = new Set(screeningIds(events(receiver, 'box-outage')));
        const missing = stored.screening.filter((id) => !got.has(id));
        throw new Error(
          `${error.message}: ${missing.length} of ${stored.screening.length} missing (${missing.join(', ')}); receiver ${JSON.stringify(receiver.stats())}`,
        );
      });
      const received = events(receiver, 'box-outage');
      // Every event once after dedupe (the receiver keeps first copies only), none lost.
      expect(screeningIds(received).sort()).toEqual(stored.screening);
      expect(alertIds(received).sort()).toEqual(stored.alerts);
      expect(receiver.stats().gaps).toEqual([]);
      expectPerPersonOrder(received);
      // Produced while the broker was surely down → sent after the reconnect → historical.
      // (Screening events and alerts: their ids are ULIDs made when the event was.)
      const screened = received.filter(
        (e) => e.type.startsWith('canthus.screening.') || e.type === 'canthus.alert',
      );
      const made = (e: Envelope) => decodeTime(e.id.replace(/-alert$/, ''));
      const duringOutage = screened.filter((e) => made(e) > stoppedAt + 500 && made(e) < restartedAt);
      expect(
        duringOutage.filter((e) => e.type.startsWith('canthus.screening.')).length,
        'the simulated entrance produced too little during the outage',
      ).toBeGreaterThanOrEqual(3);
      expect(duringOutage.filter((e) => !e.historical).map((e) => e.id)).toEqual([]);
      // And the entrance went on after it: live events again, not flagged.
      expect(screened.some((e) => made(e) > restartedAt + 2000 && !e.historical)).toBe(true);
      console.info(
        `outage test: broker down ${((restartedAt - stoppedAt) / 1000).toFixed(1)} s, ${duringOutage.length} events produced meanwhile, whole case ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
      );
    } finally {
      run.child.kill('SIGKILL');
      await receiver.stop();
      await own.stop();
    }
  }, 150_000);

  it.concurrent(`a fleet: ${FLEET} appliances (own ids and data folders, short runs) publish to one broker and one receiver gets every event of every appliance`, async () => {
    const receiver = await startReceiver({
      mqtt: broker.url,
      out: path.join(dir, 'fleet.jsonl'),
      report: () => {},
    });
    try {
      const startedAt = Date.now();
      const boxes = Array.from({ length: FLEET }, (_, i) => `fleet-${String(i + 1).padStart(2, '0')}`);
      // All started at once, as boxes powering up together would: each a whole appliance (its
      // configuration, store, bus, uplink connection and last will), PER_PROCESS to a process —
      // a Node process per box would cost ≈ 2 s of CPU each just to load.
      const boxData = boxes.map((id) => {
        const data = path.join(dir, id);
        writeConfig(data, {
          // A longer keep-alive than the kill case: twenty boxes starting at once on a small test
          // machine can keep a process busy for seconds.
          ...uplinkConfig(id, { mqtt: { url: broker.url, keepaliveS: 15, reconnectMs: 300 } }),
          cameras: [
            {
              id: 'entrance-1',
              profile: 'simulator',
              source: `recording:${fleetRecording}?pace=fast`,
              reference: { warmupS: 1, stableForS: 1 },
            },
          ],
        });
        return { id, data };
      });
      const hosts = Array.from({ length: FLEET / PER_PROCESS }, (_, i) =>
        runFleetHost(boxData.slice(i * PER_PROCESS, (i + 1) * PER_PROCESS).map((box) => box.data)),
      );
      for (const host of hosts) expect(await host.exited, host.output()).toBe(0);
      const exitedAt = Date.now();
      for (const { id, data } of boxData) {
        const stored = storedEvents(data);
        expect(stored.screening.length, `${id} screened nobody`).toBeGreaterThan(0);
        expect(stored.alerts.length, `${id} raised no alert`).toBeGreaterThan(0);
        expect(stored.unsent, `${id} left events unsent`).toBe(0);
        await waitFor(
          () => screeningIds(events(receiver, id)).length >= stored.screening.length,
          10_000,
          `every screening event of ${id}`,
        );
        expect(screeningIds(events(receiver, id)).sort(), `events of ${id}`).toEqual(stored.screening);
        expect(alertIds(events(receiver, id)).sort(), `alerts of ${id}`).toEqual(stored.alerts);
        const screening = events(receiver, id).filter((e) => e.type.startsWith('canthus.screening.'));
        expect(new Set(screening.map((e) => e.source)), `sources of ${id}`).toEqual(
          new Set([`${id}/entrance-1`]),
        );
      }
      // Every box said it was there, and left cleanly (a box whose link dropped under the load
      // would say so in between by its last will and come back: allowed, nothing is lost by it).
      for (const id of boxes) {
        const said = receiver.lines
          .filter((l) => l.applianceId === id && l.availability)
          .map((l) => l.availability);
        expect([said[0], said.at(-1)], `availability of ${id}: ${said.join(', ')}`).toEqual([
          'online',
          'offline',
        ]);
      }
      // Duplicates are allowed (at-least-once); the receiver drops them.
      expect(receiver.stats()).toMatchObject({ rejected: 0, gaps: [] });
      console.info(
        `fleet test: ${FLEET} appliances ran and exited in ${((exitedAt - startedAt) / 1000).toFixed(1)} s, ${receiver.stats().events} events received`,
      );
    } finally {
      await receiver.stop();
    }
  }, 180_000);

  // Not concurrent with the two long cases above: its kill must land while a person is in view, and
  // on a machine busy with twenty fleet appliances the realtime replay may show nobody for long.
  it('after SIGKILL mid-burst: offline by last will, then online again, and the deduped set equals the store — the persons cut off included', async () => {
    const out = path.join(dir, 'kill.jsonl');
    const receiver = await startReceiver({ mqtt: broker.url, out, report: () => {} });
    const data = path.join(dir, 'kill');
    writeConfig(data, uplinkConfig('box-kill'));
    try {
      const first = runAppliance({ data, source: `recording:${recording}` });
      // Mid-burst with someone in view (a person whose `new` arrived and whose `end` has not), with a
      // few events before.
      await waitFor(
        () => {
          const received = events(receiver, 'box-kill');
          const inView = new Set<string>();
          for (const e of received) {
            const person = (e.data as { personId?: string }).personId ?? '';
            if (e.type === 'canthus.screening.new') inView.add(person);
            if (e.type === 'canthus.screening.end') inView.delete(person);
          }
          return screeningIds(received).length >= 3 && inView.size > 0;
        },
        40_000,
        'a person coming into view after three events',
      ).catch((error: Error) => {
        const seen = events(receiver, 'box-kill').map((e) => e.type.replace('canthus.', ''));
        throw new Error(
          `${error.message}; received: ${seen.join(', ') || 'nothing'}\n${first.output().slice(-2000)}`,
        );
      });
      first.child.kill('SIGKILL');
      const killedAt = Date.now();
      await first.exited;
      const offline = await waitFor(
        () =>
          receiver.lines.find(
            (l) =>
              l.applianceId === 'box-kill' &&
              l.availability === 'offline' &&
              Date.parse(l.receivedAt) >= killedAt - 50,
          ),
        KEEPALIVE_S * 1500 + 2000,
        'the last will (offline) within the keep-alive',
      );
      expect(Date.parse(offline.receivedAt) - killedAt).toBeLessThanOrEqual(KEEPALIVE_S * 1500);

      const restartedAt = Date.now();
      const second = runAppliance({ data, source: `recording:${shortRecording}?pace=fast` });
      expect(await second.exited, second.output()).toBe(0);
      // `online` again once it connected (retained, QoS 1: the receiver has it before the run ends).
      const online = receiver.lines.find(
        (l) =>
          l.applianceId === 'box-kill' &&
          l.availability === 'online' &&
          Date.parse(l.receivedAt) >= restartedAt,
      );
      expect(online, `no "online" after the restart:\n${second.output().slice(-3000)}`).toBeDefined();
      expect(Date.parse(online!.receivedAt)).toBeGreaterThan(Date.parse(offline.receivedAt));
      expect(second.output()).toContain('persons left open by the previous run were closed');
      const stored = storedEvents(data);
      expect(stored.unsent).toBe(0);
      await waitFor(
        () => new Set(screeningIds(events(receiver, 'box-kill'))).size >= stored.screening.length,
        15_000,
        'every screening event of both runs',
      );
      const received = events(receiver, 'box-kill');
      expect(screeningIds(received).sort()).toEqual(stored.screening);
      expect(alertIds(received).sort()).toEqual(stored.alerts);
      expect(receiver.stats().gaps).toEqual([]);
      expectPerPersonOrder(received);
      // The persons in view at the kill were closed at the restart, and their `end` came too.
      const interrupted = received.filter(
        (e) =>
          e.type === 'canthus.screening.end' &&
          (e.data as { reasons: string[] }).reasons.some((r) => r.startsWith('screening interrupted')),
      );
      expect(interrupted.length, 'no person was cut off by the kill').toBeGreaterThan(0);
      for (const end of interrupted) {
        const person = received.filter((e) => e.source === end.source && e.subject === end.subject);
        expect(person[0].type, `${end.subject} began with its new`).toBe('canthus.screening.new');
        expect(person.indexOf(end), `${end.subject}: its end came after its earlier events`).toBeGreaterThan(
          0,
        );
      }
      expectSchemas(interrupted);
      const availability = receiver.lines
        .filter((l) => l.applianceId === 'box-kill' && l.availability)
        .map((l) => l.availability);
      expect(availability).toEqual(['online', 'offline', 'online', 'offline']);
    } finally {
      await receiver.stop();
    }
  }, 120_000);
});

describe('remote commands over MQTT', () => {
  let appliance: Awaited<ReturnType<typeof startAppliance>>;
  let client: MqttClient;
  const responses: { topic: string; body: Record<string, unknown>; correlation: string | null }[] = [];
  const replayed: Envelope[] = [];

  beforeAll(async () => {
    const data = tempDir();
    writeConfig(data, {
      ...uplinkConfig('box-commands', { maxRequestBytes: 1024, healthIntervalS: 1 }),
      cameras: [
        {
          id: 'entrance-1',
          profile: 'simulator',
          source: `recording:${shortRecording}?pace=fast`,
          reference: { warmupS: 1, stableForS: 1 },
        },
      ],
    });
    appliance = await startAppliance({ loaded: loadConfig({ dataDir: data }), headless: true });
    await appliance.finished;
    await appliance.bus.drain();
    // Delivered, and no alert picture still being drawn (its outbox row would come after).
    await waitFor(
      () => {
        const detail = appliance.featureStates().find((f) => f.name === 'uplink')?.detail as
          | { backlog?: number; snapshots?: { rendering?: number } }
          | undefined;
        return detail?.backlog === 0 && detail.snapshots?.rendering === 0;
      },
      10_000,
      'the outbox delivered',
    );
    client = connect(broker.url, { protocolVersion: 5, clientId: 'commands-test' });
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    client.on('message', (topic, payload, packet) => {
      if (!topic.includes('/response/') && !topic.endsWith('/screening')) return;
      const body = JSON.parse(payload.toString()) as Record<string, unknown>;
      if (topic.includes('/response/'))
        responses.push({ topic, body, correlation: packet.properties?.correlationData?.toString() ?? null });
      else if (topic.endsWith('/screening') && body.historical === true)
        replayed.push(body as unknown as Envelope);
    });
    await client.subscribeAsync('canthus/box-commands/#', { qos: 1 });
  });
  afterAll(async () => {
    await client?.endAsync();
    await appliance?.stop();
  });

  const request = async (name: string, payload: string | Buffer, correlation: string) => {
    await client.publishAsync(`canthus/box-commands/request/${name}`, payload, {
      qos: 1,
      properties: { correlationData: Buffer.from(correlation) },
    });
    return waitFor(() => responses.find((r) => r.correlation === correlation), 5000, `the answer to ${name}`);
  };

  it('answers ping and health, echoing the correlation data and id', async () => {
    const ping = await request('ping', JSON.stringify({ correlationId: 'c-1' }), 'corr-ping');
    expect(ping.topic).toBe('canthus/box-commands/response/ping');
    expect(ping.body).toMatchObject({
      correlationId: 'c-1',
      ok: true,
      result: { pong: true, applianceId: 'box-commands' },
    });
    const health = await request('health', '', 'corr-health');
    expect(health.body).toMatchObject({
      ok: true,
      result: { uplink: { enabled: true, backlog: 0, parked: 0 } },
    });
    const check = uplinkSchemas();
    expect(check('response', ping.body)).toBeNull();
    expect(check('response', health.body)).toBeNull();
  });

  it('answers malformed, unknown and oversized requests with an error and keeps running', async () => {
    const malformed = await request('ping', '{not json', 'corr-bad');
    expect(malformed.body).toMatchObject({ ok: false, error: { code: 'malformed' } });
    const unknown = await request('reboot', '{}', 'corr-unknown');
    expect(unknown.topic).toBe('canthus/box-commands/response/reboot');
    expect(unknown.body).toMatchObject({ ok: false, error: { code: 'unknown-command' } });
    const big = await request('ping', Buffer.alloc(4096, 0x20), 'corr-big');
    expect(big.body).toMatchObject({ ok: false, error: { code: 'too-large' } });
    const badSince = await request('events', JSON.stringify({ since: 'yesterday' }), 'corr-since');
    expect(badSince.body).toMatchObject({ ok: false, error: { code: 'bad-argument' } });
    for (const r of [malformed, unknown, big, badSince])
      expect(uplinkSchemas()('response', r.body)).toBeNull();
    // Still answering.
    expect((await request('ping', '{}', 'corr-after')).body.ok).toBe(true);
    const uplink = appliance.featureStates().find((f) => f.name === 'uplink');
    expect(uplink?.detail?.requests).toMatchObject({ refused: 4 });
  });

  it('replays stored events on request, flagged historical', async () => {
    const stored = storedEvents(appliance.config.dataDir);
    const answer = await request(
      'events',
      JSON.stringify({ since: new Date(0).toISOString() }),
      'corr-events',
    );
    expect(answer.body).toMatchObject({ ok: true, result: { truncated: false } });
    expect((answer.body.result as { replaying: number }).replaying).toBeGreaterThanOrEqual(
      stored.screening.length,
    );
    await waitFor(() => replayed.length >= stored.screening.length, 10_000, 'the replayed events');
    expect(new Set(replayed.map((e) => e.id))).toEqual(new Set(stored.screening));
  });

  it('publishes health (retained) at its interval', async () => {
    const messages: { envelope: Envelope; retained: boolean }[] = [];
    const watcher = connect(broker.url, { protocolVersion: 5 });
    watcher.on('message', (_topic, payload, packet) => {
      messages.push({ envelope: JSON.parse(payload.toString()) as Envelope, retained: packet.retain });
    });
    await watcher.subscribeAsync('canthus/box-commands/health', { qos: 1 });
    try {
      await waitFor(() => messages.length >= 3, 5000, 'the retained health and two more');
      expect(messages[0].retained, 'a new subscriber gets the last health at once (retained)').toBe(true);
      const times = messages.map((m) => Date.parse(m.envelope.time));
      expect(times[2] - times[1]).toBeGreaterThan(500);
      expect(times[2] - times[1]).toBeLessThan(2500);
      const check = uplinkSchemas();
      for (const { envelope } of messages) expect(check('health', envelope), 'health schema').toBeNull();
      expect(messages[2].envelope.data).toMatchObject({ uplink: { enabled: true, problem: null } });
    } finally {
      await watcher.endAsync();
    }
  });
});
