/**
 * Recordings on disk: a folder with
 *   frames.y16      raw frames, uint16 little-endian, row-major, one after another
 *   recording.json  what the frames are (profile, width, height, fps, frame count)
 *   truth.jsonl     for simulations: one line per person with the ground truth
 *   frames.jsonl    optional (CPTV imports): one line per frame, when it was taken and whether it lies
 *                   in a flat-field event; replay then follows these times instead of a constant rate
 * A recording is written under temporary names and renamed into place when complete, so an
 * interrupted write never leaves something that looks like a finished recording.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { CanthusError } from '../core/errors.ts';

export interface RecordingMeta {
  format: 'canthus-recording';
  version: 1;
  profile: string;
  width: number;
  height: number;
  fps: number;
  frameCount: number;
  pixelFormat: 'GRAY16_LE';
  createdAt: string;
  /** Where the frames came from (a source URI, or "simulator"). */
  source: string;
  /** For simulations: the parameters that reproduce it. */
  simulation?: Record<string, unknown>;
}

export const FRAMES_FILE = 'frames.y16';
export const META_FILE = 'recording.json';
export const TRUTH_FILE = 'truth.jsonl';
export const FRAME_TIMES_FILE = 'frames.jsonl';
/** A frames.jsonl line longer than this is not one of ours: refused before parsing. */
const MAX_FRAME_LINE = 4096;

/** One frame's recorded timing, relative to the recording's first frame. */
export interface RecordedFrameTime {
  /** ms after the first frame (0 for the first); never decreasing. */
  offsetMs: number;
  /** The sensor was in (or just after) a flat-field correction: no reading may come from it. */
  flatField: boolean;
}

/**
 * The per-frame times of a recording (frames.jsonl), or null when it has none. Checked whole before a
 * replay starts: one line per frame, each with a finite `capturedAt` (ms) that never goes back. A file
 * that does not match the frames is refused (a replay at wrong times would measure wrong durations).
 */
export function readFrameTimes(dir: string, frameCount: number): RecordedFrameTime[] | null {
  const file = path.join(dir, FRAME_TIMES_FILE);
  if (!existsSync(file)) return null;
  const lines = readFileSync(file, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length !== frameCount) {
    throw new CanthusError(
      `recording ${dir}: ${file} has ${lines.length} line(s) but ${META_FILE} describes ${frameCount} frames (one line per frame is needed; remove ${FRAME_TIMES_FILE} to replay at the constant frame rate)`,
    );
  }
  const times: RecordedFrameTime[] = [];
  let first = 0;
  let previous = Number.NEGATIVE_INFINITY;
  for (const [index, line] of lines.entries()) {
    const where = `${file} line ${index + 1}`;
    if (line.length > MAX_FRAME_LINE)
      throw new CanthusError(`${where}: ${line.length} characters (allowed: at most ${MAX_FRAME_LINE})`);
    let value: { capturedAt?: unknown; flatField?: unknown };
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new CanthusError(`${where} is not valid JSON: ${(error as Error).message}`);
    }
    const capturedAt = value?.capturedAt;
    if (typeof capturedAt !== 'number' || !Number.isFinite(capturedAt)) {
      throw new CanthusError(
        `${where}: "capturedAt" must be a time in ms, got ${JSON.stringify(capturedAt)?.slice(0, 40)}`,
      );
    }
    if (capturedAt < previous) {
      throw new CanthusError(
        `${where}: "capturedAt" ${capturedAt} goes back in time (previous frame ${previous})`,
      );
    }
    const flatField = value.flatField ?? false;
    if (typeof flatField !== 'boolean') {
      throw new CanthusError(
        `${where}: "flatField" must be true or false, got ${JSON.stringify(flatField)?.slice(0, 40)}`,
      );
    }
    if (index === 0) first = capturedAt;
    previous = capturedAt;
    times.push({ offsetMs: capturedAt - first, flatField });
  }
  return times;
}

/** Reads and checks a recording's description against its frame file. */
export function readRecording(dir: string): {
  meta: RecordingMeta;
  framesPath: string;
  truthPath: string | null;
} {
  const metaPath = path.join(dir, META_FILE);
  const framesPath = path.join(dir, FRAMES_FILE);
  if (!existsSync(dir)) throw new CanthusError(`recording ${dir} does not exist`);
  if (!existsSync(metaPath)) {
    throw new CanthusError(
      `recording ${dir} has no ${META_FILE}: a recording folder holds ${FRAMES_FILE} and ${META_FILE}`,
    );
  }
  let meta: RecordingMeta;
  try {
    meta = JSON.parse(readFileSync(metaPath, 'utf8'));
  } catch (error) {
    throw new CanthusError(`recording ${metaPath} is not valid JSON: ${(error as Error).message}`);
  }
  for (const key of ['width', 'height', 'fps', 'frameCount'] as const) {
    const value = meta[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new CanthusError(
        `recording ${metaPath}: "${key}" must be a positive number, got ${JSON.stringify(value)}`,
      );
    }
  }
  if (!Number.isInteger(meta.width) || !Number.isInteger(meta.height) || !Number.isInteger(meta.frameCount)) {
    throw new CanthusError(`recording ${metaPath}: width, height and frameCount must be whole numbers`);
  }
  if (meta.pixelFormat !== 'GRAY16_LE') {
    throw new CanthusError(
      `recording ${metaPath}: pixelFormat ${JSON.stringify(meta.pixelFormat)} is not supported (allowed: "GRAY16_LE")`,
    );
  }
  if (!existsSync(framesPath)) throw new CanthusError(`recording ${dir} has no ${FRAMES_FILE}`);
  const frameBytes = meta.width * meta.height * 2;
  const size = statSync(framesPath).size;
  const expected = frameBytes * meta.frameCount;
  if (size !== expected) {
    const whole = Math.floor(size / frameBytes);
    const kind = size < expected ? 'truncated' : 'longer than described';
    throw new CanthusError(
      `recording ${dir} is ${kind}: ${FRAMES_FILE} has ${size} bytes, ${META_FILE} describes ${meta.frameCount} frames of ` +
        `${meta.width}×${meta.height}×2 = ${expected} bytes (the file holds ${whole} whole frames` +
        `${size % frameBytes ? ` and ${size % frameBytes} bytes of a partial one` : ''})`,
    );
  }
  const truthPath = path.join(dir, TRUTH_FILE);
  return { meta, framesPath, truthPath: existsSync(truthPath) ? truthPath : null };
}

/** Writes a recording frame by frame; `close()` makes it visible under its final names. */
export class RecordingWriter {
  readonly dir: string;
  #fd: number;
  #frames = 0;
  #truthLines: string[] = [];
  readonly #meta: Omit<RecordingMeta, 'frameCount' | 'createdAt'>;
  readonly #frameBytes: number;

  constructor(
    dir: string,
    meta: Omit<RecordingMeta, 'frameCount' | 'createdAt' | 'format' | 'version' | 'pixelFormat'>,
  ) {
    this.dir = dir;
    this.#meta = { format: 'canthus-recording', version: 1, pixelFormat: 'GRAY16_LE', ...meta };
    this.#frameBytes = meta.width * meta.height * 2;
    if (existsSync(path.join(dir, META_FILE))) {
      throw new CanthusError(
        `${dir} already holds a recording; choose another --out folder (nothing was overwritten)`,
      );
    }
    this.#fd = openSync(path.join(dir, `${FRAMES_FILE}.partial`), 'w');
  }

  get frameCount(): number {
    return this.#frames;
  }

  writeFrame(counts: Uint16Array): void {
    if (counts.length * 2 !== this.#frameBytes) {
      throw new CanthusError(
        `frame has ${counts.length} pixels, the recording is ${this.#meta.width}×${this.#meta.height}`,
      );
    }
    // Typed arrays are little-endian on every platform Node runs on here (x86-64, arm64).
    writeSync(this.#fd, new Uint8Array(counts.buffer, counts.byteOffset, counts.byteLength));
    this.#frames++;
  }

  /** Gives up: closes and removes what was written, leaving the folder as it was. */
  abort(): void {
    closeSync(this.#fd);
    rmSync(path.join(this.dir, `${FRAMES_FILE}.partial`), { force: true });
  }

  addTruth(line: unknown): void {
    this.#truthLines.push(JSON.stringify(line));
  }

  close(): RecordingMeta {
    const meta: RecordingMeta = {
      ...this.#meta,
      frameCount: this.#frames,
      createdAt: new Date().toISOString(),
    };
    const size = fstatSync(this.#fd).size;
    closeSync(this.#fd);
    if (size !== this.#frames * this.#frameBytes)
      throw new CanthusError('recording frame file size is inconsistent');
    if (this.#truthLines.length) {
      writeAtomically(path.join(this.dir, TRUTH_FILE), `${this.#truthLines.join('\n')}\n`);
    }
    renameSync(path.join(this.dir, `${FRAMES_FILE}.partial`), path.join(this.dir, FRAMES_FILE));
    // The description goes last: a folder with recording.json is a complete recording.
    writeAtomically(path.join(this.dir, META_FILE), `${JSON.stringify(meta, null, 2)}\n`);
    return meta;
  }
}

export function writeAtomically(file: string, content: string | Uint8Array): void {
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    if (typeof content === 'string') writeSync(fd, content);
    else writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
}
