/**
 * Builds a camera's screening stage from the configuration: face detector for the camera, canthus
 * measurement, skin→core model, decision settings. Used by main.ts (and by the benchmarks, which
 * replay recordings through the same stage).
 */
import type { SkinCoreModel } from '../../calibration/skinCore.ts';
import type { ApplianceConfig } from '../config/load.ts';
import { loadSkinCoreModel } from '../config/skinCoreModel.ts';
import type { CameraProfile } from '../core/cameraProfile.ts';
import type { EventBus } from '../core/eventBus.ts';
import type { Box, Face, ThermalFrame } from '../core/types.ts';
import { DEFAULT_MIN_FACE_PX, detectThermalFaces } from '../detection/thermalFaces.ts';
import { measureFace } from './measure.ts';
import { ScreeningStage, type ScreeningStageOptions } from './screeningStage.ts';

export interface CreateScreeningStageOptions {
  cameraId: string;
  config: ApplianceConfig;
  profile: CameraProfile;
  bus: EventBus;
  /** Faces from elsewhere first (a bi-spectrum camera's visible stream, mapped). */
  faceSource?: ScreeningStageOptions['faceSource'];
  /** Defaults to firmware-config/skin-core-model.json. */
  model?: SkinCoreModel;
  measure?: ScreeningStageOptions['measure'];
  timer?: ScreeningStageOptions['timer'];
  /** Detect on every n-th frame; from the configuration's `processing.detectionHz` by default. */
  detectEvery?: number;
  tracker?: ScreeningStageOptions['tracker'];
}

/** Firmware default for `processing.detectionHz`: what a person at the screening point needs. */
export const DEFAULT_DETECTION_HZ = 10;

/**
 * Frames per detection for a camera delivering `fps` frames per second: round(fps / detectionHz),
 * at least 1 (a camera slower than the detection rate is detected on every frame).
 */
export function detectionInterval(fps: number, config: Pick<ApplianceConfig, 'processing'>): number {
  const hz = config.processing?.detectionHz ?? DEFAULT_DETECTION_HZ;
  return Math.max(1, Math.round(fps / hz));
}

export function createScreeningStage(options: CreateScreeningStageOptions): ScreeningStage {
  const { profile } = options;
  return new ScreeningStage({
    cameraId: options.cameraId,
    applianceId: options.config.applianceId,
    bus: options.bus,
    screening: options.config.screening,
    model: options.model ?? loadSkinCoreModel(),
    faceSource: options.faceSource ?? null,
    timer: options.timer ?? null,
    detectEvery: options.detectEvery ?? detectionInterval(profile.fps, options.config),
    ...(options.tracker ? { tracker: options.tracker } : {}),
    detectFaces: thermalDetector(profile),
    measurableFacePx: profile.minFacePx,
    excludeZones: (options.config.cameras.find((c) => c.id === options.cameraId)?.exclude ?? []).map(
      (z): Box => [z.x, z.y, z.width, z.height],
    ),
    measure:
      options.measure ??
      ((frame, face, faces) =>
        measureFace(frame, face, {
          minFacePx: profile.minFacePx,
          referenceStable: frame.reference.state === 'stable',
          referenceReason: frame.reference.reason,
          flatField: frame.flatField,
          otherFaces: [...faces],
          netdC: profile.netdC,
        })),
  });
}

/**
 * Thermal-only detection. Faces are looked for from half the measurable size on, so a person is
 * tracked while still approaching (their id is stable before the measurement point); whether a face
 * is large enough to measure is the measurement's `too-far` gate.
 */
function thermalDetector(profile: CameraProfile): (frame: ThermalFrame, exclude: Box[]) => Face[] {
  const minFacePx = Math.max(DEFAULT_MIN_FACE_PX, Math.round(profile.minFacePx / 2));
  return (frame, exclude) =>
    detectThermalFaces(frame.celsius, frame.width, frame.height, {
      minFacePx,
      ambientC: frame.reflectedC,
      exclude,
    });
}
