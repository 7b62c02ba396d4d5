import type { ScreeningConfig } from '../../appliance/screening/screeningStage.ts';

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
