/**
 * The durable event store: one SQLite file (DATA/events.sqlite, WAL mode) with what must survive a
 * restart — persons screened, alerts and their acknowledgement, the audit log, and the outbox the
 * command-centre uplink reads. Thermal snapshots are files next to it (DATA/snapshots/), written
 * before the row that references them.
 *
 * Why SQLite and not the JSON files the small documents use: events arrive all day, are queried by
 * time, camera and decision, and are deleted a day at a time; a JSON document would be rewritten
 * whole on every event. Users, calibrations and registrations stay JSON documents (few, rarely
 * written, easy to read and back up by hand).
 *
 * - Schema versions are `PRAGMA user_version`; migrations run in order inside one transaction.
 *   A database newer than this code, or one that fails `quick_check`, refuses the start with a
 *   message naming the file, and is left untouched.
 * - Every write is one transaction: a screening event, its person row and its outbox row commit
 *   together or not at all (a transactional outbox). `synchronous = NORMAL` in WAL mode: a
 *   committed transaction survives a crash of the process (it may be lost only on power loss).
 * - Times are ms since the epoch, indexed, so retention deletes a day with one statement.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { decodeTime, ulid } from 'ulid';
import { CanthusError } from '../core/errors.ts';
import type { Decision, ScreeningEvent } from '../core/types.ts';
import { WalCheckpointer } from './walCheckpointer.ts';

export const EVENTS_DB = 'events.sqlite';
/** How long `close()` retries the final checkpoint while the checkpoint thread finishes its own, ms. */
const CLOSE_CHECKPOINT_WAIT_MS = 2_000;
/** Something to wait on between those tries (a synchronous pause: close() is synchronous). */
const closeWait = new Int32Array(new SharedArrayBuffer(4));
/** Why a person left open by a crash was closed at the next start (their `end` event says it). */
export const INTERRUPTED_REASON = 'screening interrupted: the appliance stopped before the person left';
export const SNAPSHOTS_DIR = 'snapshots';

/** Each entry moves the schema from version i to i + 1. Never edit a shipped one: add another. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE persons (
    id TEXT PRIMARY KEY,              -- the person's first screening event id (ULID)
    person_id TEXT NOT NULL,          -- the tracker's id within one run of the appliance
    camera_id TEXT NOT NULL,
    state TEXT NOT NULL,
    final INTEGER NOT NULL DEFAULT 0, -- 1 once the end event (the verdict) is stored
    decision TEXT NOT NULL,
    skin_c REAL,
    estimated_core_c REAL,
    display TEXT,
    unit TEXT NOT NULL,
    reason_codes TEXT NOT NULL,       -- JSON array
    reasons TEXT NOT NULL,            -- JSON array
    calibration_id TEXT,
    reference_state TEXT NOT NULL,
    reference_offset_c REAL NOT NULL,
    reference_gain REAL NOT NULL,
    good_frames INTEGER NOT NULL,
    mode TEXT NOT NULL,
    box TEXT NOT NULL,                -- JSON [x, y, width, height], the best frame's
    first_at INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    last_event_id TEXT NOT NULL,
    snapshot_thermal TEXT,            -- file names under snapshots/
    snapshot_image TEXT
  );
  CREATE INDEX persons_by_time ON persons (last_at);
  CREATE INDEX persons_by_camera ON persons (camera_id, last_at);
  CREATE TABLE screening_events (
    id TEXT PRIMARY KEY,
    person TEXT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    at INTEGER NOT NULL,
    decision TEXT NOT NULL,
    payload TEXT NOT NULL
  );
  CREATE INDEX screening_events_by_time ON screening_events (at);
  CREATE INDEX screening_events_by_person ON screening_events (person);
  CREATE TABLE alerts (
    id TEXT PRIMARY KEY,              -- the id of the screening event that raised it
    person TEXT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    screening_event_id TEXT NOT NULL,
    camera_id TEXT NOT NULL,
    raised_at INTEGER NOT NULL,
    decision TEXT NOT NULL,
    estimated_core_c REAL,
    acknowledged_at INTEGER,
    acknowledged_by TEXT,
    outcome TEXT,                     -- referred | cleared
    clinical_c REAL,
    note TEXT
  );
  CREATE UNIQUE INDEX alerts_by_person ON alerts (person);
  CREATE INDEX alerts_by_time ON alerts (raised_at);
  CREATE TABLE audit (
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    from_address TEXT,
    detail TEXT NOT NULL
  );
  CREATE INDEX audit_by_time ON audit (at);
  CREATE TABLE outbox (
    topic TEXT NOT NULL,              -- screening, alert, calibration, registration
    id TEXT NOT NULL,                 -- the event id: consumers deduplicate on (topic, id)
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (topic, id)
  );
  CREATE INDEX outbox_unsent ON outbox (sent_at, id);
  CREATE INDEX outbox_by_time ON outbox (created_at);
  `,
  // The uplink parks an event its receiver refuses for good (a webhook 4xx): kept, not retried,
  // shown in health until an operator looks. A column, so parking survives a restart.
  `
  ALTER TABLE outbox ADD COLUMN parked_at INTEGER;
  ALTER TABLE outbox ADD COLUMN last_error TEXT;
  CREATE INDEX outbox_unsent_alerts ON outbox (id) WHERE sent_at IS NULL AND topic = 'alert';
  `,
  // Several transports at once (MQTT for the command centre, a webhook for a simple integration):
  // `acks` has one bit per transport that settled the row (acknowledged it, or refused it for good,
  // then `refused` names which and why). The row is marked sent (or parked) only once every
  // configured transport settled it. One partial index per transport holds exactly the rows it
  // still owes, so a transport far ahead of the other does not walk what it already delivered.
  `
  ALTER TABLE outbox ADD COLUMN acks INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE outbox ADD COLUMN refused TEXT;
  CREATE INDEX outbox_owed_mqtt ON outbox (id) WHERE sent_at IS NULL AND parked_at IS NULL AND (acks & 1) = 0;
  CREATE INDEX outbox_owed_webhook ON outbox (id) WHERE sent_at IS NULL AND parked_at IS NULL AND (acks & 2) = 0;
  `,
];

/** An outbox row as the uplink reads it. */
export interface OutboxRow {
  topic: string;
  id: string;
  payload: string;
  createdAt: number;
  attempts: number;
}

/** How one transport settled an outbox row: the receiver acknowledged it, or refused it for good. */
export type OutboxOutcome = { sent: true } | { sent: false; parkedError: string };

/** What the bounded outbox did to stay within its size. */
export interface OutboxTrim {
  /** Sent rows deleted. */
  sentDeleted: number;
  /** Unsent screening `update` rows dropped because their person's `end` is in the outbox. */
  coalesced: number;
  /** Unsent routine screening rows dropped, oldest first, because the outbox was still full. */
  dropped: number;
}

export const SCHEMA_VERSION = MIGRATIONS.length;

/** The bit of each uplink transport in `outbox.acks` (and its partial index `outbox_owed_<name>`). */
const TRANSPORT_BITS: Readonly<Record<string, number>> = { mqtt: 1, webhook: 2 };

function transportBit(transport: string): number {
  const bit = TRANSPORT_BITS[transport];
  if (bit === undefined)
    throw new CanthusError(
      `unknown uplink transport "${transport}" (known: ${Object.keys(TRANSPORT_BITS).join(', ')})`,
    );
  return bit;
}

function owed<T>(statements: { owed: Record<string, T> }, transport: string): T {
  transportBit(transport);
  return statements.owed[transport];
}

/** A person as the API lists them. */
export interface PersonRecord {
  id: string;
  personId: string;
  cameraId: string;
  state: string;
  final: boolean;
  decision: Decision;
  skinC: number | null;
  estimatedCoreC: number | null;
  display: string | null;
  unit: string;
  reasonCodes: string[];
  reasons: string[];
  calibrationId: string | null;
  reference: { state: string; offsetC: number; gain: number };
  goodFrames: number;
  mode: string;
  box: number[];
  firstAt: string;
  lastAt: string;
  lastEventId: string;
  snapshot: { thermal: string | null; image: string | null };
  alert: AlertRecord | null;
}

export interface AlertRecord {
  id: string;
  raisedAt: string;
  decision: Decision;
  estimatedCoreC: number | null;
  acknowledged: boolean;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  outcome: string | null;
  clinicalC: number | null;
  note: string | null;
}

export interface PurgeResult {
  persons: number;
  audit: number;
  outbox: number;
  /** Snapshot files no longer referenced by any row. */
  snapshotFiles: string[];
}

export interface PersonFilter {
  /** ms since the epoch, inclusive / exclusive, on the person's last event. */
  from?: number;
  to?: number;
  cameraId?: string;
  decisions?: Decision[];
  /** true: alerts acknowledged; false: alerts not yet acknowledged. */
  acknowledged?: boolean;
  /** Only persons whose id sorts before this (the previous page's last id). */
  before?: string;
  limit: number;
}

/** A day's screening at a glance (the health page's charts): counts only, no identities. */
export interface DayStats {
  from: number;
  to: number;
  /** Persons with a reading, by estimated core temperature in 0.1 °C bins (`fromC` is the bin's lower edge). */
  readings: { fromC: number; count: number }[];
  /** Persons first seen in each hour from `from` (24 entries; fewer on a day with a clock change). */
  perHour: { at: number; persons: number; elevated: number }[];
  total: number;
}

export interface AuditRecord {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  from: string | null;
  detail: Record<string, unknown>;
}

export type AlertOutcome = 'referred' | 'cleared';

export interface AlertFilter {
  acknowledged?: boolean;
  cameraId?: string;
  /** ms since the epoch on the alert's time, inclusive / exclusive. */
  from?: number;
  to?: number;
  limit: number;
}

interface PersonRow {
  id: string;
  person_id: string;
  camera_id: string;
  state: string;
  final: number;
  decision: Decision;
  skin_c: number | null;
  estimated_core_c: number | null;
  display: string | null;
  unit: string;
  reason_codes: string;
  reasons: string;
  calibration_id: string | null;
  reference_state: string;
  reference_offset_c: number;
  reference_gain: number;
  good_frames: number;
  mode: string;
  box: string;
  first_at: number;
  last_at: number;
  last_event_id: string;
  snapshot_thermal: string | null;
  snapshot_image: string | null;
  alert_id: string | null;
  raised_at: number | null;
  alert_decision: Decision | null;
  alert_core_c: number | null;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  outcome: string | null;
  clinical_c: number | null;
  note: string | null;
}

export class EventStore {
  readonly file: string;
  readonly snapshotsDir: string;
  readonly #db: Database.Database;
  /** Told after each commit that added outbox rows (the uplink sends at once instead of polling). */
  readonly #outboxListeners = new Set<(topic: string) => void>();
  /** Open persons of this run: tracker person id → row id. */
  readonly #rows = new Map<string, string>();
  readonly #statements: ReturnType<EventStore['prepare']>;

  readonly #checkpointer: WalCheckpointer;

  private constructor(file: string, db: Database.Database) {
    this.file = file;
    this.snapshotsDir = path.join(path.dirname(file), SNAPSHOTS_DIR);
    this.#db = db;
    this.#statements = this.prepare();
    // WAL checkpoints in a thread of their own, not inside the commits of the main thread.
    this.#checkpointer = new WalCheckpointer(file, db);
  }

  /**
   * Opens (or creates) DATA/events.sqlite and brings its schema up to date. Refuses, touching
   * nothing, a file that is not a healthy SQLite database or whose schema is newer than this code.
   */
  static open(dataDir: string): EventStore {
    const file = path.join(dataDir, EVENTS_DB);
    const existed = existsSync(file);
    let db: Database.Database;
    try {
      db = new Database(file, { fileMustExist: existed });
    } catch (error) {
      throw new CanthusError(`cannot open the event store ${file}: ${(error as Error).message}`);
    }
    try {
      if (existed) {
        let version: number;
        let check: string;
        try {
          version = db.pragma('user_version', { simple: true }) as number;
          check = String(db.pragma('quick_check', { simple: true }));
        } catch (error) {
          throw new CanthusError(
            `event store ${file} is not a readable SQLite database (${(error as Error).message}); it was left as it is: move it away to start with an empty store`,
          );
        }
        if (check !== 'ok') {
          throw new CanthusError(
            `event store ${file} is damaged (integrity check: ${check}); it was left as it is: move it away to start with an empty store`,
          );
        }
        if (version > SCHEMA_VERSION) {
          throw new CanthusError(
            `event store ${file} has schema version ${version}, newer than this canthus knows (${SCHEMA_VERSION}): run a newer canthus, or move the file away`,
          );
        }
        if (version >= 1) {
          const problem = firstBadRow(db);
          if (problem)
            throw new CanthusError(
              `event store ${file}: ${problem}; it was left as it is: restore it from a backup or move it away to start with an empty store`,
            );
        }
      }
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db);
    } catch (error) {
      db.close();
      throw error;
    }
    return new EventStore(file, db);
  }

  private prepare() {
    const db = this.#db;
    return {
      insertPerson: db.prepare(`INSERT INTO persons (id, person_id, camera_id, state, final, decision, skin_c,
        estimated_core_c, display, unit, reason_codes, reasons, calibration_id, reference_state,
        reference_offset_c, reference_gain, good_frames, mode, box, first_at, last_at, last_event_id)
        VALUES (@id, @personId, @cameraId, @state, @final, @decision, @skinC, @estimatedCoreC, @display, @unit,
        @reasonCodes, @reasons, @calibrationId, @referenceState, @referenceOffsetC, @referenceGain, @goodFrames,
        @mode, @box, @at, @at, @eventId)`),
      updatePerson: db.prepare(`UPDATE persons SET state = @state, final = @final, decision = @decision,
        skin_c = @skinC, estimated_core_c = @estimatedCoreC, display = @display, reason_codes = @reasonCodes,
        reasons = @reasons, calibration_id = @calibrationId, reference_state = @referenceState,
        reference_offset_c = @referenceOffsetC, reference_gain = @referenceGain, good_frames = @goodFrames,
        box = @box, last_at = @at, last_event_id = @eventId WHERE id = @id`),
      setSnapshot: db.prepare('UPDATE persons SET snapshot_thermal = ?, snapshot_image = ? WHERE id = ?'),
      insertEvent: db.prepare(
        'INSERT INTO screening_events (id, person, kind, at, decision, payload) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      insertAlert:
        db.prepare(`INSERT OR IGNORE INTO alerts (id, person, screening_event_id, camera_id, raised_at,
        decision, estimated_core_c) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      insertAudit: db.prepare(
        'INSERT INTO audit (id, at, actor, action, target, from_address, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      insertOutbox: db.prepare(
        'INSERT OR IGNORE INTO outbox (topic, id, payload, created_at) VALUES (?, ?, ?, ?)',
      ),
      // Two reads, each walking an index in order (no sort of the whole backlog on every look).
      unsentAlerts: db.prepare(`SELECT topic, id, payload, created_at AS createdAt, attempts FROM outbox
        WHERE sent_at IS NULL AND topic = 'alert' AND parked_at IS NULL ORDER BY id LIMIT ?`),
      unsentOthers: db.prepare(`SELECT topic, id, payload, created_at AS createdAt, attempts FROM outbox
        WHERE sent_at IS NULL AND topic <> 'alert' AND parked_at IS NULL ORDER BY id LIMIT ?`),
      markSent: db.prepare(
        'UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE topic = ? AND id = ?',
      ),
      markFailed: db.prepare(
        'UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE topic = ? AND id = ? AND sent_at IS NULL',
      ),
      park: db.prepare(
        'UPDATE outbox SET parked_at = ?, attempts = attempts + 1, last_error = ? WHERE topic = ? AND id = ? AND sent_at IS NULL',
      ),
      // The same reads for one transport of several: the rows it still owes (its partial index).
      owed: Object.fromEntries(
        Object.entries(TRANSPORT_BITS).map(([transport, bit]) => {
          const owes = `sent_at IS NULL AND parked_at IS NULL AND (acks & ${bit}) = 0`;
          const columns = 'topic, id, payload, created_at AS createdAt, attempts';
          return [
            transport,
            {
              // Unsent alerts are few: their own index, then this transport's bit.
              alerts: db.prepare(`SELECT ${columns} FROM outbox INDEXED BY outbox_unsent_alerts
                WHERE sent_at IS NULL AND topic = 'alert' AND ${owes} ORDER BY id LIMIT ?`),
              others: db.prepare(`SELECT ${columns} FROM outbox INDEXED BY outbox_owed_${transport}
                WHERE ${owes} AND topic <> 'alert' ORDER BY id LIMIT ?`),
              backlog: db.prepare(`SELECT count(*) AS unsent, min(created_at) AS oldest
                FROM outbox INDEXED BY outbox_owed_${transport} WHERE ${owes}`),
            },
          ];
        }),
      ) as Record<
        string,
        { alerts: Database.Statement; others: Database.Statement; backlog: Database.Statement }
      >,
      settleFor: db.prepare(
        'UPDATE outbox SET acks = acks | ?, refused = coalesce(refused, ?) WHERE topic = ? AND id = ? RETURNING acks, refused',
      ),
      outboxStats: db.prepare(`SELECT
        count(*) FILTER (WHERE sent_at IS NULL AND parked_at IS NULL) AS unsent,
        min(created_at) FILTER (WHERE sent_at IS NULL AND parked_at IS NULL) AS oldest,
        count(*) FILTER (WHERE parked_at IS NOT NULL AND sent_at IS NULL) AS parked
        FROM outbox`),
      lastParked: db.prepare(
        'SELECT last_error FROM outbox WHERE parked_at IS NOT NULL AND sent_at IS NULL ORDER BY parked_at DESC LIMIT 1',
      ),
      since: db.prepare(`SELECT topic, id, payload, created_at AS createdAt, attempts FROM outbox
        WHERE created_at >= ? AND parked_at IS NULL ORDER BY id, topic LIMIT ?`),
      outboxCount: db.prepare('SELECT count(*) AS n FROM outbox'),
      deleteSent: db.prepare(`DELETE FROM outbox WHERE rowid IN (
        SELECT rowid FROM outbox WHERE sent_at IS NOT NULL ORDER BY created_at LIMIT ?)`),
      coalesceUpdates: db.prepare(`DELETE FROM outbox WHERE rowid IN (
        SELECT o.rowid FROM outbox o JOIN screening_events e ON e.id = o.id
        WHERE o.topic = 'screening' AND o.sent_at IS NULL AND e.kind = 'update'
          AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.id = o.id)
          AND EXISTS (SELECT 1 FROM screening_events f JOIN outbox p ON p.topic = 'screening' AND p.id = f.id
                      WHERE f.person = e.person AND f.kind = 'end' AND p.sent_at IS NULL)
        ORDER BY o.id LIMIT ?)`),
      dropRoutine: db.prepare(`DELETE FROM outbox WHERE rowid IN (
        SELECT o.rowid FROM outbox o
        WHERE o.topic = 'screening' AND o.sent_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.id = o.id)
        ORDER BY o.id LIMIT ?)`),
      pruneSent: db.prepare('DELETE FROM outbox WHERE sent_at IS NOT NULL AND created_at < ?'),
      personById: db.prepare(`${SELECT_PERSON} WHERE p.id = ?`),
      openPersons: db.prepare(`SELECT p.id, p.decision, p.last_event_id AS lastEventId, p.last_at AS lastAt,
        e.payload FROM persons p LEFT JOIN screening_events e ON e.id = p.last_event_id WHERE p.final = 0`),
      closePerson: db.prepare(
        `UPDATE persons SET final = 1, state = 'invalid', decision = @decision, reason_codes = @reasonCodes,
         reasons = @reasons, last_event_id = @eventId WHERE id = @id`,
      ),
      interrupted: db.prepare(
        `UPDATE persons SET final = 1, state = 'invalid', decision = CASE WHEN decision = 'elevated' THEN 'elevated' ELSE 'invalid' END,
         reason_codes = json_insert(reason_codes, '$[#]', 'measure-again'),
         reasons = json_insert(reasons, '$[#]', '${INTERRUPTED_REASON}')
         WHERE final = 0`,
      ),
    };
  }

  /**
   * Persons left open by an earlier run (it crashed or was killed while they were in view) get
   * their verdict now, as an `end` event like any other: stored with the person, and in the outbox
   * in the same transaction, so the command centre closes them too. No reading can follow: the
   * decision becomes `invalid` (an `elevated` one stays elevated: its alert was raised and sent).
   * The event's id is made now, so it sorts after the person's earlier events (per-person order);
   * its `at` is when the person was last seen. Returns how many persons were closed.
   */
  closeInterrupted(): number {
    const s = this.#statements;
    type OpenPerson = {
      id: string;
      decision: Decision;
      lastEventId: string;
      lastAt: number;
      payload: string | null;
    };
    // One savepoint per person: a person whose last event cannot be read is left to the plain
    // close below instead of failing the start.
    const closeOne = this.#db.transaction((person: OpenPerson) => {
      const last = JSON.parse(person.payload!) as ScreeningEvent;
      const decision: Decision = person.decision === 'elevated' ? 'elevated' : 'invalid';
      const end: ScreeningEvent = {
        ...last,
        id: ulid(Math.max(Date.now(), decodeTime(person.lastEventId) + 1)),
        kind: 'end',
        at: person.lastAt,
        state: 'invalid',
        prompts: [],
        decision,
        reasonCodes: [...last.reasonCodes, 'measure-again'],
        reasons: [...last.reasons, INTERRUPTED_REASON],
        alert: false,
      };
      s.insertEvent.run(end.id, person.id, 'end', end.at, decision, JSON.stringify(end));
      s.closePerson.run({
        id: person.id,
        decision,
        reasonCodes: JSON.stringify(end.reasonCodes),
        reasons: JSON.stringify(end.reasons),
        eventId: end.id,
      });
      s.insertOutbox.run('screening', end.id, JSON.stringify(end), Date.now());
    });
    return this.#db.transaction((): number => {
      let closed = 0;
      for (const person of s.openPersons.all() as OpenPerson[]) {
        if (person.payload === null) continue;
        try {
          closeOne(person);
          closed++;
        } catch {
          // Not written by this code (no ULID, no JSON): closed below without an event.
        }
      }
      // A person without a readable last event is closed all the same, without an `end` to send.
      return closed + s.interrupted.run().changes;
    })();
  }

  /**
   * Stores a screening event with its person row, in one transaction with what goes with it: an
   * alert row when the event raises the person's alert, an outbox row for the alert, and an outbox
   * row for the event itself (`new`, `update` and `end`: the command centre follows each person;
   * `trimOutbox` may later coalesce old `update` rows into their `end`). Returns the person's row id.
   */
  recordScreening(event: ScreeningEvent): string {
    const { crop: _crop, ...payload } = event;
    const write = this.#db.transaction((): string => {
      const key = `${event.cameraId}\u0000${event.personId}`;
      let row = this.#rows.get(key);
      const values = {
        id: row ?? event.id,
        personId: event.personId,
        cameraId: event.cameraId,
        state: event.state,
        final: event.kind === 'end' ? 1 : 0,
        decision: event.decision,
        skinC: event.skinC,
        estimatedCoreC: event.estimatedCoreC,
        display: event.display,
        unit: event.unit,
        reasonCodes: JSON.stringify(event.reasonCodes),
        reasons: JSON.stringify(event.reasons),
        calibrationId: event.calibration.calibrationId,
        referenceState: event.calibration.referenceState,
        referenceOffsetC: event.calibration.offsetC,
        referenceGain: event.calibration.gain,
        goodFrames: event.goodFrames,
        mode: event.mode,
        box: JSON.stringify(event.box),
        at: event.at,
        eventId: event.id,
      };
      if (row === undefined) {
        row = event.id;
        this.#statements.insertPerson.run(values);
      } else {
        this.#statements.updatePerson.run(values);
      }
      this.#statements.insertEvent.run(
        event.id,
        row,
        event.kind,
        event.at,
        event.decision,
        JSON.stringify(payload),
      );
      if (event.alert) {
        this.#statements.insertAlert.run(
          event.id,
          row,
          event.id,
          event.cameraId,
          event.at,
          event.decision,
          event.estimatedCoreC,
        );
        this.#statements.insertOutbox.run('alert', event.id, JSON.stringify(payload), Date.now());
      }
      this.#statements.insertOutbox.run('screening', event.id, JSON.stringify(payload), Date.now());
      if (event.kind === 'end') {
        this.#rows.delete(key);
      } else {
        this.#rows.set(key, row);
      }
      return row;
    });
    const row = write();
    this.#outboxWritten(event.alert ? 'alert' : 'screening');
    return row;
  }

  /** Points the person's row at its snapshot files (written before). */
  setSnapshot(person: string, thermal: string | null, image: string | null): void {
    this.#statements.setSnapshot.run(thermal, image, person);
  }

  recordAudit(entry: {
    id: string;
    at: number;
    actor: string;
    action: string;
    target: string | null;
    from: string | null;
    detail: Record<string, unknown>;
  }): void {
    this.#statements.insertAudit.run(
      entry.id,
      entry.at,
      entry.actor,
      entry.action,
      entry.target,
      entry.from,
      JSON.stringify(entry.detail),
    );
  }

  /** The audit log, newest first. */
  auditEntries(filter: { limit: number; before?: string }): AuditRecord[] {
    const rows = this.#db
      .prepare(`SELECT * FROM audit${filter.before ? ' WHERE id < ?' : ''} ORDER BY at DESC, id DESC LIMIT ?`)
      .all(...(filter.before ? [filter.before] : []), filter.limit) as {
      id: string;
      at: number;
      actor: string;
      action: string;
      target: string | null;
      from_address: string | null;
      detail: string;
    }[];
    return rows.map((row) => ({
      id: row.id,
      at: iso(row.at)!,
      actor: row.actor,
      action: row.action,
      target: row.target,
      from: row.from_address,
      detail: JSON.parse(row.detail),
    }));
  }

  /** Any event the uplink should carry (calibration changes …), by its event id. */
  recordOutbox(topic: string, id: string, payload: unknown): void {
    this.#statements.insertOutbox.run(topic, id, JSON.stringify(payload), Date.now());
    this.#outboxWritten(topic);
  }

  /** Calls `listener` after every commit that added outbox rows; returns the function that stops it. */
  onOutbox(listener: (topic: string) => void): () => void {
    this.#outboxListeners.add(listener);
    return () => this.#outboxListeners.delete(listener);
  }

  #outboxWritten(topic: string): void {
    // A listener's failure must not undo or fail the write that already committed.
    for (const listener of this.#outboxListeners)
      try {
        listener(topic);
      } catch {}
  }

  /**
   * Unsent, unparked outbox rows in delivery order: alerts first, then everything else by event id
   * (ULIDs sort by creation, so one person's events come in the order they happened).
   */
  unsentOutbox(limit: number, transport?: string): OutboxRow[] {
    const s = this.#statements;
    const reads =
      transport === undefined ? { alerts: s.unsentAlerts, others: s.unsentOthers } : owed(s, transport);
    const alerts = reads.alerts.all(limit) as OutboxRow[];
    if (alerts.length >= limit) return alerts;
    return [...alerts, ...(reads.others.all(limit - alerts.length) as OutboxRow[])];
  }

  /**
   * `transport`, one of the configured `transports`, settled the row: its receiver acknowledged it
   * or refused it for good. With one transport that marks the row sent (or parked) at once. With
   * several, the row stays unsent for the others, and is marked sent only when every one of them
   * acknowledged it — parked if any refused it for good (the others still delivered it).
   */
  settleOutbox(
    topic: string,
    id: string,
    transport: string,
    transports: readonly string[],
    outcome: OutboxOutcome,
    at = Date.now(),
  ): void {
    const parkedError = outcome.sent ? null : outcome.parkedError;
    if (transports.length <= 1) {
      if (parkedError === null) this.markOutboxSent(topic, id, at);
      else this.parkOutbox(topic, id, parkedError, at);
      return;
    }
    const all = transports.reduce((mask, t) => mask | transportBit(t), 0);
    this.#db.transaction(() => {
      const row = this.#statements.settleFor.get(
        transportBit(transport),
        parkedError === null ? null : `${transport}: ${parkedError}`,
        topic,
        id,
      ) as { acks: number; refused: string | null } | undefined;
      if (!row || (row.acks & all) !== all) return;
      if (row.refused !== null) this.parkOutbox(topic, id, row.refused, at);
      else this.markOutboxSent(topic, id, at);
    })();
  }

  /** Rows `transport` still owes (not settled by it), and since when the oldest waits. */
  outboxBacklog(transport: string): { unsent: number; oldestUnsentAt: number | null } {
    const row = owed(this.#statements, transport).backlog.get() as { unsent: number; oldest: number | null };
    return { unsent: row.unsent, oldestUnsentAt: row.oldest };
  }

  /** The receiver acknowledged the row (PUBACK, webhook 2xx): it is not sent again. */
  markOutboxSent(topic: string, id: string, at = Date.now()): void {
    this.#statements.markSent.run(at, topic, id);
  }

  /** A delivery attempt failed; the row stays unsent. */
  markOutboxFailed(topic: string, id: string, error: string): void {
    this.#statements.markFailed.run(error, topic, id);
  }

  /** The receiver refused the row for good: kept, no longer retried, counted in health. */
  parkOutbox(topic: string, id: string, error: string, at = Date.now()): void {
    this.#statements.park.run(at, error, topic, id);
  }

  /** Backlog figures for health. */
  outboxStats(): {
    unsent: number;
    oldestUnsentAt: number | null;
    parked: number;
    lastParkedError: string | null;
  } {
    const row = this.#statements.outboxStats.get() as {
      unsent: number;
      oldest: number | null;
      parked: number;
    };
    const last = this.#statements.lastParked.get() as { last_error: string | null } | undefined;
    return {
      unsent: row.unsent,
      oldestUnsentAt: row.oldest,
      parked: row.parked,
      lastParkedError: last?.last_error ?? null,
    };
  }

  /** Outbox rows (sent or not, parked excluded) created at or after `fromMs`, oldest first: replay on request. */
  outboxSince(fromMs: number, limit: number): OutboxRow[] {
    return this.#statements.since.all(fromMs, limit) as OutboxRow[];
  }

  /**
   * Keeps the outbox within `maxRows` rows, in this order, stopping as soon as it fits:
   * 1. sent rows, oldest first (already delivered; only the `events` replay command reads them);
   * 2. unsent screening `update` rows of persons whose `end` is also waiting (the `end` carries the
   *    final state: the updates are coalesced into it);
   * 3. unsent screening `new`/`update`/`end` rows that raised no alert, oldest first.
   * Alerts, calibration and registration rows are never dropped, so the outbox may exceed
   * `maxRows` when they alone fill it.
   */
  trimOutbox(maxRows: number): OutboxTrim {
    const trim: OutboxTrim = { sentDeleted: 0, coalesced: 0, dropped: 0 };
    const total = () => (this.#statements.outboxCount.get() as { n: number }).n;
    this.#db.transaction(() => {
      let excess = total() - maxRows;
      if (excess <= 0) return;
      trim.sentDeleted = this.#statements.deleteSent.run(excess).changes;
      excess -= trim.sentDeleted;
      if (excess <= 0) return;
      trim.coalesced = this.#statements.coalesceUpdates.run(excess).changes;
      excess -= trim.coalesced;
      if (excess <= 0) return;
      trim.dropped = this.#statements.dropRoutine.run(excess).changes;
    })();
    return trim;
  }

  /** Deletes sent outbox rows created before `beforeMs` (retention). */
  pruneSentOutbox(beforeMs: number): number {
    return this.#statements.pruneSent.run(beforeMs).changes;
  }

  /** Persons newest first (by row id), filtered; `limit` rows at most. */
  listPersons(filter: PersonFilter): PersonRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.from !== undefined) {
      where.push('p.last_at >= ?');
      params.push(filter.from);
    }
    if (filter.to !== undefined) {
      where.push('p.last_at < ?');
      params.push(filter.to);
    }
    if (filter.cameraId !== undefined) {
      where.push('p.camera_id = ?');
      params.push(filter.cameraId);
    }
    if (filter.decisions && filter.decisions.length > 0) {
      where.push(`p.decision IN (${filter.decisions.map(() => '?').join(', ')})`);
      params.push(...filter.decisions);
    }
    if (filter.acknowledged === true) where.push('a.acknowledged_at IS NOT NULL');
    if (filter.acknowledged === false) where.push('a.id IS NOT NULL AND a.acknowledged_at IS NULL');
    if (filter.before !== undefined) {
      where.push('p.id < ?');
      params.push(filter.before);
    }
    const sql = `${SELECT_PERSON}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY p.id DESC LIMIT ?`;
    params.push(filter.limit);
    return (this.#db.prepare(sql).all(...params) as PersonRow[]).map(toRecord);
  }

  person(id: string): PersonRecord | null {
    const row = this.#statements.personById.get(id) as PersonRow | undefined;
    return row ? toRecord(row) : null;
  }

  /**
   * Retention: deletes persons (with their screening events and alerts), audit entries and outbox
   * rows older than the given times, one statement per table (time-indexed), in one transaction.
   * Persons whose snapshots are older than `snapshotsBefore` lose the reference to them. Returns
   * the counts and the snapshot files that are no longer referenced (the caller deletes them after
   * the commit, so a crash leaves at worst an orphan file, never a row pointing at nothing).
   */
  purge(before: { persons: number; snapshots: number; audit: number }): PurgeResult {
    return this.#db.transaction((): PurgeResult => {
      const files = (
        this.#db
          .prepare(
            `SELECT snapshot_thermal, snapshot_image FROM persons
             WHERE (last_at < ? OR last_at < ?) AND (snapshot_thermal IS NOT NULL OR snapshot_image IS NOT NULL)`,
          )
          .all(before.persons, before.snapshots) as {
          snapshot_thermal: string | null;
          snapshot_image: string | null;
        }[]
      ).flatMap((row) => [row.snapshot_thermal, row.snapshot_image].filter((f): f is string => f !== null));
      const persons = this.#db.prepare('DELETE FROM persons WHERE last_at < ?').run(before.persons).changes;
      this.#db
        .prepare('UPDATE persons SET snapshot_thermal = NULL, snapshot_image = NULL WHERE last_at < ?')
        .run(before.snapshots);
      const audit = this.#db.prepare('DELETE FROM audit WHERE at < ?').run(before.audit).changes;
      // Sent rows go with their events; unsent ones too once their events are past retention (the
      // command centre could no longer ask about them).
      const outbox = this.#db.prepare('DELETE FROM outbox WHERE created_at < ?').run(before.persons).changes;
      return { persons, audit, outbox, snapshotFiles: files };
    })();
  }

  /** The oldest persons' snapshot files, to free disk first where it matters least; references dropped. */
  releaseOldestSnapshots(count: number): string[] {
    return this.#db.transaction((): string[] => {
      const rows = this.#db
        .prepare(
          `SELECT id, snapshot_thermal, snapshot_image FROM persons
           WHERE snapshot_thermal IS NOT NULL OR snapshot_image IS NOT NULL ORDER BY last_at LIMIT ?`,
        )
        .all(count) as { id: string; snapshot_thermal: string | null; snapshot_image: string | null }[];
      const clear = this.#db.prepare(
        'UPDATE persons SET snapshot_thermal = NULL, snapshot_image = NULL WHERE id = ?',
      );
      for (const row of rows) clear.run(row.id);
      return rows.flatMap((row) =>
        [row.snapshot_thermal, row.snapshot_image].filter((f): f is string => f !== null),
      );
    })();
  }

  /** Store maintenance: the query planner's statistics and a WAL checkpoint (keeps the WAL file small). */
  maintain(): void {
    this.#db.pragma('optimize');
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /**
   * Persons with an alert: the open ones first (newest first: the person most likely still at the
   * door), then the acknowledged ones.
   */
  listAlerts(filter: AlertFilter): PersonRecord[] {
    const where = ['a.id IS NOT NULL'];
    const params: unknown[] = [];
    if (filter.acknowledged === true) where.push('a.acknowledged_at IS NOT NULL');
    if (filter.acknowledged === false) where.push('a.acknowledged_at IS NULL');
    if (filter.cameraId !== undefined) {
      where.push('a.camera_id = ?');
      params.push(filter.cameraId);
    }
    if (filter.from !== undefined) {
      where.push('a.raised_at >= ?');
      params.push(filter.from);
    }
    if (filter.to !== undefined) {
      where.push('a.raised_at < ?');
      params.push(filter.to);
    }
    const sql = `${SELECT_PERSON} WHERE ${where.join(' AND ')}
      ORDER BY (a.acknowledged_at IS NOT NULL), a.raised_at DESC, a.id DESC LIMIT ?`;
    params.push(filter.limit);
    return (this.#db.prepare(sql).all(...params) as PersonRow[]).map(toRecord);
  }

  /**
   * Records the secondary check of an alert, once: `acknowledged` with the person's record,
   * `already` (with it) when someone acknowledged it first, `not-found` for an unknown alert id.
   */
  acknowledgeAlert(
    alertId: string,
    ack: { by: string; at: number; outcome: AlertOutcome; clinicalC: number | null; note: string | null },
  ): { result: 'acknowledged' | 'already'; person: PersonRecord } | { result: 'not-found' } {
    return this.#db.transaction(() => {
      const changed = this.#db
        .prepare(
          `UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ?, outcome = ?, clinical_c = ?, note = ?
           WHERE id = ? AND acknowledged_at IS NULL`,
        )
        .run(ack.at, ack.by, ack.outcome, ack.clinicalC, ack.note, alertId).changes;
      const row = this.#db.prepare(`${SELECT_PERSON} WHERE a.id = ?`).get(alertId) as PersonRow | undefined;
      if (!row) return { result: 'not-found' as const };
      return {
        result: changed > 0 ? ('acknowledged' as const) : ('already' as const),
        person: toRecord(row),
      };
    })();
  }

  /** Counts, for health. */
  /**
   * Readings and persons per hour between `from` and `to` (ms), aggregated in SQL over the time
   * indexes, so a busy day costs one pass and no rows leave the database.
   */
  dayStats(from: number, to: number): DayStats {
    const readings = (
      this.#db
        .prepare(
          `SELECT CAST(round(estimated_core_c * 10) AS INTEGER) AS bin, count(*) AS n FROM persons
           WHERE last_at >= ? AND last_at < ? AND estimated_core_c IS NOT NULL GROUP BY bin ORDER BY bin`,
        )
        .all(from, to) as { bin: number; n: number }[]
    ).map((row) => ({ fromC: row.bin / 10, count: row.n }));
    const rows = this.#db
      .prepare(
        `SELECT CAST((first_at - ?) / 3600000 AS INTEGER) AS hour, count(*) AS n, sum(decision = 'elevated') AS elevated
         FROM persons WHERE first_at >= ? AND first_at < ? GROUP BY hour`,
      )
      .all(from, from, to) as { hour: number; n: number; elevated: number }[];
    const hours = Math.ceil((to - from) / 3_600_000);
    const perHour = Array.from({ length: hours }, (_, i) => ({
      at: from + i * 3_600_000,
      persons: 0,
      elevated: 0,
    }));
    for (const row of rows) {
      const slot = perHour[Math.floor(row.hour)];
      if (slot) {
        slot.persons = row.n;
        slot.elevated = row.elevated ?? 0;
      }
    }
    return { from, to, readings, perHour, total: perHour.reduce((sum, h) => sum + h.persons, 0) };
  }

  counts(): { persons: number; alertsOpen: number; outboxUnsent: number } {
    const one = (sql: string) => (this.#db.prepare(sql).get() as { n: number }).n;
    return {
      persons: one('SELECT count(*) AS n FROM persons'),
      alertsOpen: one('SELECT count(*) AS n FROM alerts WHERE acknowledged_at IS NULL'),
      outboxUnsent: one('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL'),
    };
  }

  close(): void {
    this.#checkpointer.close();
    if (!this.#db.open) return;
    // The checkpoint thread's connection may still be open, and SQLite checkpoints at close only on
    // the last connection: copy the whole WAL into the database now, so the file is complete on its
    // own once the store is closed (as it was with one connection).
    // The thread may be in the middle of a checkpoint of its own (it stops after its current one):
    // SQLite then answers `busy` rather than waiting, so try again for a moment.
    const deadline = Date.now() + CLOSE_CHECKPOINT_WAIT_MS;
    for (;;) {
      let busy = true;
      try {
        busy = (this.#db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[])[0]?.busy !== 0;
      } catch {
        // Not possible now: left to the next open (WAL recovery); nothing is lost.
      }
      if (!busy || Date.now() >= deadline) break;
      Atomics.wait(closeWait, 0, 0, 5);
    }
    this.#db.close();
  }
}

const SELECT_PERSON = `SELECT p.*, a.id AS alert_id, a.raised_at, a.decision AS alert_decision,
  a.estimated_core_c AS alert_core_c, a.acknowledged_at, a.acknowledged_by, a.outcome, a.clinical_c, a.note
  FROM persons p LEFT JOIN alerts a ON a.person = p.id`;

/**
 * Row checks at start, one query per rule (each stops at the first bad row): what the appliance
 * would otherwise trip over later (an unreadable JSON column, a decision it does not know, a time
 * that is not a number). Names the table, the row and the field.
 */
const ROW_RULES: readonly { table: string; field: string; bad: string; expected: string }[] = [
  {
    table: 'persons',
    field: 'decision',
    bad: "decision NOT IN ('normal', 'elevated', 'retest', 'invalid')",
    expected: 'normal, elevated, retest or invalid',
  },
  {
    table: 'persons',
    field: 'reasons',
    bad: "NOT json_valid(reasons) OR json_type(reasons) != 'array'",
    expected: 'a JSON array',
  },
  {
    table: 'persons',
    field: 'reason_codes',
    bad: "NOT json_valid(reason_codes) OR json_type(reason_codes) != 'array'",
    expected: 'a JSON array',
  },
  {
    table: 'persons',
    field: 'box',
    bad: "NOT json_valid(box) OR json_type(box) != 'array'",
    expected: 'a JSON array [x, y, width, height]',
  },
  {
    table: 'persons',
    field: 'last_at',
    bad: "typeof(last_at) != 'integer' OR typeof(first_at) != 'integer'",
    expected: 'a time in ms',
  },
  {
    table: 'persons',
    field: 'estimated_core_c',
    bad: "estimated_core_c IS NOT NULL AND typeof(estimated_core_c) NOT IN ('real', 'integer')",
    expected: 'a number or null',
  },
  {
    table: 'screening_events',
    field: 'payload',
    bad: "NOT json_valid(payload) OR typeof(at) != 'integer'",
    expected: 'a JSON event with a time in ms',
  },
  {
    table: 'alerts',
    field: 'outcome',
    bad: "outcome IS NOT NULL AND outcome NOT IN ('referred', 'cleared')",
    expected: 'referred, cleared or null',
  },
  {
    table: 'audit',
    field: 'detail',
    bad: "NOT json_valid(detail) OR typeof(at) != 'integer'",
    expected: 'a JSON object with a time in ms',
  },
  { table: 'outbox', field: 'payload', bad: 'NOT json_valid(payload)', expected: 'JSON' },
];

function firstBadRow(db: Database.Database): string | null {
  for (const rule of ROW_RULES) {
    const row = db.prepare(`SELECT rowid AS rowid, * FROM ${rule.table} WHERE ${rule.bad} LIMIT 1`).get() as
      | { rowid: number; id?: string }
      | undefined;
    if (row) return `${rule.table} row ${row.id ?? `#${row.rowid}`}: ${rule.field} must be ${rule.expected}`;
  }
  return null;
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version >= SCHEMA_VERSION) return;
  db.transaction(() => {
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function toRecord(row: PersonRow): PersonRecord {
  return {
    id: row.id,
    personId: row.person_id,
    cameraId: row.camera_id,
    state: row.state,
    final: row.final === 1,
    decision: row.decision,
    skinC: row.skin_c,
    estimatedCoreC: row.estimated_core_c,
    display: row.display,
    unit: row.unit,
    reasonCodes: JSON.parse(row.reason_codes),
    reasons: JSON.parse(row.reasons),
    calibrationId: row.calibration_id,
    reference: { state: row.reference_state, offsetC: row.reference_offset_c, gain: row.reference_gain },
    goodFrames: row.good_frames,
    mode: row.mode,
    box: JSON.parse(row.box),
    firstAt: iso(row.first_at)!,
    lastAt: iso(row.last_at)!,
    lastEventId: row.last_event_id,
    snapshot: { thermal: row.snapshot_thermal, image: row.snapshot_image },
    alert:
      row.alert_id === null
        ? null
        : {
            id: row.alert_id,
            raisedAt: iso(row.raised_at)!,
            decision: row.alert_decision!,
            estimatedCoreC: row.alert_core_c,
            acknowledged: row.acknowledged_at !== null,
            acknowledgedAt: iso(row.acknowledged_at),
            acknowledgedBy: row.acknowledged_by,
            outcome: row.outcome,
            clinicalC: row.clinical_c,
            note: row.note,
          },
  };
}
