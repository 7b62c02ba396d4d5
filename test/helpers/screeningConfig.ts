import { EventBus } from '../../appliance/core/eventBus.ts';
import type { Box, Face, ScreeningEvent } from '../../appliance/core/types.ts';
import {
  type ScreeningConfig,
  ScreeningStage,
  type ScreeningStageOptions,
} from '../../appliance/screening/screeningStage.ts';
import { constantOffsetModel } from '../../calibration/skinCore.ts';

/**
 * The decision settings the screening-stage tests run with: absolute mode at 37.5 °C, a 0.3 °C retest
 * band, and skin emissivity 1 (scripted canthus values are skin temperatures already).
 */
export const TEST_SCREENING: ScreeningConfig = {
  unit: 'C',
  mode: 'absolute',
  thresholdC: 37.5,
  retestBandC: 0.3,
  skinEmissivity: 1,
  relative: { baselineSize: 10, deltaC: 1 },
};

/**
 * A screening stage for camera `cam` on a bus of its own, with TEST_SCREENING and a constant +1.25 °C
 * skin → core model unless given; `events` collects what it publishes, in order.
 */
export function stageWithEvents(
  options: Omit<ScreeningStageOptions, 'cameraId' | 'applianceId' | 'bus' | 'screening' | 'model'> &
    Partial<Pick<ScreeningStageOptions, 'screening' | 'model'>>,
): { stage: ScreeningStage; events: ScreeningEvent[] } {
  const bus = new EventBus();
  const events: ScreeningEvent[] = [];
  bus.on('screening', (event) => events.push(event), { name: 'test', delivery: 'inline' });
  const stage = new ScreeningStage({
    cameraId: 'cam',
    applianceId: 'app',
    bus,
    screening: TEST_SCREENING,
    model: constantOffsetModel(1.25),
    ...options,
  });
  return { stage, events };
}

/** A detector's face for a scripted detection: the box only, frontal, no keypoints. */
export function scriptedFace(box: Box, score = 1): Face {
  return { box, keypoints: {} as Face['keypoints'], score, from: 'thermal', frontal: true };
}
