/**
 * The uplink's pure parts and the outbox methods of the event store: delivery order, the bounded
 * outbox policy (alerts never dropped, updates coalesced into their end), signatures, backoff,
 * command parsing.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, uplinkTransports } from '../../appliance/config/load.ts';
import type { ScreeningEvent } from '../../appliance/core/types.ts';
import { outboxEnvelope, signWebhook, verifyWebhook } from '../../appliance/core/uplink.ts';
import { handleCommand } from '../../appliance/features/uplink/commands.ts';
import { backoffMs } from '../../appliance/features/uplink/delivery.ts';
import { EventStore } from '../../appliance/store/eventStore.ts';
import { screeningEvent } from '../helpers/screeningEvent.ts';
import { tempDir } from '../helpers/tempDir.ts';

let seq = 0;
/** The next event (1 ms after the last: ids sort in the order the events are made). */
function event(personId: string, kind: ScreeningEvent['kind'], alert = false): ScreeningEvent {
  seq++;
  return screeningEvent({
    personId,
    at: 1_700_000_000_000 + seq,
    kind,
    decision: alert ? 'elevated' : 'normal',
    applianceId: 'box',
  });
}

describe('the outbox in the event store', () => {
  it('holds every screening event, hands alerts out first, then by event id', () => {
    const store = EventStore.open(tempDir());
    store.recordScreening(event('p1', 'new'));
    store.recordScreening(event('p1', 'update'));
    const raising = event('p2', 'new', true);
    store.recordScreening(raising);
    store.recordScreening(event('p1', 'end'));
    const rows = store.unsentOutbox(10);
    expect(rows.map((r) => r.topic)).toEqual(['alert', 'screening', 'screening', 'screening', 'screening']);
    expect(rows[0].id).toBe(raising.id);
    const ids = rows.slice(1).map((r) => r.id);
    expect(ids).toEqual([...ids].sort());
    store.markOutboxSent('alert', raising.id);
    store.parkOutbox('screening', ids[0], 'HTTP 422');
    expect(store.outboxStats()).toMatchObject({ unsent: 3, parked: 1, lastParkedError: 'HTTP 422' });
    expect(store.unsentOutbox(10).map((r) => r.id)).not.toContain(ids[0]);
    store.close();
  });

  it('when full: deletes sent rows, coalesces updates into their end, drops routine rows — never alerts', () => {
    const store = EventStore.open(tempDir());
    const sent = event('s', 'new');
    store.recordScreening(sent);
    store.markOutboxSent('screening', sent.id);
    // p1 ended: its updates can be coalesced. p2 is still in view: its updates stay until step 3.
    store.recordScreening(event('p1', 'new'));
    const u1 = event('p1', 'update');
    const u2 = event('p1', 'update');
    store.recordScreening(u1);
    store.recordScreening(u2);
    store.recordScreening(event('p1', 'end'));
    const alerting = event('p2', 'new', true);
    store.recordScreening(alerting);
    store.recordScreening(event('p2', 'update'));
    // 1 sent + 4 (p1) + 2 (p2) screening + 1 alert = 8 rows.
    const trim = store.trimOutbox(5);
    expect(trim).toEqual({ sentDeleted: 1, coalesced: 2, dropped: 0 });
    const left = store.unsentOutbox(20).map((r) => r.id);
    expect(left).not.toContain(u1.id);
    expect(left).not.toContain(u2.id);

    const hard = store.trimOutbox(1);
    expect(hard.dropped).toBeGreaterThan(0);
    const rows = store.unsentOutbox(20);
    // The alert and the screening event that raised it survive any bound.
    expect(
      rows
        .filter((r) => r.id === alerting.id)
        .map((r) => r.topic)
        .sort(),
    ).toEqual(['alert', 'screening']);
    store.close();
  });
});

describe('the outbox with two transports (MQTT and a webhook at once)', () => {
  const both = ['mqtt', 'webhook'];

  it('keeps a row for the transport that has not acknowledged it, and marks it sent once both did', () => {
    const store = EventStore.open(tempDir());
    const first = event('p1', 'new');
    const second = event('p1', 'end');
    store.recordScreening(first);
    store.recordScreening(second);
    store.settleOutbox('screening', first.id, 'mqtt', both, { sent: true });
    // MQTT is past it; the webhook still owes it, so the outbox still holds it as unsent.
    expect(store.unsentOutbox(10, 'mqtt').map((r) => r.id)).toEqual([second.id]);
    expect(store.unsentOutbox(10, 'webhook').map((r) => r.id)).toEqual([first.id, second.id]);
    expect(store.outboxStats().unsent).toBe(2);
    expect(store.outboxBacklog('mqtt').unsent).toBe(1);
    expect(store.outboxBacklog('webhook').unsent).toBe(2);
    // The same acknowledgement again (a retry's PUBACK) changes nothing.
    store.settleOutbox('screening', first.id, 'mqtt', both, { sent: true });
    expect(store.outboxStats().unsent).toBe(2);
    store.settleOutbox('screening', first.id, 'webhook', both, { sent: true });
    expect(store.outboxStats().unsent).toBe(1);
    expect(store.unsentOutbox(10, 'webhook').map((r) => r.id)).toEqual([second.id]);
    store.close();
  });

  it('parks a row one receiver refused for good once the other delivered it', () => {
    const store = EventStore.open(tempDir());
    const e = event('p2', 'end');
    store.recordScreening(e);
    store.settleOutbox('screening', e.id, 'webhook', both, { sent: false, parkedError: 'HTTP 422' });
    // Refused by the webhook, still owed to MQTT: not parked yet, MQTT still sends it.
    expect(store.unsentOutbox(10, 'mqtt').map((r) => r.id)).toEqual([e.id]);
    expect(store.outboxStats()).toMatchObject({ unsent: 1, parked: 0 });
    store.settleOutbox('screening', e.id, 'mqtt', both, { sent: true });
    expect(store.outboxStats()).toMatchObject({ unsent: 0, parked: 1, lastParkedError: 'webhook: HTTP 422' });
    store.close();
  });

  it('with one transport, settles a row at once', () => {
    const store = EventStore.open(tempDir());
    const e = event('p3', 'end');
    store.recordScreening(e);
    store.settleOutbox('screening', e.id, 'mqtt', ['mqtt'], { sent: true });
    expect(store.outboxStats().unsent).toBe(0);
    store.close();
  });
});

describe('persons left open by a crash', () => {
  it('are closed at the next start with an end event in the outbox, after their earlier events', () => {
    const data = tempDir();
    const crashed = EventStore.open(data);
    const seen = event('in-view', 'new');
    const measured = event('in-view', 'update');
    crashed.recordScreening(seen);
    crashed.recordScreening(measured);
    crashed.recordScreening(event('gone', 'new'));
    crashed.recordScreening(event('gone', 'end'));
    crashed.close(); // no `end` for "in-view": the process died

    const store = EventStore.open(data);
    expect(store.closeInterrupted()).toBe(1);
    const rows = store.unsentOutbox(20).filter((r) => JSON.parse(r.payload).personId === 'in-view');
    expect(rows.map((r) => JSON.parse(r.payload).kind)).toEqual(['new', 'update', 'end']);
    expect(rows[0].id).toBe(seen.id);
    expect(rows[1].id).toBe(measured.id);
    const end = JSON.parse(rows[2].payload) as ScreeningEvent;
    expect(end).toMatchObject({
      kind: 'end',
      personId: 'in-view',
      decision: 'invalid',
      state: 'invalid',
      alert: false,
      at: measured.at,
    });
    expect(end.reasonCodes).toContain('measure-again');
    expect(end.reasons.at(-1)).toMatch(/screening interrupted/);
    // Stored as the person's last event, like any other end.
    const person = store.listPersons({ limit: 10 }).find((p) => p.personId === 'in-view')!;
    expect(person).toMatchObject({ final: true, decision: 'invalid', lastEventId: end.id });
    expect(store.closeInterrupted()).toBe(0);
    store.close();
  });

  it('closes a person whose last event it cannot read without failing the start (no end to send)', () => {
    const data = tempDir();
    const crashed = EventStore.open(data);
    crashed.recordScreening({ ...event('odd', 'new'), id: 'not-a-ulid' });
    crashed.close();
    const store = EventStore.open(data);
    expect(store.closeInterrupted()).toBe(1);
    expect(store.listPersons({ limit: 10 })[0]).toMatchObject({ final: true, decision: 'invalid' });
    expect(store.unsentOutbox(10).map((r) => JSON.parse(r.payload).kind)).toEqual(['new']);
    store.close();
  });

  it('keeps an elevated decision: the alert was raised and stays', () => {
    const data = tempDir();
    const crashed = EventStore.open(data);
    crashed.recordScreening(event('fever', 'new', true));
    crashed.close();
    const store = EventStore.open(data);
    expect(store.closeInterrupted()).toBe(1);
    const end = store
      .unsentOutbox(10)
      .filter((r) => r.topic === 'screening')
      .map((r) => JSON.parse(r.payload) as ScreeningEvent)
      .find((e) => e.kind === 'end');
    expect(end).toMatchObject({ decision: 'elevated', alert: false });
    store.close();
  });
});

describe('uplink configuration', () => {
  const load = (uplink: Record<string, unknown>) => {
    const data = tempDir();
    writeFileSync(path.join(data, 'config.json'), JSON.stringify({ uplink }));
    return loadConfig({ dataDir: data }).config.uplink!;
  };
  const mqtt = { url: 'mqtt://127.0.0.1:1883' };
  const webhook = { url: 'http://127.0.0.1:9/hook', secret: 'a-shared-secret-of-24-chars!' };

  it('publishes health every minute unless told otherwise', () => {
    expect(load({ enabled: true, mqtt }).healthIntervalS).toBe(60);
  });

  it('takes one transport or both, and names what a transport lacks', () => {
    expect(uplinkTransports(load({ enabled: true, mqtt }))).toEqual(['mqtt']);
    expect(uplinkTransports(load({ enabled: true, transport: ['mqtt', 'webhook'], mqtt, webhook }))).toEqual([
      'mqtt',
      'webhook',
    ]);
    expect(() => load({ enabled: true, transport: ['mqtt', 'webhook'], mqtt })).toThrow(
      /\/uplink\/webhook\/url: missing/,
    );
    expect(() => load({ enabled: true, transport: ['mqtt', 'webhook'], webhook })).toThrow(
      /\/uplink\/mqtt\/url: missing/,
    );
    expect(() => load({ enabled: true, transport: [], mqtt })).toThrow(/uplink\/transport/);
    expect(() => load({ enabled: true, transport: ['mqtt', 'mqtt'], mqtt })).toThrow(/uplink\/transport/);
    expect(() => load({ enabled: true, transport: 'pigeon', mqtt })).toThrow(/uplink\/transport/);
  });
});

describe('envelopes and webhook signatures', () => {
  it('gives an alert its own envelope id, distinct from the screening event that raised it', () => {
    const e = event('p9', 'new', true);
    const row = { topic: 'alert', id: e.id, payload: JSON.stringify(e), createdAt: 1 };
    const envelope = outboxEnvelope('box', row, false);
    expect(envelope).toMatchObject({
      id: `${e.id}-alert`,
      source: 'box/entrance-1',
      type: 'canthus.alert',
      subject: 'p9',
      data: { screeningEventId: e.id },
    });
    expect(outboxEnvelope('box', { ...row, topic: 'screening' }, true)).toMatchObject({
      id: e.id,
      type: 'canthus.screening.new',
      historical: true,
    });
  });

  it('signs as Standard Webhooks does and refuses tampering, wrong keys and stale timestamps', () => {
    // Reference vector of the Standard Webhooks specification's libraries.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
    const body = '{"test": 2432232314}';
    expect(signWebhook(secret, id, 1614265330, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    const ok = { secret, id, timestamp: '1614265330', body, nowS: 1614265330 + 10 };
    expect(
      verifyWebhook({
        ...ok,
        signature: `v1,bogus v1,${signWebhook(secret, id, 1614265330, body).slice(3)}`,
      }),
    ).toEqual({ ok: true });
    const signature = signWebhook(secret, id, 1614265330, body);
    expect(verifyWebhook({ ...ok, signature, body: '{"test": 2432232315}' })).toMatchObject({ ok: false });
    expect(verifyWebhook({ ...ok, signature, secret: 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAA' })).toMatchObject({
      ok: false,
    });
    expect(verifyWebhook({ ...ok, signature, nowS: 1614265330 + 301 })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('from now'),
    });
    expect(verifyWebhook({ ...ok, signature: undefined })).toMatchObject({ ok: false });
  });
});

describe('backoff', () => {
  it('doubles from the initial delay up to the cap, with jitter between half and all of the step', () => {
    expect(backoffMs(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(backoffMs(3, 1000, 60_000, () => 1)).toBe(4000);
    expect(backoffMs(3, 1000, 60_000, () => 0)).toBe(2000);
    expect(backoffMs(20, 1000, 60_000, () => 1)).toBe(60_000);
  });
});

describe('remote commands', () => {
  const ctx = {
    maxRequestBytes: 100,
    applianceId: 'box',
    health: () => ({ status: 'ok' }),
    replaySince: (_from: number, limit: number) => Math.min(5, limit),
    cameraIds: ['cam-1'],
    video: { maxDurationS: 60, fps: 2 },
    snapshot: async () => null,
    videoStart: (cameraId: string, durationS: number, fps: number) => ({ cameraId, durationS, fps }),
    videoStop: () => ({ stopped: true }),
  };
  const run = (name: string, payload: string) => handleCommand(name, Buffer.from(payload), ctx);

  it('answers with the correlation id, and errors for what cannot be served', async () => {
    expect((await run('ping', '{"correlationId":"x"}')).body).toMatchObject({ ok: true, correlationId: 'x' });
    expect((await run('events', '{"since":"2024-01-01T00:00:00Z","limit":5}')).body).toMatchObject({
      ok: true,
      result: { replaying: 5, truncated: true },
    });
    expect((await run('events', '{"limit":0,"since":"2024-01-01T00:00:00Z"}')).body.error?.code).toBe(
      'bad-argument',
    );
    expect((await run('ping', '[1]')).body.error?.code).toBe('malformed');
    expect((await run('ping', 'x'.repeat(101))).body.error?.code).toBe('too-large');
    expect((await run('video/rewind', '{}')).body.error?.code).toBe('unknown-command');
    expect((await run('video/rewind', '{}')).name).toBe('video/rewind');
    expect((await run('a/+/#', '{}')).name).toBe('invalid');
  });

  it('checks video and snapshot arguments against the configuration', async () => {
    expect((await run('video/start', '{}')).body).toMatchObject({
      ok: true,
      result: { cameraId: 'cam-1', durationS: 60, fps: 2 },
    });
    expect((await run('video/start', '{"durationS":61}')).body.error?.code).toBe('bad-argument');
    expect((await run('video/start', '{"fps":3}')).body.error?.code).toBe('bad-argument');
    expect((await run('video/start', '{"cameraId":"cam-9"}')).body.error?.message).toContain('cam-1');
    expect((await run('video/stop', '{}')).body).toMatchObject({ ok: true, result: { stopped: true } });
    // No frame within the wait: an error the centre can show, not a hang.
    expect((await run('snapshot', '{}')).body.error?.code).toBe('unavailable');
  });
});
