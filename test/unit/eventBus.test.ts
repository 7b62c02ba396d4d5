import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventBus, type EventBusMap, type EventName } from '../../appliance/core/eventBus.ts';
import { log } from '../../appliance/core/log.ts';
import type { ReferenceState, ScreeningEvent, ThermalFrame } from '../../appliance/core/types.ts';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

type Payload<K extends EventName> = Omit<EventBusMap[K], 'id' | 'at'> & { at?: number };

/** A `frame` payload: listeners here only look at `seq`. */
const frame = (seq: number): Payload<'frame'> => ({
  cameraId: 'entrance-1',
  seq,
  capturedAt: seq,
  thermal: {} as ThermalFrame,
  reference: {} as ReferenceState,
  tracks: [],
});

/** A `screening` payload: listeners here only look at `personId`. */
const screening = (personId: string): Payload<'screening'> =>
  ({ kind: 'update', personId, cameraId: 'entrance-1' }) as unknown as Omit<ScreeningEvent, 'id' | 'at'>;

const statsOf = (bus: EventBus, name: string) => {
  const found = bus.stats().find((s) => s.name === name);
  if (!found) throw new Error(`no listener ${name}`);
  return found;
};

describe('EventBus', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('stamps every event with a unique, increasing ULID and its time', () => {
    const bus = new EventBus();
    const before = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 500; i++) ids.push(bus.emit('screening', screening(`p${i}`)).id);
    for (const id of ids) expect(id).toMatch(ULID);
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) expect(ids[i] > ids[i - 1]).toBe(true);
    const event = bus.emit('frame', frame(1));
    expect(event.at).toBeGreaterThanOrEqual(before);
    expect(event.at).toBeLessThanOrEqual(Date.now());
    // A given time (a replayed frame's) is kept; the id still follows the wall clock.
    const replayed = bus.emit('frame', { ...frame(2), at: 1000 });
    expect(replayed.at).toBe(1000);
    expect(replayed.id > event.id).toBe(true);
  });

  it('draws the random part of ids afresh: many buses (appliances) never share one', () => {
    // The random part (last 16 characters) tells apart appliances that emit in the same millisecond.
    const randomParts = new Set<string>();
    for (let i = 0; i < 200; i++) randomParts.add(new EventBus().emit('frame', frame(i)).id.slice(10));
    expect(randomParts.size).toBe(200);
    // Within one bus the random pool is refilled (512 bytes, 16 per id): ids stay unique past it.
    const bus = new EventBus();
    const ids = new Set<string>();
    for (let i = 0; i < 2000; i++) ids.add(bus.emit('frame', frame(i)).id);
    expect(ids.size).toBe(2000);
  });

  it('runs an inline listener inside emit and a queued one after emit returns', async () => {
    const bus = new EventBus();
    const seen: string[] = [];
    bus.on('screening', (e) => seen.push(`inline:${e.personId}`), { name: 'inline', delivery: 'inline' });
    bus.on('screening', (e) => seen.push(`queued:${e.personId}`), { name: 'queued' });
    bus.emit('screening', screening('a'));
    expect(seen).toEqual(['inline:a']);
    expect(statsOf(bus, 'queued').waiting).toBe(1);
    await bus.drain();
    expect(seen).toEqual(['inline:a', 'queued:a']);
    expect(statsOf(bus, 'queued')).toMatchObject({ delivered: 1, waiting: 0, delivery: 'queued' });
    expect(statsOf(bus, 'inline')).toMatchObject({ delivered: 1, delivery: 'inline' });
  });

  it('keeps delivering to the others when a listener throws; logs the first error once and counts all', async () => {
    const errors = vi.spyOn(log, 'error').mockImplementation(() => undefined);
    const bus = new EventBus();
    const before: string[] = [];
    const after: string[] = [];
    const inlineAfter: string[] = [];
    bus.on('screening', (e) => before.push(e.personId), { name: 'before' });
    bus.on(
      'screening',
      (e) => {
        throw new Error(`cannot handle ${e.personId}`);
      },
      { name: 'thrower' },
    );
    bus.on('screening', (e) => after.push(e.personId), { name: 'after' });
    bus.on(
      'screening',
      () => {
        throw new Error('inline failure');
      },
      { name: 'inline-thrower', delivery: 'inline' },
    );
    bus.on('screening', (e) => inlineAfter.push(e.personId), { name: 'inline-after', delivery: 'inline' });

    for (const id of ['a', 'b', 'c', 'd', 'e'])
      expect(() => bus.emit('screening', screening(id))).not.toThrow();
    expect(inlineAfter).toEqual(['a', 'b', 'c', 'd', 'e']);
    await bus.drain();
    expect(before).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(after).toEqual(['a', 'b', 'c', 'd', 'e']);

    expect(statsOf(bus, 'thrower')).toMatchObject({ errors: 5, delivered: 5, lastError: 'cannot handle e' });
    expect(statsOf(bus, 'inline-thrower')).toMatchObject({ errors: 5, lastError: 'inline failure' });
    expect(statsOf(bus, 'after').errors).toBe(0);
    // One log line per failing listener, not one per failure.
    const logged = errors.mock.calls.map((call) => (call[0] as { listener?: string }).listener);
    expect(logged.filter((name) => name === 'thrower')).toHaveLength(1);
    expect(logged.filter((name) => name === 'inline-thrower')).toHaveLength(1);
  });

  it('keeps only the newest 2 frames for a lagging listener (drops counted) but every screening event', async () => {
    const bus = new EventBus();
    const frames: number[] = [];
    const persons: string[] = [];
    bus.on('frame', (e) => frames.push(e.seq), { name: 'frames' });
    bus.on('screening', (e) => persons.push(e.personId), { name: 'persons' });
    for (let seq = 1; seq <= 10; seq++) {
      bus.emit('frame', frame(seq));
      bus.emit('screening', screening(`p${seq}`));
    }
    expect(statsOf(bus, 'frames')).toMatchObject({ waiting: 2, dropped: 8 });
    expect(statsOf(bus, 'persons')).toMatchObject({ waiting: 10, dropped: 0 });
    await bus.drain();
    expect(frames).toEqual([9, 10]);
    expect(persons).toEqual(Array.from({ length: 10 }, (_, i) => `p${i + 1}`));
    expect(statsOf(bus, 'frames')).toMatchObject({ delivered: 2, dropped: 8, waiting: 0 });
    expect(statsOf(bus, 'persons')).toMatchObject({ delivered: 10, dropped: 0, waiting: 0 });
  });

  it('gives an async listener one event at a time, in order', async () => {
    const bus = new EventBus();
    const order: string[] = [];
    let running = 0;
    let most = 0;
    bus.on(
      'screening',
      async (e) => {
        running++;
        most = Math.max(most, running);
        order.push(`start:${e.personId}`);
        // Later events settle faster: an overlap would reorder the ends.
        await new Promise((resolve) => setTimeout(resolve, 30 - Number(e.personId) * 5));
        order.push(`end:${e.personId}`);
        running--;
      },
      { name: 'slow' },
    );
    for (const id of ['1', '2', '3', '4']) bus.emit('screening', screening(id));
    await bus.drain();
    expect(most).toBe(1);
    expect(order).toEqual(['start:1', 'end:1', 'start:2', 'end:2', 'start:3', 'end:3', 'start:4', 'end:4']);
  });

  it('counts a rejected promise as an error of that listener', async () => {
    vi.spyOn(log, 'error').mockImplementation(() => undefined);
    const bus = new EventBus();
    bus.on(
      'screening',
      async () => {
        await Promise.resolve();
        throw new Error('write failed');
      },
      { name: 'rejecting' },
    );
    bus.emit('screening', screening('a'));
    bus.emit('screening', screening('b'));
    await bus.drain();
    expect(statsOf(bus, 'rejecting')).toMatchObject({ errors: 2, lastError: 'write failed', waiting: 0 });
  });

  it('drain() resolves only after the queued work is done (and at once when idle)', async () => {
    const bus = new EventBus();
    await bus.drain();
    const done: string[] = [];
    bus.on(
      'screening',
      async (e) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        done.push(e.personId);
      },
      { name: 'async' },
    );
    bus.on('screening', (e) => done.push(`sync:${e.personId}`), { name: 'sync' });
    for (const id of ['a', 'b', 'c']) bus.emit('screening', screening(id));
    expect(done).toEqual([]);
    const started = Date.now();
    await bus.drain();
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
    expect(done.filter((d) => !d.startsWith('sync:'))).toEqual(['a', 'b', 'c']);
    expect(done.filter((d) => d.startsWith('sync:'))).toEqual(['sync:a', 'sync:b', 'sync:c']);
    expect(bus.stats().every((s) => s.waiting === 0)).toBe(true);
  });

  it('stops delivering after unsubscribe, pending events included', async () => {
    const bus = new EventBus();
    const seen: string[] = [];
    const off = bus.on('screening', (e) => seen.push(e.personId), { name: 'gone' });
    bus.emit('screening', screening('a'));
    off();
    bus.emit('screening', screening('b'));
    await bus.drain();
    expect(seen).toEqual([]);
    expect(bus.stats()).toEqual([]);
  });
});
