/**
 * The uplink's pure parts and the outbox methods of the event store: delivery order, the bounded
 * outbox policy (alerts never dropped, updates coalesced into their end), signatures, backoff,
 * command parsing.
 */
import { describe, expect, it } from 'vitest';
import type { ScreeningEvent } from '../../appliance/core/types.ts';
import { outboxEnvelope, signWebhook, verifyWebhook } from '../../appliance/core/uplink.ts';
import { handleCommand } from '../../appliance/features/uplink/commands.ts';
import { backoffMs } from '../../appliance/features/uplink/delivery.ts';
import { EventStore } from '../../appliance/store/eventStore.ts';
import { tempDir } from '../helpers/tempDir.ts';

let seq = 0;
function event(personId: string, kind: ScreeningEvent['kind'], alert = false): ScreeningEvent {
  seq++;
  return {
    id: `01J${String(seq).padStart(23, '0')}`,
    kind,
    personId,
    at: 1_700_000_000_000 + seq,
    state: kind === 'end' ? 'left' : 'measuring',
    prompts: [],
    skinC: 36,
    estimatedCoreC: alert ? 38.2 : 37,
    decision: alert ? 'elevated' : 'normal',
    reasonCodes: [],
    reasons: [],
    calibration: { referenceState: 'stable', offsetC: 0.1, gain: 1, calibrationId: null },
    applianceId: 'box',
    cameraId: 'entrance-1',
    box: [1, 2, 3, 4],
    unit: 'C',
    display: null,
    alert,
    goodFrames: 3,
    mode: 'absolute',
    firstSeq: 1,
    lastSeq: 2,
  };
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
