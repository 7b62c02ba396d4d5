/**
 * The uplink budget (docs/uplink.md): a token bucket of `bytesPerS` with one second of burst.
 * Events, alerts, snapshots, health and answers always go and only *spend* (the bucket may go into
 * debt, down to one second's worth): the centre must never wait for them. Video *asks* first and
 * gets only what they left, so on a scarce 5G uplink video degrades before an alert is delayed.
 */
export class UplinkBudget {
  readonly bytesPerS: number;
  #tokens: number;
  #at: number;
  /** Bytes spent in the current and the previous 5 s window, for the rate shown in health. */
  #window = { startedAt: Date.now(), total: 0, video: 0 };
  #last = { total: 0, video: 0, seconds: 5 };
  readonly #now: () => number;

  constructor(bytesPerS: number, now: () => number = Date.now) {
    this.bytesPerS = bytesPerS;
    this.#now = now;
    this.#tokens = bytesPerS;
    this.#at = now();
  }

  /** Bytes that may go now (negative while events spent more than the budget). */
  available(): number {
    const now = this.#now();
    this.#tokens = Math.min(this.bytesPerS, this.#tokens + ((now - this.#at) / 1000) * this.bytesPerS);
    this.#at = now;
    return this.#tokens;
  }

  /** Events and everything but video: always sent, counted against the budget. */
  spend(bytes: number): void {
    this.available();
    this.#tokens = Math.max(-this.bytesPerS, this.#tokens - bytes);
    this.#count(bytes, false);
  }

  /** Video: takes `bytes` only if the bucket holds them. */
  tryTake(bytes: number): boolean {
    if (this.available() < bytes) return false;
    this.#tokens -= bytes;
    this.#count(bytes, true);
    return true;
  }

  /** Video bytes already encoded before the check (a frame bigger than estimated). */
  takeVideo(bytes: number): void {
    this.available();
    this.#tokens = Math.max(-this.bytesPerS, this.#tokens - bytes);
    this.#count(bytes, true);
  }

  health() {
    this.#count(0, false);
    return {
      bytesPerS: this.bytesPerS,
      usedBytesPerS: Math.round(this.#last.total / this.#last.seconds),
      videoBytesPerS: Math.round(this.#last.video / this.#last.seconds),
      availableBytes: Math.round(this.available()),
    };
  }

  #count(bytes: number, video: boolean): void {
    const now = this.#now();
    const elapsed = now - this.#window.startedAt;
    if (elapsed >= 5000) {
      this.#last = { total: this.#window.total, video: this.#window.video, seconds: elapsed / 1000 };
      this.#window = { startedAt: now, total: 0, video: 0 };
    }
    this.#window.total += bytes;
    if (video) this.#window.video += bytes;
  }
}
