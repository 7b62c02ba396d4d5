/**
 * Password hashing off the shared pool and at the lowest CPU priority.
 *
 * `crypto.scrypt` runs on libuv's pool, whose threads GStreamer's pulls also hold, at the same
 * priority as capture: even one hash at a time takes a whole core while an attacker keeps it busy,
 * and on a loaded 2-core box that was enough to cost screening frames. Here each hash runs as
 * `scryptSync` on a worker thread of its own that lowers its own scheduling priority to nice 19 on
 * Linux (where nice is per thread): it uses only CPU that capture and screening leave idle. An idle
 * box hashes as fast as before; under load, logins wait, screening does not.
 */
import { Worker } from 'node:worker_threads';
import type { ScryptParams } from './auth.ts';

/** Runs in the worker (CommonJS, eval'd): one hash per message, synchronously, at nice 19. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { scryptSync } = require('node:crypto');
// setpriority(2) on Linux/NPTL applies to the calling thread only; elsewhere it would renice the
// whole appliance, so it is left alone there.
if (process.platform === 'linux') {
  try { require('node:os').setPriority(19); } catch {}
}
parentPort.on('message', ({ id, password, salt, keyLength, N, r, p, maxmem }) => {
  try {
    const key = scryptSync(password, Buffer.from(salt, 'base64'), keyLength, { N, r, p, maxmem });
    parentPort.postMessage({ id, key: key.toString('base64') });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message) });
  }
});
`;

export type Kdf = (password: string, salt: Buffer, params: ScryptParams) => Promise<Buffer>;

interface Pending {
  worker: Worker;
  resolve: (key: Buffer) => void;
  reject: (error: Error) => void;
}

/**
 * Low-priority scrypt workers, started on first use. Callers bound concurrency themselves (the
 * `HashGate`); each call takes a free worker, or starts one.
 */
export class HashWorkers {
  readonly #idle: Worker[] = [];
  readonly #all = new Set<Worker>();
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;

  readonly kdf: Kdf = (password, salt, params) => {
    if (this.#closed) return Promise.reject(new Error('password hashing is stopped'));
    const worker = this.#idle.pop() ?? this.#start();
    const id = this.#nextId++;
    return new Promise<Buffer>((resolve, reject) => {
      this.#pending.set(id, { worker, resolve, reject });
      worker.postMessage({
        id,
        password: password.normalize('NFC'),
        salt: salt.toString('base64'),
        keyLength: params.keyLength,
        N: params.N,
        r: params.r,
        p: params.p,
        maxmem: 256 * params.N * params.r + 1024 * 1024,
      });
    }).finally(() => {
      if (!this.#closed && this.#all.has(worker)) this.#idle.push(worker);
    });
  };

  #start(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    // Never keeps the process alive on its own.
    worker.unref();
    worker.on('message', (message: { id: number; key?: string; error?: string }) => {
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      if (message.key !== undefined) pending.resolve(Buffer.from(message.key, 'base64'));
      else pending.reject(new Error(`password hashing failed: ${message.error}`));
    });
    const fail = (error: Error) => {
      this.#all.delete(worker);
      const index = this.#idle.indexOf(worker);
      if (index >= 0) this.#idle.splice(index, 1);
      // A worker that died takes its in-flight hash with it; that caller gets an error.
      for (const [id, pending] of this.#pending) {
        if (pending.worker !== worker) continue;
        this.#pending.delete(id);
        pending.reject(error);
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.#all.has(worker)) fail(new Error(`password hashing worker exited (${code})`));
    });
    this.#all.add(worker);
    return worker;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const workers = [...this.#all];
    this.#all.clear();
    this.#idle.length = 0;
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
