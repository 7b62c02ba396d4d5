/**
 * Faces for a bi-spectrum camera's screening stage: found in the visible stream, mapped into thermal
 * pixels with the registration in force.
 */
import type { VisibleCapture } from '../camera/visibleSource.ts';
import { log } from '../core/log.ts';
import type { RegistrationRecord } from '../core/records.ts';
import type { Box, Face, ThermalFrame } from '../core/types.ts';
import { mapFace } from '../detection/registration.ts';

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
  /** The registration in force (set at start and on every `registration.committed`). */
  registration: RegistrationRecord | null;
  readonly #capture: FaceLookup | null;
  #detectorProblem: string | null;
  #state: FaceSourceHealth;
  #loggedAt = Number.NEGATIVE_INFINITY;

  constructor(options: {
    cameraId: string;
    registration: RegistrationRecord | null;
    capture: FaceLookup | null;
    /** Why visible detection cannot run (the model did not load), or null. */
    detectorProblem?: string | null;
  }) {
    this.#cameraId = options.cameraId;
    this.registration = options.registration;
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
    const record = this.registration;
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
