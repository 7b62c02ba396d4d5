/**
 * The visible stream of a bi-spectrum camera: a second GStreamer pipeline per camera, ending in
 * packed RGB at the profile's visible size, read by the same GstFrameSource as the thermal stream
 * (built once, offline → backoff → retry). The last few frames are kept; each thermal frame gets
 * the visible frame captured nearest to it in time (the streams run at different rates and are not
 * triggered together), and thermal frames left without one are counted.
 *
 * While a registration is in force, faces are found on the visible frames as they arrive (one
 * detection at a time per camera; a frame that arrives while one runs waits, and a newer one
 * replaces it), so the thermal frame path, which is synchronous, only looks the result up.
 *
 *   rtsp://host/path            the camera's visible RTSP stream (any codec decodebin can decode)
 *   v4l2:/dev/videoN            a UVC camera (raw or MJPEG)
 *   images:DIR[?fps=N]          JPEG frames DIR/00000.jpg, 00001.jpg, … replayed at N fps (replays, tests)
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CanthusError } from '../core/errors.ts';
import { log } from '../core/log.ts';
import type { Face, RawFrame, VisibleFrame } from '../core/types.ts';
import { pairByTimestamp } from '../detection/registration.ts';
import { GstFrameSource, type SourceStats } from './gstreamerSource.ts';

export type VisibleSourceSpec =
  | { kind: 'rtsp'; url: string }
  | { kind: 'v4l2'; device: string }
  | { kind: 'images'; dir: string; fps: number | null };

const VISIBLE_FORMS = 'rtsp://host/path, v4l2:/dev/videoN or images:DIR[?fps=N]';

export function parseVisibleSourceUri(uri: string): VisibleSourceSpec {
  if (uri.startsWith('rtsp://') || uri.startsWith('rtsps://')) {
    if (/["'!\s]/.test(uri))
      throw new CanthusError('visible rtsp source: the URL must not contain quotes, spaces or "!"');
    return { kind: 'rtsp', url: uri };
  }
  if (uri.startsWith('v4l2:')) {
    const device = uri.slice('v4l2:'.length) || '/dev/video0';
    if (!/^\/dev\/[\w/-]+$/.test(device))
      throw new CanthusError(`visible v4l2 source: "${device}" is not a device path like /dev/video0`);
    return { kind: 'v4l2', device };
  }
  if (uri.startsWith('images:')) {
    const [dir, query = ''] = uri.slice('images:'.length).split('?');
    if (!dir) throw new CanthusError('visible images source needs a folder: images:DIR');
    if (/["!]/.test(dir))
      throw new CanthusError('visible images source: the folder must not contain quotes or "!"');
    const params = new URLSearchParams(query);
    for (const key of params.keys()) {
      if (key !== 'fps')
        throw new CanthusError(`visible images source: unknown parameter "${key}" (allowed: fps)`);
    }
    const raw = params.get('fps');
    const fps = raw === null ? null : Number(raw);
    if (fps !== null && !(Number.isFinite(fps) && fps > 0 && fps <= 120)) {
      throw new CanthusError(`visible images source: fps must be a number above 0 up to 120, got "${raw}"`);
    }
    return { kind: 'images', dir, fps };
  }
  throw new CanthusError(`unknown visible source "${uri}" (allowed: ${VISIBLE_FORMS})`);
}

export interface VisibleStream {
  width: number;
  height: number;
  fps: number;
}

/** The GStreamer pipeline of a visible source: decoded, converted and scaled to RGB at the profile's size. */
export function createVisibleGstSource(
  cameraId: string,
  spec: VisibleSourceSpec,
  visible: VisibleStream,
): GstFrameSource {
  const { width, height } = visible;
  const rgb = `videoconvert ! videoscale ! video/x-raw,format=RGB,width=${width},height=${height}`;
  const liveSink = 'appsink name=sink sync=false max-buffers=1 drop=true';
  switch (spec.kind) {
    case 'rtsp':
      return new GstFrameSource({
        cameraId,
        description: `rtspsrc location="${spec.url}" latency=200 protocols=tcp ! decodebin ! ${rgb} ! ${liveSink}`,
        width,
        height,
        fps: visible.fps,
        live: true,
        bytesPerPixel: 3,
      });
    case 'v4l2':
      return new GstFrameSource({
        cameraId,
        description: `v4l2src device=${spec.device} ! decodebin ! ${rgb} ! ${liveSink}`,
        width,
        height,
        fps: visible.fps,
        live: true,
        bytesPerPixel: 3,
        precheck: () =>
          existsSync(spec.device) ? null : `visible camera device ${spec.device} does not exist (unplugged?)`,
      });
    case 'images': {
      const first = path.join(spec.dir, '00000.jpg');
      if (!existsSync(first)) {
        throw new CanthusError(
          `visible images source ${spec.dir} has no 00000.jpg: it needs JPEG frames named 00000.jpg, 00001.jpg, …`,
        );
      }
      const fps = spec.fps ?? visible.fps;
      const location = path.join(spec.dir, '%05d.jpg');
      // Replayed at their frame rate (sync=true): timing against the thermal replay is what matters.
      return new GstFrameSource({
        cameraId,
        description: `multifilesrc location="${location}" index=0 caps="image/jpeg,framerate=${Math.round(fps * 1000)}/1000" ! jpegdec ! ${rgb} ! appsink name=sink sync=true max-buffers=1 drop=false`,
        width,
        height,
        fps,
        live: false,
        timestamps: 'frame-rate',
        pace: 'realtime',
        bytesPerPixel: 3,
      });
    }
  }
}

/** Finds faces in a visible frame, in its pixels (BlazeFace in the appliance). */
export type VisibleDetector = (frame: VisibleFrame) => Promise<Face[]>;

interface KeptFrame {
  /** The image; dropped (null) once `keep` newer frames arrived, while its time and faces stay. */
  frame: VisibleFrame | null;
  capturedAt: number;
  /** Faces found in it, in visible pixels; null while not (yet) detected. */
  faces: Face[] | null;
}

export interface VisibleHealth {
  source: string;
  state: string;
  reason: string;
  since: string;
  framesIn: number;
  lastFrameAt: string | null;
  /** Thermal frames that got a visible frame within the tolerance, and those that did not. */
  paired: number;
  unpaired: number;
  maxSkewMs: number;
  /** Visible frames run through the face detector, and the time the last one took. */
  detections: number;
  detectionMs: number | null;
  detectionFailures: number;
}

export interface VisibleCaptureOptions {
  cameraId: string;
  /** The source URI (shown redacted in health). */
  uri: string;
  gst: GstFrameSource;
  /** Largest |visible − thermal| capture time for a pair; default 1.5 visible frame intervals. */
  maxSkewMs?: number;
  fps: number;
  /** Frames whose image is kept for pairing (default 4). */
  keep?: number;
  /**
   * How long the time and faces of a frame are kept, ms (default 2000): a thermal frame that is
   * processed late (a busy box, a replay) still finds the faces of its partner.
   */
  historyMs?: number;
}

export class VisibleCapture {
  readonly cameraId: string;
  readonly gst: GstFrameSource;
  readonly maxSkewMs: number;
  readonly #uri: string;
  readonly #keep: number;
  readonly #historyMs: number;
  /** Oldest first. */
  readonly #frames: KeptFrame[] = [];
  #detector: VisibleDetector | null = null;
  #wantFaces: () => boolean = () => false;
  #detecting = false;
  #pending: KeptFrame | null = null;
  #paired = 0;
  #unpaired = 0;
  #detections = 0;
  #detectionFailures = 0;
  #detectionMs: number | null = null;
  #lastDetectedAt: number | null = null;

  constructor(options: VisibleCaptureOptions) {
    this.cameraId = options.cameraId;
    this.gst = options.gst;
    this.#uri = options.uri;
    this.maxSkewMs = options.maxSkewMs ?? Math.round((1.5 * 1000) / options.fps);
    this.#keep = options.keep ?? 4;
    this.#historyMs = options.historyMs ?? 2000;
    this.gst.onPixels((pixels) => {
      const frame: VisibleFrame = {
        capturedAt: pixels.capturedAt,
        width: pixels.width,
        height: pixels.height,
        rgb: pixels.pixels,
      };
      const kept: KeptFrame = { frame, capturedAt: frame.capturedAt, faces: null };
      this.#frames.push(kept);
      // Images are large (6 MB at 1920×1080): only the newest few are held.
      const n = this.#frames.length;
      if (n > this.#keep) this.#frames[n - 1 - this.#keep].frame = null;
      while (this.#frames.length > 1 && this.#frames[0].capturedAt < frame.capturedAt - this.#historyMs) {
        this.#frames.shift();
      }
      if (this.#detector && this.#wantFaces()) this.#detect(kept);
    });
  }

  /** Detect faces on arriving frames while `when()` is true (a registration is in force). */
  useDetector(detector: VisibleDetector, when: () => boolean): void {
    this.#detector = detector;
    this.#wantFaces = when;
  }

  start(): void {
    this.gst.start();
  }

  stop(): Promise<void> {
    return this.gst.stop();
  }

  /** Gives the thermal frame the visible frame nearest in time (within the tolerance), counting misses. */
  attach(raw: RawFrame): void {
    const pair = pairByTimestamp(raw.capturedAt, this.#frames, this.maxSkewMs);
    if (pair) {
      if (pair.frame.frame) raw.visible = pair.frame.frame;
      this.#paired++;
    } else {
      this.#unpaired++;
    }
  }

  /**
   * Faces found in the thermal frame's visible partner; if that one was not detected (the detector
   * was busy), those of the nearest detected frame within the tolerance; null when there are none.
   */
  facesFor(
    thermalAt: number,
    visible: VisibleFrame | undefined,
  ): { faces: Face[]; capturedAt: number } | null {
    const own = visible ? this.#frames.find((k) => k.frame === visible) : undefined;
    if (own?.faces) return { faces: own.faces, capturedAt: own.capturedAt };
    const detected = this.#frames.filter((k) => k.faces !== null);
    const pair = pairByTimestamp(thermalAt, detected, this.maxSkewMs);
    return pair ? { faces: pair.frame.faces!, capturedAt: pair.frame.capturedAt } : null;
  }

  /** Capture time of the newest visible frame with detected faces, or null before the first. */
  get lastDetectedAt(): number | null {
    return this.#lastDetectedAt;
  }

  stats(): SourceStats {
    return this.gst.stats();
  }

  health(redact: (uri: string) => string): VisibleHealth {
    const stats = this.gst.stats();
    return {
      source: redact(this.#uri),
      state: stats.state,
      reason: stats.reason,
      since: new Date(stats.since).toISOString(),
      framesIn: stats.framesIn,
      lastFrameAt: stats.lastFrameAt ? new Date(stats.lastFrameAt).toISOString() : null,
      paired: this.#paired,
      unpaired: this.#unpaired,
      maxSkewMs: this.maxSkewMs,
      detections: this.#detections,
      detectionMs: this.#detectionMs === null ? null : Math.round(this.#detectionMs * 100) / 100,
      detectionFailures: this.#detectionFailures,
    };
  }

  #detect(kept: KeptFrame): void {
    if (this.#detecting) {
      this.#pending = kept;
      return;
    }
    if (!kept.frame) return;
    this.#detecting = true;
    const started = performance.now();
    this.#detector!(kept.frame)
      .then(
        (faces) => {
          kept.faces = faces;
          this.#detections++;
          this.#lastDetectedAt = Math.max(this.#lastDetectedAt ?? kept.capturedAt, kept.capturedAt);
          this.#detectionMs = performance.now() - started;
        },
        (error: unknown) => {
          this.#detectionFailures++;
          if (this.#detectionFailures === 1 || this.#detectionFailures % 100 === 0) {
            log.warn(
              { camera: this.cameraId, error: (error as Error).message, failures: this.#detectionFailures },
              'visible face detection failed',
            );
          }
        },
      )
      .finally(() => {
        this.#detecting = false;
        const next = this.#pending;
        this.#pending = null;
        // Only a frame still kept is worth detecting (older ones can no longer be paired).
        if (next && this.#frames.includes(next) && this.#wantFaces()) this.#detect(next);
      });
  }
}
