import { ulid } from 'ulid';
import type { ScreeningEvent } from '../../appliance/core/types.ts';

/** A screening event as the stage publishes it, for store and uplink tests; override what matters. */
export function screeningEvent(
  overrides: Partial<ScreeningEvent> & Pick<ScreeningEvent, 'personId' | 'at'>,
): ScreeningEvent {
  const kind = overrides.kind ?? 'end';
  const decision = overrides.decision ?? 'normal';
  return {
    id: ulid(overrides.at),
    kind,
    state: kind === 'end' ? (decision === 'invalid' ? 'invalid' : 'left') : 'measuring',
    prompts: [],
    skinC: 35.9,
    estimatedCoreC: decision === 'elevated' ? 38.2 : 37.1,
    decision,
    reasonCodes: [],
    reasons: [],
    calibration: { referenceState: 'stable', offsetC: 0.4, gain: 1, calibrationId: null },
    applianceId: 'test',
    cameraId: 'entrance-1',
    box: [10, 10, 40, 40],
    unit: 'C',
    display: null,
    alert: decision === 'elevated',
    goodFrames: 9,
    mode: 'absolute',
    firstSeq: 0,
    lastSeq: 10,
    ...overrides,
  };
}
