/** The health report: what `/api/health` answers and the periodic `health` event carries. */
import type { ListenerStats } from './eventBus.ts';
import type { Decision, Region } from './types.ts';

export interface CameraHealth {
  id: string;
  name: string;
  profile: string;
  source: string;
  state: string;
  reason: string;
  since: string;
  framesPerSecond: { in: number; processed: number; skipped: number };
  totals: { in: number; processed: number; skipped: number; droppedAtSource: number; flatField: number };
  lastFrameAt: string | null;
  processingMs: number;
  reference: {
    state: string;
    reason: string;
    measuredC: number | null;
    setpointC: number;
    offsetC: number;
    noiseC: number | null;
    region: Region | null;
  } | null;
  /** The committed calibration in force, null while the camera runs on its configuration. */
  calibrationId: string | null;
  /** Persons screened since start, by final decision (counts only: no readings, no identities). */
  screened: Record<Decision, number>;
  /**
   * Tracks seen on several frames that never showed a face consistently (hands, bodies, passers-by,
   * the detector's brief false faces) since start: not persons, no events. A count that climbs fast
   * says the scene has something the detector takes for faces (an exclusion zone may help).
   */
  tracksNotPersons: number;
  /** Bi-spectrum cameras: the visible stream and where faces come from. */
  visible?: unknown;
  faces?: unknown;
  /** Where the frame path runs (a worker thread or the main thread), and the worker's restarts. */
  processing?: unknown;
}

export type FeatureState = 'starting' | 'running' | 'failed' | 'stopping' | 'stopped';

export interface FeatureHealth {
  name: string;
  state: FeatureState;
  /** Why it failed (start or health), null when running. */
  reason: string | null;
  /** What the feature reports of itself. */
  detail?: Record<string, unknown>;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  /** Why the status is degraded, one sentence each. */
  problems: string[];
  version: string;
  applianceId: string;
  startedAt: string;
  uptimeS: number;
  /** Event-loop delay, p99 over the last second, ms. */
  eventLoopLagMs: number;
  cameras: CameraHealth[];
  features: FeatureHealth[];
  listeners: ListenerStats[];
}
