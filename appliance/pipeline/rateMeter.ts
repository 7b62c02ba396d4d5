/** Events per second over a sliding window, for health figures (frames in, processed, skipped). */
export class RateMeter {
  readonly #windowMs: number;
  readonly #times: number[] = [];
  #total = 0;

  constructor(windowMs = 5000) {
    this.#windowMs = windowMs;
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
    return Math.round((this.#times.length / (this.#windowMs / 1000)) * 10) / 10;
  }

  #trim(now: number): void {
    const cutoff = now - this.#windowMs;
    let drop = 0;
    while (drop < this.#times.length && this.#times[drop] < cutoff) drop++;
    if (drop) this.#times.splice(0, drop);
  }
}
