/** Events per second over a sliding window, for health figures (frames in, processed, skipped). */
export class RateMeter {
  readonly #windowMs: number;
  readonly #times: number[] = [];
  readonly #startedAt: number;
  #total = 0;

  constructor(windowMs = 5000, now = Date.now()) {
    this.#windowMs = windowMs;
    this.#startedAt = now;
  }

  get total(): number {
    return this.#total;
  }

  add(now: number, count = 1): void {
    this.#total += count;
    for (let i = 0; i < count; i++) this.#times.push(now);
    this.#trim(now);
  }

  perSecond(now: number): number {
    this.#trim(now);
    // Until a whole window has passed, divide by the time there has been.
    const spanMs = Math.min(this.#windowMs, Math.max(1000, now - this.#startedAt));
    return Math.round((this.#times.length / (spanMs / 1000)) * 10) / 10;
  }

  #trim(now: number): void {
    const cutoff = now - this.#windowMs;
    let drop = 0;
    while (drop < this.#times.length && this.#times[drop] < cutoff) drop++;
    if (drop) this.#times.splice(0, drop);
  }
}
