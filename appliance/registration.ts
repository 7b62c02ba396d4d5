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
import path from 'node:path';
import {
  estimateHomography,
  type Homography,
  HomographyError,
  type PointPair,
  reprojectionError,
} from '../calibration/homography.ts';
import type { VisibleCapture } from './camera/visibleSource.ts';
import { CanthusError } from './core/errors.ts';
import { log } from './core/log.ts';
import type { Box, Face, Point, ThermalFrame } from './core/types.ts';
import { mapFace } from './detection/registration.ts';
import { JsonDocument } from './store/jsonFile.ts';

export interface RegistrationPair {
  /** Visible-image pixel (the profile's visible size). */
  visible: Point;
  /** Thermal-image pixel. */
  thermal: Point;
}

/** What a registration is judged by. */
export const REGISTRATION_LIMITS = {
  minPairs: 4,
  maxPairs: 64,
  /** RMS distance between mapped visible points and their thermal points, thermal pixels. */
  maxRmsPx: 2,
  /** Largest single distance, thermal pixels: one misplaced point is refused even when the RMS passes. */
  maxPointPx: 4,
} as const;

export interface RegistrationFigures {
  pairs: number;
  /** Pairs beyond the 4 a homography needs: with none the fit is exact and the error proves nothing. */
  redundantPairs: number;
  rmsPx: number;
  maxPx: number;
  /** Distance for each pair, in the order given, thermal pixels. */
  perPointPx: number[];
}

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

export interface RegistrationRecord {
  id: string;
  cameraId: string;
  committedBy: string;
  committedAt: string;
  /** Image sizes the points refer to. */
  visibleSize: { width: number; height: number };
  thermalSize: { width: number; height: number };
  pairs: RegistrationPair[];
  homography: Homography;
  figures: RegistrationFigures;
  limits: { maxRmsPx: number; maxPointPx: number };
  /** Committed although over the limits (`force`), with the failures it had. */
  forced: boolean;
  failures: string[];
}

export type RegistrationErrorKind = 'invalid' | 'not-found' | 'unprocessable';

export class RegistrationError extends CanthusError {
  constructor(
    readonly kind: RegistrationErrorKind,
    message: string,
    /** The fit, when the refusal is about its figures. */
    readonly fit: RegistrationFit | null = null,
  ) {
    super(message);
    this.name = 'RegistrationError';
  }
}

/** The image sizes of a camera; `visible` null for thermal-only cameras. */
export interface RegistrationCamera {
  thermal: { width: number; height: number };
  visible: { width: number; height: number } | null;
  profile: string;
}

interface RegistrationsFile {
  version: 1;
  registrations: RegistrationRecord[];
}

export const REGISTRATIONS_FILE = 'registrations.json';

export interface RegistrationServiceOptions {
  dataDir: string;
  /** Camera id → image sizes. */
  cameras: ReadonlyMap<string, RegistrationCamera>;
  now?: () => number;
}

export class RegistrationService {
  readonly #doc: JsonDocument<RegistrationsFile>;
  readonly #cameras: ReadonlyMap<string, RegistrationCamera>;
  readonly #now: () => number;
  readonly #listeners: ((record: RegistrationRecord) => void)[] = [];

  private constructor(
    doc: JsonDocument<RegistrationsFile>,
    cameras: ReadonlyMap<string, RegistrationCamera>,
    now: () => number,
  ) {
    this.#doc = doc;
    this.#cameras = cameras;
    this.#now = now;
  }

  /** Opens (or creates) DATA/registrations.json; a file it cannot parse stops the start. */
  static async open(options: RegistrationServiceOptions): Promise<RegistrationService> {
    const doc = await JsonDocument.open<RegistrationsFile>(path.join(options.dataDir, REGISTRATIONS_FILE), {
      what: 'registration history',
      empty: () => ({ version: 1, registrations: [] }),
      check: checkRegistrationsFile,
    });
    return new RegistrationService(doc, options.cameras, options.now ?? Date.now);
  }

  get file(): string {
    return this.#doc.file;
  }

  get cameraIds(): string[] {
    return [...this.#cameras.keys()];
  }

  /** The registration in force for a camera (the latest commit), or null. */
  active(cameraId: string): RegistrationRecord | null {
    const all = this.#doc.data.registrations;
    for (let i = all.length - 1; i >= 0; i--) if (all[i].cameraId === cameraId) return all[i];
    return null;
  }

  /** The homography in force for a camera, or null: what the frame path asks for every frame. */
  homography(cameraId: string): Homography | null {
    return this.active(cameraId)?.homography ?? null;
  }

  /** Oldest first; only those of `cameraId` when given. */
  history(cameraId?: string): readonly RegistrationRecord[] {
    const all = this.#doc.data.registrations;
    return cameraId === undefined ? all : all.filter((r) => r.cameraId === cameraId);
  }

  /** Called after every commit (the record is already on disk). */
  onCommit(listener: (record: RegistrationRecord) => void): void {
    this.#listeners.push(listener);
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
    await this.#doc.update((draft) => {
      draft.registrations.push(record);
    });
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
    for (const listener of this.#listeners) listener(record);
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

/** What the face source needs of a camera's visible capture. */
export type FaceLookup = Pick<VisibleCapture, 'facesFor' | 'maxSkewMs' | 'lastDetectedAt'>;

/**
 * A visible stream that had detected frames this recently is running: a thermal frame without a
 * detected partner then gets no faces (one frame missed) rather than the thermal detector's, whose
 * boxes differ and would make the person's box jump. Longer gaps mean the visible stream is down.
 */
export const VISIBLE_GAP_MS = 1000;

/** Where a camera's faces come from right now, and why. */
export interface FaceSourceHealth {
  detector: 'visible' | 'thermal';
  reason: string;
  /** Frames whose faces came from the visible image (mapped), and from the thermal detector. */
  framesVisible: number;
  framesThermal: number;
  /** Frames without faces because their visible partner was not detected in time (stream running). */
  framesWithoutVisible: number;
  registrationId: string | null;
}

/**
 * Faces for the screening stage from the visible stream, mapped into thermal pixels with the
 * registration in force. `faces()` returns null whenever that is not possible (no registration, no
 * visible frame near in time, no detector), and the stage uses its thermal detector for the frame;
 * the reason is kept for health and logged when it changes.
 */
export class RegisteredFaces {
  readonly #cameraId: string;
  readonly #registrations: RegistrationService;
  readonly #capture: FaceLookup | null;
  #detectorProblem: string | null;
  #state: FaceSourceHealth;
  #loggedAt = Number.NEGATIVE_INFINITY;

  constructor(options: {
    cameraId: string;
    registrations: RegistrationService;
    capture: FaceLookup | null;
    /** Why visible detection cannot run (the model did not load), or null. */
    detectorProblem?: string | null;
  }) {
    this.#cameraId = options.cameraId;
    this.#registrations = options.registrations;
    this.#capture = options.capture;
    this.#detectorProblem = options.detectorProblem ?? null;
    this.#state = {
      detector: 'thermal',
      reason: 'no frame yet',
      framesVisible: 0,
      framesThermal: 0,
      framesWithoutVisible: 0,
      registrationId: null,
    };
  }

  set detectorProblem(problem: string | null) {
    this.#detectorProblem = problem;
  }

  health(): FaceSourceHealth {
    return { ...this.#state };
  }

  /** The frame's faces in thermal pixels, without those centred in an `exclude` box; null → use the thermal detector. */
  faces(frame: ThermalFrame, exclude: readonly Box[]): Face[] | null {
    const record = this.#registrations.active(this.#cameraId);
    const found = this.#lookup(frame, record);
    if (found === 'gap') {
      this.#state.framesWithoutVisible++;
      return [];
    }
    if (typeof found === 'string') {
      this.#use('thermal', found, record);
      this.#state.framesThermal++;
      return null;
    }
    const faces: Face[] = [];
    for (const face of found) {
      let mapped: Face;
      try {
        mapped = mapFace(face, record!.homography);
      } catch {
        continue;
      }
      const [x, y, w, h] = mapped.box;
      const cx = x + w / 2;
      const cy = y + h / 2;
      if (cx < 0 || cy < 0 || cx >= frame.width || cy >= frame.height) continue;
      if (exclude.some(([ex, ey, ew, eh]) => cx >= ex && cx < ex + ew && cy >= ey && cy < ey + eh)) continue;
      faces.push(mapped);
    }
    this.#use('visible', `visible faces mapped by registration ${record!.id}`, record);
    this.#state.framesVisible++;
    return faces;
  }

  #lookup(frame: ThermalFrame, record: RegistrationRecord | null): Face[] | string {
    if (!this.#capture) return 'no visible source configured (visibleSource)';
    if (!record) {
      return `no registration: faces from the thermal image until an admin registers the visible stream (POST /api/registration/${this.#cameraId})`;
    }
    if (this.#detectorProblem) return `visible face detector unavailable: ${this.#detectorProblem}`;
    const result = this.#capture.facesFor(frame.capturedAt, frame.visible);
    if (!result) {
      const last = this.#capture.lastDetectedAt;
      if (last !== null && Math.abs(frame.capturedAt - last) <= VISIBLE_GAP_MS) return 'gap';
      return `no visible frame with detected faces within ±${this.#capture.maxSkewMs} ms of the thermal frame`;
    }
    return result.faces;
  }

  #use(detector: 'visible' | 'thermal', reason: string, record: RegistrationRecord | null): void {
    const switched = detector !== this.#state.detector;
    const reasonChanged = reason !== this.#state.reason;
    this.#state.detector = detector;
    this.#state.reason = reason;
    this.#state.registrationId = detector === 'visible' ? (record?.id ?? null) : null;
    // A change of detector is always logged; a new reason at most every 10 s (it can flicker per frame).
    const now = Date.now();
    if (switched || (reasonChanged && now - this.#loggedAt > 10_000)) {
      this.#loggedAt = now;
      log.info({ camera: this.#cameraId, detector, reason }, 'face detector');
    }
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

function checkRegistrationsFile(data: unknown): string | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'expected a JSON object';
  const registrations = (data as { registrations?: unknown }).registrations;
  if (!Array.isArray(registrations)) return 'expected "registrations" to be an array';
  for (const [index, record] of registrations.entries()) {
    const r = record as Partial<RegistrationRecord> | null;
    if (typeof r !== 'object' || r === null) return `registrations[${index}] is not an object`;
    if (typeof r.id !== 'string' || typeof r.cameraId !== 'string')
      return `registrations[${index}] needs "id" and "cameraId"`;
    if (!Array.isArray(r.homography) || r.homography.length !== 9 || !r.homography.every(Number.isFinite))
      return `registrations[${index}].homography must be 9 finite numbers`;
  }
  return null;
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;
/** Keeps H readable in the JSON file without losing precision that matters (sub-micro-pixel). */
const round12 = (v: number) => Number(v.toPrecision(12));
