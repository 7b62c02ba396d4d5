/**
 * Latest frame wins: one slot between capture and processing, never a queue. A frame that
 * arrives while the previous one still waits replaces it, and the replaced one is counted.
 */
export class FrameSlot<T> {
  #frame: T | null = null;
  #scheduled = false;
  #skipped = 0;
  readonly #process: (frame: T) => void;
  readonly #onSkip: () => void;

  constructor(process: (frame: T) => void, onSkip: () => void = () => {}) {
    this.#process = process;
    this.#onSkip = onSkip;
  }

  get skipped(): number {
    return this.#skipped;
  }

  offer(frame: T): void {
    if (this.#frame !== null) {
      this.#skipped++;
      this.#onSkip();
    }
    this.#frame = frame;
    if (!this.#scheduled) {
      this.#scheduled = true;
      // Processing runs after pending I/O callbacks, so newer frames can still displace this one.
      setImmediate(() => this.#drain());
    }
  }

  #drain(): void {
    this.#scheduled = false;
    const frame = this.#frame;
    this.#frame = null;
    if (frame !== null) this.#process(frame);
  }
}
