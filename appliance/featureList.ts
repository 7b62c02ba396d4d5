/**
 * The appliance's features, in start order (stopped in reverse). Adding one is a folder under
 * appliance/features/ and a line here. `users` comes first: its router installs the session lookup
 * the later routes' role checks need.
 */
import { alertsFeature } from './features/alerts/index.ts';
import { apiDocsFeature } from './features/apiDocs/index.ts';
import { calibrationFeature } from './features/calibration/index.ts';
import { eventLinesFeature } from './features/eventLines/index.ts';
import { eventStoreFeature } from './features/eventStore/index.ts';
import type { Feature } from './features/feature.ts';
import { healthFeature } from './features/health/index.ts';
import { jobsFeature } from './features/jobs/index.ts';
import { liveFeature } from './features/live/index.ts';
import { metricsFeature } from './features/metrics/index.ts';
import { registrationFeature } from './features/registration/index.ts';
import { screeningLogFeature } from './features/screeningLog/index.ts';
import { settingsFeature } from './features/settings/index.ts';
import { uplinkFeature } from './features/uplink/index.ts';
import { usersFeature } from './features/users/index.ts';
import { videoFeature } from './features/video/index.ts';
import { visitorFeature } from './features/visitor/index.ts';

export interface FeatureListOptions {
  /** `--events FILE|-`: every event as a JSON line. */
  eventLines?: string;
}

export function featureList(options: FeatureListOptions = {}): Feature[] {
  return [
    usersFeature(),
    healthFeature(),
    eventStoreFeature(),
    screeningLogFeature(),
    calibrationFeature(),
    registrationFeature(),
    uplinkFeature(),
    settingsFeature(),
    alertsFeature(),
    videoFeature(),
    liveFeature(),
    visitorFeature(),
    apiDocsFeature(),
    metricsFeature(),
    jobsFeature(),
    ...(options.eventLines ? [eventLinesFeature(options.eventLines)] : []),
  ];
}
