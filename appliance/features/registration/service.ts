/**
 * Bi-spectrum registration: which thermal pixel each visible pixel shows. An admin marks the same
 * points in both streams (a heated object at four or more places, seen in both); the appliance fits
 * a homography visible → thermal, judges it by its reprojection error, and keeps every committed
 * registration in an append-only history (`registrations.json` in the data folder, next to the
 * calibration history): who, when, the pairs, H and its errors. The latest one per camera is in
 * force, from the commit on and again after a restart.
 *
 * A homography is exact for points on one plane (the plane where people stand to be measured) and
 * for cameras whose lenses share a centre; two lenses side by side give a parallax error for faces
 * far from that plane. Mark the points at the measurement distance.
 */
import { randomUUID } from 'node:crypto';
import {
  estimateHomography,
  type Homography,
  HomographyError,
  type PointPair,
  reprojectionError,
} from '../../../calibration/homography.ts';
import { ServiceError } from '../../core/errors.ts';
import type { EventBus } from '../../core/eventBus.ts';
import { log } from '../../core/log.ts';
import type { RegistrationFigures, RegistrationPair, RegistrationRecord } from '../../core/records.ts';
import type { Point } from '../../core/types.ts';
import type { RegistrationHistory } from '../../store/registrations.ts';

export type { RegistrationPair, RegistrationRecord } from '../../core/records.ts';

/** What a registration is judged by. */
export const REGISTRATION_LIMITS = {
  minPairs: 4,
  maxPairs: 64,
  /** RMS distance between mapped visible points and their thermal points, thermal pixels. */
  maxRmsPx: 2,
  /** Largest single distance, thermal pixels: one misplaced point is refused even when the RMS passes. */
  maxPointPx: 4,
} as const;

export interface RegistrationFit {
  cameraId: string;
  /** Visible → thermal, row-major 3×3, h22 = 1. */
  homography: Homography;
  figures: RegistrationFigures;
  limits: { maxRmsPx: number; maxPointPx: number };
  /** True when every figure is within its limit. */
  passed: boolean;
  /** One sentence per figure over its limit. */
  failures: string[];
  /** Advice that does not refuse (e.g. exactly 4 pairs). */
  notes: string[];
}

export type RegistrationErrorKind = 'invalid' | 'not-found' | 'unprocessable';

export class RegistrationError extends ServiceError {
  constructor(
    kind: RegistrationErrorKind,
    message: string,
    /** The fit, when the refusal is about its figures: it goes with the refusal, so the admin sees which point is off. */
    readonly fit: RegistrationFit | null = null,
  ) {
    super(kind, message, fit ? { fit } : {});
    this.name = 'RegistrationError';
  }
}

/** The image sizes of a camera; `visible` null for thermal-only cameras. */
export interface RegistrationCamera {
  thermal: { width: number; height: number };
  visible: { width: number; height: number } | null;
  profile: string;
}

export interface RegistrationServiceOptions {
  history: RegistrationHistory;
  /** Camera id → image sizes. */
  cameras: ReadonlyMap<string, RegistrationCamera>;
  /** Commits are published as `registration.committed` (the camera puts them in force). */
  bus?: EventBus;
  now?: () => number;
}

export class RegistrationService {
  readonly #history: RegistrationHistory;
  readonly #cameras: ReadonlyMap<string, RegistrationCamera>;
  readonly #bus: EventBus | null;
  readonly #now: () => number;

  constructor(options: RegistrationServiceOptions) {
    this.#history = options.history;
    this.#cameras = options.cameras;
    this.#bus = options.bus ?? null;
    this.#now = options.now ?? Date.now;
  }

  get file(): string {
    return this.#history.file;
  }

  get cameraIds(): string[] {
    return [...this.#cameras.keys()];
  }

  /** The registration in force for a camera (the latest commit), or null. */
  active(cameraId: string): RegistrationRecord | null {
    return this.#history.latest(cameraId);
  }

  /** The homography in force for a camera, or null: what the frame path asks for every frame. */
  homography(cameraId: string): Homography | null {
    return this.active(cameraId)?.homography ?? null;
  }

  /** Oldest first; only those of `cameraId` when given. */
  history(cameraId?: string): readonly RegistrationRecord[] {
    return this.#history.list(cameraId);
  }

  /**
   * Fits the pairs and judges the fit; throws for an unknown camera, a camera without a visible
   * stream, points outside the images, or pairs that do not determine a homography.
   */
  estimate(cameraId: string, pairs: readonly RegistrationPair[]): RegistrationFit {
    const camera = this.#camera(cameraId);
    const visibleSize = camera.visible!;
    if (pairs.length < REGISTRATION_LIMITS.minPairs || pairs.length > REGISTRATION_LIMITS.maxPairs) {
      throw new RegistrationError(
        'invalid',
        `pairs: ${pairs.length} given, a registration needs ${REGISTRATION_LIMITS.minPairs} to ${REGISTRATION_LIMITS.maxPairs} point pairs (6 or more let the error show a misplaced point)`,
      );
    }
    pairs.forEach((pair, i) => {
      checkInside(`pairs[${i}].visible`, pair.visible, visibleSize, 'visible');
      checkInside(`pairs[${i}].thermal`, pair.thermal, camera.thermal, 'thermal');
    });
    const pointPairs: PointPair[] = pairs.map((p) => ({ from: p.visible, to: p.thermal }));
    let H: Homography;
    try {
      H = estimateHomography(pointPairs);
    } catch (error) {
      if (error instanceof HomographyError) throw new RegistrationError('invalid', `pairs: ${error.message}`);
      throw error;
    }
    const fold = foldsImage(H, visibleSize);
    if (fold) {
      throw new RegistrationError(
        'invalid',
        `pairs: the fitted mapping ${fold}; check that each visible point is paired with the same place in the thermal image`,
      );
    }
    const error = reprojectionError(H, pointPairs);
    const figures: RegistrationFigures = {
      pairs: pairs.length,
      redundantPairs: pairs.length - REGISTRATION_LIMITS.minPairs,
      rmsPx: round3(error.rmsPx),
      maxPx: round3(error.maxPx),
      perPointPx: error.perPoint.map(round3),
    };
    const failures: string[] = [];
    if (!(error.rmsPx <= REGISTRATION_LIMITS.maxRmsPx)) {
      failures.push(
        `reprojection error (RMS) ${figures.rmsPx} thermal px, allowed ≤ ${REGISTRATION_LIMITS.maxRmsPx}`,
      );
    }
    if (!(error.maxPx <= REGISTRATION_LIMITS.maxPointPx)) {
      const worst = error.perPoint.indexOf(error.maxPx);
      failures.push(
        `largest single error ${figures.maxPx} thermal px at pairs[${worst}], allowed ≤ ${REGISTRATION_LIMITS.maxPointPx}: check that point in both images`,
      );
    }
    const notes: string[] = [];
    if (pairs.length === REGISTRATION_LIMITS.minPairs) {
      notes.push(
        'exactly 4 pairs: the homography passes through every point, so the error is 0 whatever their accuracy; mark 6 or more to check them',
      );
    }
    return {
      cameraId,
      homography: H.map(round12) as Homography,
      figures,
      limits: { maxRmsPx: REGISTRATION_LIMITS.maxRmsPx, maxPointPx: REGISTRATION_LIMITS.maxPointPx },
      passed: failures.length === 0,
      failures,
      notes,
    };
  }

  /**
   * Estimates and, when within the limits (or `force`), appends the registration to the history
   * and puts it in force. Refusals carry the fit, so the caller can show which point is off.
   */
  async commit(
    cameraId: string,
    pairs: readonly RegistrationPair[],
    committedBy: string,
    options: { force?: boolean } = {},
  ): Promise<{ record: RegistrationRecord; fit: RegistrationFit }> {
    const fit = this.estimate(cameraId, pairs);
    if (!fit.passed && !options.force) {
      throw new RegistrationError(
        'unprocessable',
        `registration refused: ${fit.failures.join('; ')}; correct the points, or commit anyway with "force": true`,
        fit,
      );
    }
    const camera = this.#camera(cameraId);
    const record: RegistrationRecord = {
      id: randomUUID(),
      cameraId,
      committedBy,
      committedAt: new Date(this.#now()).toISOString(),
      visibleSize: { ...camera.visible! },
      thermalSize: { ...camera.thermal },
      pairs: pairs.map((p) => ({ visible: { ...p.visible }, thermal: { ...p.thermal } })),
      homography: fit.homography,
      figures: fit.figures,
      limits: fit.limits,
      forced: !fit.passed,
      failures: fit.failures,
    };
    await this.#history.append(record);
    log.info(
      {
        camera: cameraId,
        registration: record.id,
        rmsPx: fit.figures.rmsPx,
        forced: record.forced,
        committedBy,
      },
      'registration committed',
    );
    this.#bus?.emit('registration.committed', { record });
    return { record, fit };
  }

  #camera(cameraId: string): RegistrationCamera {
    const camera = this.#cameras.get(cameraId);
    if (!camera) {
      throw new RegistrationError(
        'not-found',
        `unknown camera "${cameraId}" (allowed: ${this.cameraIds.join(', ')})`,
      );
    }
    if (!camera.visible) {
      const bispectrum = this.cameraIds.filter((id) => this.#cameras.get(id)?.visible);
      throw new RegistrationError(
        'invalid',
        `camera "${cameraId}" (profile "${camera.profile}") has no visible stream: registration is for bi-spectrum cameras${bispectrum.length ? ` (here: ${bispectrum.join(', ')})` : ''}`,
      );
    }
    return camera;
  }
}

function checkInside(field: string, p: Point, size: { width: number; height: number }, image: string): void {
  if (!(p.x >= 0 && p.x <= size.width && p.y >= 0 && p.y <= size.height)) {
    throw new RegistrationError(
      'invalid',
      `${field}: (${p.x}, ${p.y}) is outside the ${size.width}×${size.height} ${image} image (allowed: x 0–${size.width}, y 0–${size.height})`,
    );
  }
}

/**
 * Why H cannot be the view of one camera by the other over the visible image, or null: the
 * homogeneous coordinate must keep one sign over the whole image (else the image's mapping passes
 * through infinity, folding it over itself).
 */
function foldsImage(H: Homography, size: { width: number; height: number }): string | null {
  const corners = [
    [0, 0],
    [size.width, 0],
    [0, size.height],
    [size.width, size.height],
  ];
  const w = corners.map(([x, y]) => H[6] * x + H[7] * y + H[8]);
  if (w.every((v) => v > 0) || w.every((v) => v < 0)) return null;
  return 'sends part of the visible image to infinity (it folds the image over itself)';
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;
/** Keeps H readable in the JSON file without losing precision that matters (sub-micro-pixel). */
const round12 = (v: number) => Number(v.toPrecision(12));
