/**
 * A feature of the appliance: one folder under appliance/features/, one line in the feature list
 * (appliance/featureList.ts). The controller (main.ts) starts the features in list order, after the
 * cameras are built and before they start, and stops them in reverse. A feature that fails to start
 * is left out (health names it and why); screening keeps running.
 *
 * Features talk to the rest only through what the context gives: the bus (subscribe with a name;
 * queued delivery unless the work is constant), the stores, the configuration, read-only camera
 * handles, and — when the appliance serves HTTP — a router to mount and WebSocket paths to claim.
 */
import type { ApplianceConfig } from '../config/load.ts';
import type { CameraProfile } from '../core/cameraProfile.ts';
import type { EventBus } from '../core/eventBus.ts';
import type { CameraHealth, FeatureHealth } from '../core/health.ts';
import type { Logger } from '../core/log.ts';
import type { HttpMount } from '../http/httpApp.ts';
import type { Stores } from '../store/store.ts';

/** A camera as features see it: its identity and its health, nothing to call into. */
export interface CameraHandle {
  readonly id: string;
  readonly name: string;
  readonly profile: CameraProfile;
  /** Frame size after the camera's rotation (absent: the profile's native size). */
  readonly frameWidth?: number;
  readonly frameHeight?: number;
  health(): CameraHealth;
}

export interface FeatureContext {
  readonly bus: EventBus;
  readonly config: ApplianceConfig;
  /** The files that made `config`, lowest precedence first (firmware defaults, then the site file). */
  readonly configLayers?: readonly string[];
  readonly stores: Stores;
  /** The feature's own logger (its name on every line). */
  readonly log: Logger;
  readonly cameras: readonly CameraHandle[];
  /** The HTTP API; null when the appliance runs headless (batch replays). */
  readonly http: HttpMount | null;
  /** Every feature's state, for health. */
  features(): FeatureHealth[];
  readonly startedAt: number;
}

export interface Feature {
  readonly name: string;
  /** Subscribes, mounts routes, opens what it needs. Throwing leaves the feature out. */
  start(ctx: FeatureContext): Promise<void> | void;
  /** Unsubscribes and closes what it opened; called once, in reverse start order. */
  stop(): Promise<void> | void;
  /** What the feature reports of itself in /api/health; `problem` makes the appliance degraded. */
  health?(): { problem?: string | null; [key: string]: unknown };
}
