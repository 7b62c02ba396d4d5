/**
 * The typed event bus: the one way the parts of the appliance talk. The pipeline publishes; features
 * subscribe, without either knowing the other.
 *
 * Every published event gets a stable, sortable id (a monotonic ULID) and its creation time, so the
 * store, the UI and the uplink speak of the same event.
 *
 * Listeners can never hurt the frame path:
 * - a listener that throws is caught; its first error is logged, later ones are counted (health
 *   shows the count and the last message) — never a crash;
 * - `queued` delivery (the default) runs the listener after `emit` returns, from its own mailbox.
 *   Events whose newer copy supersedes the older (`frame`, `health`) keep only the newest few
 *   (drop-oldest, drops counted); every other event is kept until delivered, never dropped.
 *   A listener that returns a promise gets its next event only after it settles (per-listener
 *   order), so a slow network send or encoder lags behind on its own without delaying anyone.
 *   A listener of superseded events (frames) that spends long synchronous stretches is given at most
 *   `SYNC_SHARE` of the main thread: after a call of d ms its next call waits d × (1/SYNC_SHARE − 1),
 *   and it sees fewer frames. Listeners of kept events are never held back (an alert must not wait);

 * - `inline` delivery runs the listener inside `emit`, on the frame path. Only for constant work
 *   (copying a few numbers, reading a small region of the frame); its time is measured and shown.
 */
import { monotonicFactory } from 'ulid';
import type { EventBusMap, EventName, PublishedEvent } from './events.ts';
import { log } from './log.ts';

export type { EventBusMap, EventName, PublishedEvent } from './events.ts';

export interface SubscribeOptions {
  /** Names the listener in the log and in health, e.g. "eventStore". */
  name: string;
  /** `queued` (default) or `inline` (constant work only: it runs on the frame path). */
  delivery?: 'queued' | 'inline';
}

/** Events a newer copy supersedes: a lagging listener keeps only the newest of these. */
const SUPERSEDED: Partial<Record<EventName, number>> = { frame: 2, health: 1 };

/** Share of the main thread one queued listener may take with synchronous work. */
export const SYNC_SHARE = 0.05;
/** Below this a call is too short to be worth throttling, ms. */
const THROTTLE_FROM_MS = 1;
/** A kept-all mailbox this long means a listener cannot keep up: logged (each power of 10). */
const BACKLOG_WARNING = 1000;

export interface ListenerStats {
  name: string;
  event: EventName;
  delivery: 'queued' | 'inline';
  delivered: number;
  errors: number;
  lastError: string | null;
  /** Events dropped for this listener because a newer one superseded them. */
  dropped: number;
  /** Events waiting for this listener. */
  waiting: number;
  /** Synchronous time spent in the listener: total and the longest call, ms. */
  busyMs: number;
  longestMs: number;
}

interface Subscription {
  readonly name: string;
  readonly event: EventName;
  readonly delivery: 'queued' | 'inline';
  readonly handler: (event: never) => unknown;
  readonly capacity: number;
  mailbox: unknown[];
  scheduled: boolean;
  inFlight: boolean;
  notBefore: number;
  closed: boolean;
  stats: ListenerStats;
}

/**
 * ulid's default source draws one random byte per id character (a `getRandomValues` call each, ≈ 16 per
 * event — 1–2 % of the main thread in a fast replay). The same cryptographic bytes, drawn 512 at a time.
 */
function pooledRandom(): () => number {
  const pool = new Uint8Array(512);
  let next = pool.length;
  return () => {
    if (next === pool.length) {
      crypto.getRandomValues(pool);
      next = 0;
    }
    return pool[next++] / 256;
  };
}

export class EventBus {
  readonly #subscriptions = new Map<EventName, Subscription[]>();
  readonly #all = new Set<Subscription>();
  readonly #newId = monotonicFactory(pooledRandom());
  readonly #idle: (() => void)[] = [];

  /** Publishes an event: stamps its id and time, hands it to every listener of `name`. */
  emit<K extends EventName>(
    name: K,
    payload: Omit<EventBusMap[K], 'id' | 'at'> & { at?: number },
  ): PublishedEvent<K> {
    const at = payload.at ?? Date.now();
    // Ids follow the wall clock (replays carry synthetic frame times in `at`), so they sort across restarts.
    const event = { ...payload, id: this.#newId(), at } as PublishedEvent<K>;
    const subscriptions = this.#subscriptions.get(name);
    if (!subscriptions) return event;
    for (const s of subscriptions) {
      if (s.delivery === 'inline') this.#call(s, event);
      else this.#enqueue(s, event);
    }
    return event;
  }

  /** Subscribes and returns the function that unsubscribes (pending events are dropped). */
  on<K extends EventName>(
    name: K,
    listener: (event: PublishedEvent<K>) => unknown,
    options: SubscribeOptions,
  ): () => void {
    const delivery = options.delivery ?? 'queued';
    const s: Subscription = {
      name: options.name,
      event: name,
      delivery,
      handler: listener as (event: never) => unknown,
      capacity: SUPERSEDED[name] ?? Number.POSITIVE_INFINITY,
      mailbox: [],
      scheduled: false,
      inFlight: false,
      notBefore: 0,
      closed: false,
      stats: {
        name: options.name,
        event: name,
        delivery,
        delivered: 0,
        errors: 0,
        lastError: null,
        dropped: 0,
        waiting: 0,
        busyMs: 0,
        longestMs: 0,
      },
    };
    const list = this.#subscriptions.get(name) ?? [];
    this.#subscriptions.set(name, [...list, s]);
    this.#all.add(s);
    return () => {
      s.closed = true;
      s.mailbox = [];
      this.#subscriptions.set(
        name,
        (this.#subscriptions.get(name) ?? []).filter((other) => other !== s),
      );
      this.#all.delete(s);
      this.#checkIdle();
    };
  }

  /** Every listener's figures, for health. */
  stats(): ListenerStats[] {
    return [...this.#all].map((s) => ({
      ...s.stats,
      waiting: s.mailbox.length,
      busyMs: round(s.stats.busyMs),
    }));
  }

  /**
   * Resolves when every queued listener has caught up (throttling is lifted meanwhile), or after
   * `timeoutMs`. Used at stop, so the last `end` events reach the store.
   */
  drain(timeoutMs = 5000): Promise<void> {
    for (const s of this.#all) {
      s.notBefore = 0;
      if (s.mailbox.length > 0) this.#schedule(s, 0);
    }
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      timer.unref?.();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#idle.push(done);
    });
  }

  #enqueue(s: Subscription, event: unknown): void {
    s.mailbox.push(event);
    if (s.mailbox.length > s.capacity) {
      s.mailbox.shift();
      s.stats.dropped++;
    } else if (s.capacity === Number.POSITIVE_INFINITY && isPowerOfTen(s.mailbox.length, BACKLOG_WARNING)) {
      log.warn(
        { listener: s.name, event: s.event, waiting: s.mailbox.length },
        'event listener is falling behind',
      );
    }
    this.#schedule(s, Date.now());
  }

  #schedule(s: Subscription, now: number): void {
    if (s.scheduled || s.inFlight || s.closed) return;
    s.scheduled = true;
    const wait = s.notBefore - now;
    const run = () => {
      s.scheduled = false;
      this.#deliver(s);
    };
    if (wait > 0) setTimeout(run, wait).unref?.();
    else setImmediate(run);
  }

  #deliver(s: Subscription): void {
    if (s.closed || s.inFlight) return;
    const event = s.mailbox.shift();
    if (event === undefined) {
      this.#checkIdle();
      return;
    }
    const started = performance.now();
    const result = this.#call(s, event);
    const syncMs = performance.now() - started;
    // Only listeners of superseded events (frames) are held back: they then see fewer frames. Events
    // kept until delivered (screening, alerts, commits) are few, and a delay would hold back an alert.
    if (syncMs >= THROTTLE_FROM_MS && s.capacity !== Number.POSITIVE_INFINITY)
      s.notBefore = Date.now() + syncMs * (1 / SYNC_SHARE - 1);
    if (result instanceof Promise) {
      s.inFlight = true;
      result
        .catch((error) => this.#failed(s, error))
        .finally(() => {
          s.inFlight = false;
          this.#next(s);
        });
      return;
    }
    this.#next(s);
  }

  #next(s: Subscription): void {
    if (s.mailbox.length > 0) this.#schedule(s, Date.now());
    else this.#checkIdle();
  }

  #call(s: Subscription, event: unknown): unknown {
    const started = performance.now();
    try {
      s.stats.delivered++;
      return (s.handler as (event: unknown) => unknown)(event);
    } catch (error) {
      this.#failed(s, error);
      return undefined;
    } finally {
      const ms = performance.now() - started;
      s.stats.busyMs += ms;
      if (ms > s.stats.longestMs) s.stats.longestMs = round(ms);
    }
  }

  #failed(s: Subscription, error: unknown): void {
    s.stats.errors++;
    s.stats.lastError = error instanceof Error ? error.message : String(error);
    // Once per listener: a listener failing on every frame must not flood the log.
    if (s.stats.errors === 1) {
      log.error(
        { listener: s.name, event: s.event, err: error },
        'event listener failed; further failures are counted in /api/health',
      );
    }
  }

  #isIdle(): boolean {
    for (const s of this.#all) if (s.mailbox.length > 0 || s.inFlight) return false;
    return true;
  }

  #checkIdle(): void {
    if (this.#idle.length === 0 || !this.#isIdle()) return;
    for (const done of this.#idle.splice(0)) done();
  }
}

function isPowerOfTen(n: number, from: number): boolean {
  if (n < from) return false;
  let p = from;
  while (p < n) p *= 10;
  return p === n;
}

const round = (ms: number) => Math.round(ms * 100) / 100;
