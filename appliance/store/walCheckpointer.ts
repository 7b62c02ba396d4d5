/**
 * WAL checkpoints off the main thread. SQLite's automatic checkpoint runs inside the commit that
 * fills the WAL to 1 000 pages, on the thread that commits — the main thread, where the screening
 * event of an alert is stored: that commit then took 5–40 ms instead of 0.1 (the store-write tail of
 * docs/performance.md). Here a connection in a worker thread copies the WAL into the database every
 * second (`wal_checkpoint(PASSIVE)`, which never blocks the writer), and the writer's own automatic
 * checkpoint stays only as a backstop at 10 000 pages (≈ 40 MB of WAL) should this thread fall
 * behind or fail. Commits are unchanged: the same transactions, `synchronous = NORMAL`, the same
 * durability.
 */
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { log } from '../core/log.ts';

/** How often the thread copies the WAL into the database, ms. */
const INTERVAL_MS = 1_000;
/** The writer's own automatic checkpoint while the thread runs (pages; SQLite's default is 1 000). */
const BACKSTOP_PAGES = 10_000;
const SQLITE_DEFAULT_PAGES = 1_000;

const ENTRY = new URL('./walCheckpointWorker.mjs', import.meta.url);

export class WalCheckpointer {
  readonly #worker: Worker;
  #closed = false;

  /** Starts checkpointing `file`, whose writer is `db` (already in WAL mode). */
  constructor(file: string, db: Database.Database) {
    db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    this.#worker = new Worker(ENTRY, {
      workerData: { file, intervalMs: INTERVAL_MS },
      name: 'store checkpoints',
    });
    const fallBack = (why: string) => {
      if (this.#closed || !db.open) return;
      // Back to checkpoints in the commits: slower commits now and then, but a bounded WAL.
      db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_PAGES}`);
      log.error({ file, reason: why }, 'event store checkpoints are back on the main thread');
    };
    this.#worker.on('message', (message: { type: string; error?: string }) => {
      if (message.type === 'failed')
        log.warn({ file, error: message.error }, 'event store checkpoint failed');
    });
    this.#worker.on('error', (error) => fallBack(error.message));
    this.#worker.on('exit', (code) => {
      if (!this.#closed) fallBack(`checkpoint thread exited with code ${code}`);
    });
    // Never what keeps the process alive (after the listeners: adding one refs the thread again).
    this.#worker.unref();
  }

  /** Ends the thread (its connection closes first); the writer's close checkpoints what is left. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#worker.postMessage({ type: 'close' });
  }
}
