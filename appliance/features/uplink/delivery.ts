/**
 * Delivers the SQLite outbox through one transport (MQTT or webhook), whichever it is; with both
 * configured, one delivery per transport, each going through the rows it has not settled yet:
 * - a row is settled for this transport only when it reports the receiver's acknowledgement
 *   (PUBACK, webhook 2xx), and marked sent once every configured transport settled it; a crash
 *   before that sends it again (at-least-once; receivers dedupe on the id);
 * - alerts first; then the rest in event-id order, at most one event per person (or per camera for
 *   calibration/registration) in flight, so a retry can never overtake a later event of the same
 *   person;
 * - rows older than the current connection are `historical` (a replay) and capped at
 *   `replayPerSecond`, so live events are not starved behind an outage's backlog;
 * - a transient failure pauses sending with exponential backoff and jitter; a permanent refusal
 *   (webhook 4xx other than 408/429) parks the row: kept, no longer retried, shown in health.
 */
import type { Logger } from '../../core/log.ts';
import { type Envelope, outboxEnvelope } from '../../core/uplink.ts';
import type { EventStore, OutboxOutcome, OutboxRow } from '../../store/eventStore.ts';

export type SendResult = { ok: true } | { ok: false; permanent: boolean; error: string };

export interface Transport {
  /** Which transport this is: the outbox records per transport what it settled. */
  readonly name: 'mqtt' | 'webhook';
  /** Can send now (connected / not known to be down). */
  ready(): boolean;
  /** When the current connection was established; rows created before it are historical. */
  connectedSince(): number | null;
  send(row: OutboxRow, envelope: Envelope): Promise<SendResult>;
}

export interface DeliveryOptions {
  applianceId: string;
  /** Every configured transport (this one included): a row is sent when all of them settled it. */
  transports: readonly string[];
  maxInFlight: number;
  replayPerSecond: number;
  retryInitialMs: number;
  retryMaxMs: number;
}

/** How often the outbox is looked at without a nudge (rows written by the event store). */
const POLL_MS = 250;
/** Rows read per look: enough for a full window even when many belong to persons in flight. */
const WINDOW_ROWS = 256;

export interface DeliveryHealth {
  inFlight: number;
  sent: number;
  failures: number;
  consecutiveFailures: number;
  lastError: string | null;
  parkedNow: number;
  replayQueued: number;
  backoffMs: number;
}

/** Exponential backoff with full-range jitter between half and all of the step. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number, random = Math.random): number {
  const step = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step * (0.5 + random() * 0.5));
}

export class OutboxDelivery {
  readonly #store: EventStore;
  readonly #transport: Transport;
  readonly #options: DeliveryOptions;
  readonly #log: Logger;
  /** `topic/id` of rows sent and not yet settled → their ordering key. */
  readonly #inFlight = new Map<string, string>();
  readonly #busyKeys = new Set<string>();
  /** Rows asked for with the `events` command: re-sent as historical, not tracked in the outbox. */
  readonly #replay: OutboxRow[] = [];
  #tokens: number;
  #tokensAt = Date.now();
  #backoffUntil = 0;
  #consecutiveFailures = 0;
  #failures = 0;
  #sent = 0;
  #parked = 0;
  #lastError: string | null = null;
  #timer: NodeJS.Timeout | null = null;
  #nudge: NodeJS.Timeout | null = null;
  #stopped = false;
  #idle: (() => void)[] = [];

  constructor(store: EventStore, transport: Transport, options: DeliveryOptions, log: Logger) {
    this.#store = store;
    this.#transport = transport;
    this.#options = options;
    this.#log = log;
    this.#tokens = options.replayPerSecond;
  }

  start(): void {
    this.#timer = setInterval(() => this.pump(), POLL_MS);
    this.#timer.unref();
    this.pump();
  }

  /** Something new may be waiting: look soon (coalesces many nudges into one look). */
  nudge(delayMs = 5): void {
    if (this.#nudge || this.#stopped) return;
    this.#nudge = setTimeout(() => {
      this.#nudge = null;
      this.pump();
    }, delayMs);
  }

  /** Queues rows for a replay on request (`events` command). */
  replay(rows: OutboxRow[]): void {
    this.#replay.push(...rows);
    this.nudge();
  }

  /** The transport (re)connected: whatever was in flight on the old connection is sent again. */
  resetInFlight(): void {
    this.#inFlight.clear();
    this.#busyKeys.clear();
    this.#backoffUntil = 0;
    this.nudge();
  }

  /** Resolves when nothing is waiting or in flight, or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (
        this.#inFlight.size === 0 &&
        this.#store.outboxBacklog(this.#transport.name).unsent === 0 &&
        this.#replay.length === 0
      )
        return true;
      this.pump();
      await new Promise<void>((resolve) => {
        this.#idle.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return false;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#nudge) clearTimeout(this.#nudge);
  }

  health(): DeliveryHealth {
    return {
      inFlight: this.#inFlight.size,
      sent: this.#sent,
      failures: this.#failures,
      consecutiveFailures: this.#consecutiveFailures,
      lastError: this.#lastError,
      parkedNow: this.#parked,
      replayQueued: this.#replay.length,
      backoffMs: Math.max(0, this.#backoffUntil - Date.now()),
    };
  }

  pump(): void {
    if (this.#stopped || !this.#transport.ready() || Date.now() < this.#backoffUntil) return;
    const since = this.#transport.connectedSince() ?? Date.now();
    const blocked = new Set(this.#busyKeys);
    const rows = this.#store.unsentOutbox(WINDOW_ROWS + this.#inFlight.size, this.#ownRows());
    for (const row of rows) {
      if (this.#inFlight.size >= this.#options.maxInFlight) return;
      const flightKey = `${row.topic}/${row.id}`;
      if (this.#inFlight.has(flightKey)) continue;
      const key = orderingKey(row);
      if (blocked.has(key)) continue;
      const historical = row.createdAt < since;
      // Alerts are never held back by the replay cap: they are what the centre waits for.
      if (historical && row.topic !== 'alert' && !this.#takeToken()) {
        blocked.add(key);
        continue;
      }
      blocked.add(key);
      this.#send(row, key, historical);
    }
    while (this.#replay.length > 0 && this.#inFlight.size < this.#options.maxInFlight && this.#takeToken()) {
      const row = this.#replay.shift()!;
      void this.#transport.send(row, outboxEnvelope(this.#options.applianceId, row, true));
    }
    if (this.#inFlight.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  #send(row: OutboxRow, key: string, historical: boolean): void {
    const flightKey = `${row.topic}/${row.id}`;
    let envelope: Envelope;
    try {
      envelope = outboxEnvelope(this.#options.applianceId, row, historical);
    } catch (error) {
      // A row that cannot be read would block its person for ever: park it, say why.
      this.#settleRow(row, { sent: false, parkedError: `unreadable payload: ${(error as Error).message}` });
      this.#parked++;
      return;
    }
    this.#inFlight.set(flightKey, key);
    this.#busyKeys.add(key);
    void this.#transport.send(row, envelope).then(
      (result) => this.#settle(row, flightKey, key, result),
      (error: Error) =>
        this.#settle(row, flightKey, key, { ok: false, permanent: false, error: error.message }),
    );
  }

  #settle(row: OutboxRow, flightKey: string, key: string, result: SendResult): void {
    // A reconnect cleared the window meanwhile: the row is (or will be) sent again anyway.
    if (this.#inFlight.get(flightKey) !== key) return;
    this.#inFlight.delete(flightKey);
    this.#busyKeys.delete(key);
    try {
      if (result.ok) {
        this.#settleRow(row, { sent: true });
        this.#sent++;
        this.#consecutiveFailures = 0;
      } else if (result.permanent) {
        this.#settleRow(row, { sent: false, parkedError: result.error });
        this.#parked++;
        this.#lastError = result.error;
        this.#log.warn(
          { topic: row.topic, id: row.id, error: result.error },
          'the receiver refused an event for good: parked (kept, not retried)',
        );
      } else {
        this.#store.markOutboxFailed(row.topic, row.id, result.error);
        this.#failures++;
        this.#consecutiveFailures++;
        const wait = backoffMs(
          this.#consecutiveFailures,
          this.#options.retryInitialMs,
          this.#options.retryMaxMs,
        );
        this.#backoffUntil = Date.now() + wait;
        if (result.error !== this.#lastError || this.#consecutiveFailures === 1)
          this.#log.warn({ error: result.error, retryInMs: wait }, 'uplink delivery failed; will retry');
        this.#lastError = result.error;
        setTimeout(() => this.pump(), wait + 1).unref();
        return;
      }
    } catch (error) {
      // The store closed under us (shutdown): the row stays unsent and goes next time.
      this.#lastError = (error as Error).message;
      return;
    }
    this.nudge(0);
  }

  /** With several transports, only the rows this one has not settled; with one, every unsent row. */
  #ownRows(): string | undefined {
    return this.#options.transports.length > 1 ? this.#transport.name : undefined;
  }

  #settleRow(row: OutboxRow, outcome: OutboxOutcome): void {
    this.#store.settleOutbox(row.topic, row.id, this.#transport.name, this.#options.transports, outcome);
  }

  #takeToken(): boolean {
    const now = Date.now();
    const rate = this.#options.replayPerSecond;
    this.#tokens = Math.min(rate, this.#tokens + ((now - this.#tokensAt) / 1000) * rate);
    this.#tokensAt = now;
    if (this.#tokens < 1) {
      // Look again when the next token is due.
      this.nudge(Math.ceil(((1 - this.#tokens) / rate) * 1000));
      return false;
    }
    this.#tokens -= 1;
    return true;
  }
}

/** Events that must stay in order share a key: a person's, or a camera's calibration/registration. */
function orderingKey(row: OutboxRow): string {
  // An alert and its snapshot wait for nobody (the snapshot is not parsed: it is large).
  if (row.topic === 'alert' || row.topic === 'snapshot') return `${row.topic}/${row.id}`;
  try {
    const payload = JSON.parse(row.payload) as { cameraId?: string; personId?: string };
    return row.topic === 'screening'
      ? `person/${payload.cameraId}/${payload.personId}`
      : `${row.topic}/${payload.cameraId}`;
  } catch {
    return `${row.topic}/${row.id}`;
  }
}
