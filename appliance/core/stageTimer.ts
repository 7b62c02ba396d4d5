/**
 * Optional per-stage timing of the frame path, for the benchmark suite (and, later, health and
 * metrics). Whoever builds a camera passes a `StageTimer`; the frame path calls `performance.now()`
 * only when one is present, so with none (the default) the cost is one null check per stage.
 */
export type StageName = 'radiometry' | 'reference' | 'detection' | 'measurement' | 'tracking';

export interface StageTimer {
  /** `ms` spent in `stage` on one frame. */
  record(stage: StageName, ms: number): void;
}
