/**
 * The contract between the parts: every event on the bus, name → payload. The bus adds `id` (a
 * ULID: unique, sortable by creation) and `at` (ms since the epoch) to each. docs/architecture.md
 * has the table of who emits and who listens.
 */
import type { HealthReport } from './health.ts';
import type { CalibrationRecord, RegistrationRecord } from './records.ts';
import type { RetentionSettings, ScreeningSettings, VisitorSettings } from './settings.ts';
import type { ReferenceState, ScreeningEvent, ThermalFrame, TrackView } from './types.ts';

export type CameraState = 'starting' | 'online' | 'offline' | 'ended';

interface Stamped {
  id: string;
  at: number;
}

export interface EventBusMap {
  /** A camera's capture changed state (online, offline with the reason, ended). */
  'camera.state': Stamped & { cameraId: string; state: CameraState; reason: string };
  /**
   * Every processed frame of a camera: the corrected thermal frame (do not keep or modify its
   * pixels beyond the listener call unless copied), the reference state and every person on it.
   */
  frame: Stamped & {
    cameraId: string;
    seq: number;
    capturedAt: number;
    thermal: ThermalFrame;
    reference: ReferenceState;
    tracks: TrackView[];
  };
  /** The blackbody reference of a camera changed state (or its first state). */
  'reference.state': Stamped & { cameraId: string; previous: ReferenceState | null; current: ReferenceState };
  /** A person's screening: new → update … → end (see ScreeningEvent). */
  screening: ScreeningEvent;
  /**
   * A person needs a secondary check: raised once per person, at the first `elevated` event, or at
   * `end` for a final `retest`. `screeningEventId` is the screening event that raised it.
   */
  alert: Stamped & { screening: ScreeningEvent; screeningEventId: string };
  /** Staff recorded the secondary check of an alert (clinical thermometer, referred or cleared). */
  'alert.acknowledged': Stamped & {
    alertId: string;
    /** The person's row in the event store. */
    person: string;
    cameraId: string;
    by: string;
    outcome: 'referred' | 'cleared';
    clinicalC: number | null;
    note: string | null;
  };
  /** An admin committed a blackbody calibration; the camera applies it. */
  'calibration.committed': Stamped & { record: CalibrationRecord };
  /** An admin committed a visible → thermal registration; the camera uses it. */
  'registration.committed': Stamped & { record: RegistrationRecord };
  /**
   * An admin changed the site settings (settings page): the sections as now in force. Parts that
   * can apply a change live do so from this event; `restartNeeded` lists the paths that wait for
   * the next start (e.g. /screening/mode).
   */
  'settings.changed': Stamped & {
    by: string;
    changed: string[];
    restartNeeded: string[];
    screening: ScreeningSettings;
    retention: RetentionSettings;
    visitor: VisitorSettings;
  };
  /** Who did what, from where (the audit log). */
  audit: Stamped & {
    actor: string;
    action: string;
    target: string | null;
    /** The client address, null for the appliance itself. */
    from: string | null;
    detail: Record<string, unknown>;
  };
  /** The appliance's health, every `HEALTH_INTERVAL_MS` (and on request). */
  health: Stamped & { report: HealthReport };
}

export type EventName = keyof EventBusMap;
export type PublishedEvent<K extends EventName> = EventBusMap[K];
