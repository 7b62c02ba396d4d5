/**
 * The site settings sections an admin may change while the appliance runs (the settings page), as
 * the `settings.changed` event carries them. The configuration loader (config/load.ts) uses the same
 * shapes, so the bus contract stays in core/ without depending on the loader.
 */
export interface ScreeningSettings {
  unit: 'C' | 'F';
  mode: 'absolute' | 'relative';
  thresholdC: number;
  retestBandC: number;
  skinEmissivity: number;
  relative: { baselineSize: number; deltaC: number };
}

export interface RetentionSettings {
  eventsDays: number;
  snapshotsDays: number;
  auditDays: number;
  minFreeDiskMB: number;
  /** Cron expression of the nightly purge and store maintenance. */
  schedule: string;
}

export interface VisitorSettings {
  /** The screen may show the person's reading (off by default: the queue could read it). */
  showTemperature: boolean;
  /** Replacement wording per language and instruction code; empty: the catalogue's. */
  texts: { en?: Record<string, string>; zh?: Record<string, string> };
  colours: { background?: string; text?: string; result?: string };
}
