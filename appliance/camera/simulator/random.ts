/** Seeded pseudo-random numbers (sfc32), so a simulated entrance is reproducible byte for byte. */
export class SeededRandom {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  #spareGaussian: number | null = null;

  constructor(seed: number) {
    // splitmix32 spreads a small integer seed over the whole state.
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = next();
    this.#b = next();
    this.#c = next();
    this.#d = next();
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t / 4294967296;
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  /** Normal deviate (Box–Muller, both values used). */
  gaussian(mean = 0, sd = 1): number {
    if (this.#spareGaussian !== null) {
      const z = this.#spareGaussian;
      this.#spareGaussian = null;
      return mean + sd * z;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spareGaussian = r * Math.sin(2 * Math.PI * v);
    return mean + sd * r * Math.cos(2 * Math.PI * v);
  }

  /** Derives an independent stream, so adding draws in one part does not shift another's. */
  fork(salt: number): SeededRandom {
    return new SeededRandom((Math.floor(this.next() * 4294967296) ^ Math.imul(salt, 0x27d4eb2d)) >>> 0);
  }
}
