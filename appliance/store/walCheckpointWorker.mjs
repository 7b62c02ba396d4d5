// The event store's WAL checkpoints, in a thread of their own (walCheckpointer.ts). Plain
// JavaScript on purpose: this thread needs no TypeScript hooks and starts in a fraction of the time.
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const Database = createRequire(import.meta.url)('better-sqlite3');
const { file, intervalMs } = workerData;
const db = new Database(file, { fileMustExist: true });
// The writer never waits for this connection (PASSIVE takes no lock a writer needs); this one
// skips a round rather than wait for a TRUNCATE checkpoint of the store's maintenance.
db.pragma('busy_timeout = 0');

const timer = setInterval(() => {
  try {
    // PASSIVE: copies what it can of the WAL into the database without blocking the writer.
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    if (error?.code !== 'SQLITE_BUSY') parentPort.postMessage({ type: 'failed', error: String(error) });
  }
}, intervalMs);

parentPort.on('message', (message) => {
  if (message?.type !== 'close') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
parentPort.postMessage({ type: 'ready' });
