/**
 * One JSON document on disk, held by lowdb, written atomically with owner-only permissions.
 *
 * lowdb's stock JSONFile writes through steno, which creates its temporary file with the process
 * umask (usually 0644) and does not fsync. These files hold password hashes and the calibration
 * audit trail, so this adapter writes a 0600 temporary file, fsyncs it, renames it over the old one
 * and fsyncs the folder: after a crash the file is either the old or the new version, never half.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { type Adapter, Low } from 'lowdb';
import { CanthusError } from '../core/errors.ts';
import { log } from '../core/log.ts';

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

/** Creates the data folder (0700) or tightens an existing one: it holds password hashes. */
export function ensurePrivateDir(dir: string): void {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    return;
  }
  const stat = statSync(dir);
  if (!stat.isDirectory()) throw new CanthusError(`data folder ${dir} exists but is not a folder`);
  if ((stat.mode & 0o077) !== 0) {
    chmodSync(dir, DIR_MODE);
    log.warn(
      { dir, was: (stat.mode & 0o777).toString(8) },
      'data folder was readable by others: set to 0700',
    );
  }
}

/** `writeFileAtomic`'s temporary files: `.NAME.<12 hex>.tmp`. */
export const TEMP_FILE_PATTERN = /^\..+\.[0-9a-f]{12}\.tmp$/;

/**
 * Removes temporary files a crash left behind in `dir` (those matching `pattern`). They may hold a
 * copy of users.json with its password hashes, and nothing else would ever remove them. Only safe
 * at start, before this process writes: one appliance per data folder. Returns the names removed.
 */
export function removeStaleTempFiles(dir: string, pattern: RegExp = TEMP_FILE_PATTERN): string[] {
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile() || !pattern.test(entry.name)) continue;
    unlinkSync(path.join(dir, entry.name));
    removed.push(entry.name);
  }
  if (removed.length > 0) log.info({ dir, removed }, 'removed temporary files left by an interrupted write');
  return removed;
}

/** Writes `text` to `file` atomically with mode 0600: temporary file, fsync, rename, fsync folder. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, FILE_MODE);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
  const dirHandle = await open(dir, constants.O_RDONLY);
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

class PrivateJsonFile<T> implements Adapter<T> {
  constructor(readonly file: string) {}

  async read(): Promise<T | null> {
    // Reading happens once, at open, through `openJsonDocument` (which can say what is wrong).
    return null;
  }

  write(data: T): Promise<void> {
    return writeFileAtomic(this.file, `${JSON.stringify(data, null, 2)}\n`);
  }
}

export interface JsonDocumentOptions<T> {
  /** What the file holds, for messages ("users", "calibration history"). */
  what: string;
  /** Content of a new file. */
  empty: () => T;
  /** Returns what is wrong with parsed content, or null when it has the expected shape. */
  check: (data: unknown) => string | null;
}

/**
 * A JSON document whose every change is one serialized, atomic write. Reads see only data that
 * is on disk: a change becomes visible after its write succeeded, and a failed write changes nothing.
 */
export class JsonDocument<T> {
  readonly file: string;
  readonly #db: Low<T>;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(file: string, db: Low<T>) {
    this.file = file;
    this.#db = db;
  }

  /**
   * Opens `file`, creating it when missing. A file that cannot be parsed, or has the wrong shape,
   * stops the start with a message naming it, and is left untouched.
   */
  static async open<T>(file: string, options: JsonDocumentOptions<T>): Promise<JsonDocument<T>> {
    const db = new Low<T>(new PrivateJsonFile<T>(file), options.empty());
    if (existsSync(file)) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new CanthusError(
          `cannot read ${options.what} file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        throw new CanthusError(
          `${options.what} file ${file} is not valid JSON (${(error as Error).message}); it was left as it is: ` +
            'restore it from a backup or move it away, then start again',
        );
      }
      const problem = options.check(parsed);
      if (problem) {
        throw new CanthusError(
          `${options.what} file ${file} is not in the expected format: ${problem}; it was left as it is: ` +
            'restore it from a backup or move it away, then start again',
        );
      }
      if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, FILE_MODE);
      db.data = parsed as T;
    } else {
      await db.write();
    }
    return new JsonDocument(file, db);
  }

  get data(): Readonly<T> {
    return this.#db.data;
  }

  /**
   * Applies `change` to a copy of the data and writes it; changes run one after another, each on
   * the result of the previous. `change` may throw to refuse (nothing is written then).
   */
  update<R>(change: (draft: T) => R): Promise<R> {
    const run = async (): Promise<R> => {
      const draft = structuredClone(this.#db.data);
      const result = change(draft);
      await this.#db.adapter.write(draft);
      this.#db.data = draft;
      return result;
    };
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => {});
    return next;
  }
}
