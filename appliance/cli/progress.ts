/**
 * A one-line progress indicator for long commands (simulate, record, analyze, import, the bench):
 * percent, count and an estimate of the time left, redrawn in place on stderr.
 *
 * Only on a terminal: when the stream is not a TTY (redirected, piped, a test, a service log) it
 * writes nothing at all, so machine-readable output and logs stay exactly as they were. Redraws are
 * throttled (default 4 per second) because a command may call `update` once per frame.
 */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Where to draw; process.stderr by default. */
  stream?: ProgressStream;
  /** Smallest time between redraws, ms. */
  intervalMs?: number;
  now?: () => number;
}

export class Progress {
  readonly #label: string;
  #total: number;
  readonly #stream: ProgressStream;
  readonly #enabled: boolean;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #startedAt: number;
  #lastDrawAt = Number.NEGATIVE_INFINITY;
  #drawn = false;
  #done = 0;

  constructor(label: string, total: number, options: ProgressOptions = {}) {
    this.#label = label;
    this.#total = total;
    this.#stream = options.stream ?? process.stderr;
    this.#enabled = this.#stream.isTTY === true;
    this.#intervalMs = options.intervalMs ?? 250;
    this.#now = options.now ?? Date.now;
    this.#startedAt = this.#now();
  }

  /** Whether anything is drawn (callers may skip work that only feeds the line). */
  get enabled(): boolean {
    return this.#enabled;
  }

  set total(total: number) {
    this.#total = total;
  }

  /** `done` units of `total` finished; redraws when the throttle allows. */
  update(done: number, note?: string): void {
    this.#done = done;
    if (!this.#enabled) return;
    const now = this.#now();
    if (now - this.#lastDrawAt < this.#intervalMs) return;
    this.#lastDrawAt = now;
    this.#draw(now, note);
  }

  tick(note?: string): void {
    this.update(this.#done + 1, note);
  }

  /** Clears the line so whatever the command prints next starts on a clean line. */
  finish(): void {
    if (!this.#enabled || !this.#drawn) return;
    this.#stream.write('\r\x1b[2K');
    this.#drawn = false;
  }

  /** The line for `done` of `total` after `elapsedMs` (exported for the test and for reuse). */
  line(done: number, elapsedMs: number, note?: string): string {
    const total = this.#total;
    const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
    const width = 20;
    const filled = Math.round(fraction * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    // No estimate until there is something to extrapolate from.
    const eta = done > 0 && done < total ? ` ETA ${formatDuration(((total - done) * elapsedMs) / done)}` : '';
    const text = `${this.#label} ${bar} ${(fraction * 100).toFixed(0).padStart(3)}% ${done}/${total}${eta}${note ? ` ${note}` : ''}`;
    const columns = this.#stream.columns;
    return columns && text.length > columns - 1 ? text.slice(0, columns - 1) : text;
  }

  #draw(now: number, note?: string): void {
    this.#stream.write(`\r\x1b[2K${this.line(this.#done, now - this.#startedAt, note)}`);
    this.#drawn = true;
  }
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
