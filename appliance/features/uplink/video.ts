/**
 * Pictures over the uplink, rendered with the live video's renderer (render/frame.ts):
 * - video on request (`video/start`): JPEG frames of one camera at most `fps`, for at most
 *   `maxDurationS`, under the uplink budget: a frame is encoded only when its rate allows and the
 *   budget holds what the last one weighed; short of budget, quality steps down to `minQuality`
 *   and frames are skipped, and it steps back up when the budget has room again. Frames go at
 *   QoS 0: a late video frame is worth nothing, a retried one would compete with alerts.
 * - one picture of the next frame (`snapshot` command);
 * - the alert snapshot: the person's thermal crop, and with `thermal+visible` the camera's visible
 *   frame right after the alert.
 * The bus `frame` listener exists only while one of these waits, as the video hub does.
 */
import type { UplinkConfig } from '../../config/load.ts';
import type { EventBus } from '../../core/eventBus.ts';
import type { EventBusMap } from '../../core/events.ts';
import type { Logger } from '../../core/log.ts';
import type { ThermalCrop, VisibleFrame } from '../../core/types.ts';
import { colorize, encode, encodeRgb, overlaySvg } from '../../render/frame.ts';
import type { UplinkBudget } from './budget.ts';

type Frame = EventBusMap['frame'];

/** A first guess of a frame's size before one was encoded (≈ 320×240 at quality 50). */
const FIRST_FRAME_BYTES = 16_000;
/** Visible pictures are sent at most this wide: enough to recognise the scene, small on 5G. */
const VISIBLE_MAX_WIDTH = 320;

export interface Picture {
  contentType: 'image/jpeg';
  width: number;
  height: number;
  /** base64 */
  data: string;
}

export interface VideoFrameOut {
  cameraId: string;
  seq: number;
  capturedAt: number;
  quality: number;
  jpeg: Buffer;
}

interface Session {
  cameraId: string;
  until: number;
  intervalMs: number;
  nextDue: number;
  quality: number;
  estimate: number;
  sent: number;
  skippedBudget: number;
  skippedLink: number;
  bytes: number;
  startedAt: number;
}

/** Upscale factor so a small core's picture is ≈ 320 px wide (the live page uses ≈ 500). */
const uplinkScale = (width: number) => Math.max(1, Math.min(4, Math.floor(320 / width)));

export class UplinkPictures {
  readonly #bus: EventBus;
  readonly #budget: UplinkBudget;
  readonly #options: UplinkConfig['video'];
  readonly #unit: 'C' | 'F';
  readonly #log: Logger;
  readonly #send: (frame: VideoFrameOut) => boolean;
  #session: Session | null = null;
  #last: Omit<Session, 'until' | 'nextDue' | 'intervalMs' | 'estimate'> | null = null;
  readonly #waiting = new Set<{ cameraId: string; take: (frame: Frame) => void }>();
  #unsubscribe: (() => void) | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(args: {
    bus: EventBus;
    budget: UplinkBudget;
    options: UplinkConfig['video'];
    unit: 'C' | 'F';
    log: Logger;
    /** Publishes one video frame; false when the link cannot take it now (skipped). */
    send: (frame: VideoFrameOut) => boolean;
  }) {
    this.#bus = args.bus;
    this.#budget = args.budget;
    this.#options = args.options;
    this.#unit = args.unit;
    this.#log = args.log;
    this.#send = args.send;
  }

  /** Starts (or renews) video of a camera; returns when it stops by itself. */
  startVideo(
    cameraId: string,
    durationS: number,
    fps: number,
  ): { until: string; fps: number; quality: number } {
    const now = Date.now();
    const previous = this.#session?.cameraId === cameraId ? this.#session : null;
    const session: Session = previous ?? {
      cameraId,
      until: 0,
      intervalMs: 0,
      nextDue: now,
      quality: this.#options.quality,
      estimate: FIRST_FRAME_BYTES,
      sent: 0,
      skippedBudget: 0,
      skippedLink: 0,
      bytes: 0,
      startedAt: now,
    };
    session.until = now + durationS * 1000;
    session.intervalMs = 1000 / fps;
    if (this.#session && !previous) this.stopVideo('another camera was asked for');
    this.#session = session;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.stopVideo('max-duration'), durationS * 1000);
    this.#timer.unref();
    this.#listen();
    this.#log.info({ cameraId, durationS, fps }, 'uplink video started on request');
    return { until: new Date(session.until).toISOString(), fps, quality: session.quality };
  }

  stopVideo(reason: string): { stopped: boolean; sent: number; skipped: number } {
    const session = this.#session;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (!session) return { stopped: false, sent: 0, skipped: 0 };
    this.#session = null;
    this.#last = session;
    this.#unlistenIfIdle();
    const skipped = session.skippedBudget + session.skippedLink;
    this.#log.info(
      { cameraId: session.cameraId, reason, sent: session.sent, skipped },
      'uplink video stopped',
    );
    return { stopped: true, sent: session.sent, skipped };
  }

  /** The next frame of a camera, rendered with its overlay; null if none comes within `timeoutMs`. */
  async snapshot(
    cameraId: string,
    timeoutMs: number,
    quality: number,
  ): Promise<(Picture & { capturedAt: number; seq: number }) | null> {
    const frame = await this.#nextFrame(cameraId, timeoutMs, (f) => this.#prepare(f));
    if (!frame) return null;
    const jpeg = await encode(frame.colored, frame.svg, frame.scale, quality);
    return {
      ...picture(jpeg, frame.colored.width * frame.scale, frame.colored.height * frame.scale),
      capturedAt: frame.capturedAt,
      seq: frame.seq,
    };
  }

  /** The visible frame of a camera right after now (bi-spectrum cameras), or null. */
  async nextVisible(cameraId: string, timeoutMs: number, quality: number): Promise<Picture | null> {
    const visible = await this.#nextFrame(cameraId, timeoutMs, (f) => copyVisible(f.thermal.visible));
    if (!visible) return null;
    const jpeg = await encodeRgb(visible.rgb, visible.width, visible.height, VISIBLE_MAX_WIDTH, quality);
    const width = Math.min(visible.width, VISIBLE_MAX_WIDTH);
    return picture(jpeg, width, Math.max(1, Math.round((visible.height * width) / visible.width)));
  }

  health() {
    const s = this.#session ?? this.#last;
    return {
      active: this.#session !== null,
      cameraId: s?.cameraId ?? null,
      until: this.#session ? new Date(this.#session.until).toISOString() : null,
      quality: s?.quality ?? null,
      framesSent: s?.sent ?? 0,
      bytesSent: s?.bytes ?? 0,
      skippedForBudget: s?.skippedBudget ?? 0,
      skippedBusyLink: s?.skippedLink ?? 0,
    };
  }

  close(): void {
    this.stopVideo('uplink stopping');
    for (const waiter of this.#waiting) waiter.take(null as unknown as Frame);
    this.#waiting.clear();
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  #prepare(frame: Frame) {
    const { thermal } = frame;
    const scale = uplinkScale(thermal.width);
    const colored = colorize(thermal.celsius, thermal.width, thermal.height, 'iron');
    const svg = overlaySvg(
      {
        tracks: frame.tracks,
        reference: frame.reference,
        referenceRegion: thermal.referenceRegion,
        unit: this.#unit,
      },
      colored,
      scale,
      'iron',
    );
    return { colored, svg, scale, capturedAt: frame.capturedAt, seq: frame.seq };
  }

  #nextFrame<T>(cameraId: string, timeoutMs: number, take: (frame: Frame) => T | null): Promise<T | null> {
    return new Promise((resolve) => {
      const waiter = {
        cameraId,
        take: (frame: Frame) => {
          clearTimeout(timer);
          this.#waiting.delete(waiter);
          this.#unlistenIfIdle();
          // Copy synchronously: the frame's pixels are not ours after the listener returns.
          resolve(frame ? take(frame) : null);
        },
      };
      const timer = setTimeout(() => waiter.take(null as unknown as Frame), timeoutMs);
      this.#waiting.add(waiter);
      this.#listen();
    });
  }

  #listen(): void {
    this.#unsubscribe ??= this.#bus.on('frame', (frame) => this.#onFrame(frame), { name: 'uplink.video' });
  }

  #unlistenIfIdle(): void {
    if (this.#session || this.#waiting.size > 0 || !this.#unsubscribe) return;
    this.#unsubscribe();
    this.#unsubscribe = null;
  }

  #onFrame(frame: Frame): Promise<void> | undefined {
    for (const waiter of [...this.#waiting]) if (waiter.cameraId === frame.cameraId) waiter.take(frame);
    const session = this.#session;
    if (!session || session.cameraId !== frame.cameraId) return undefined;
    const now = Date.now();
    if (now < session.nextDue) return undefined;
    session.nextDue = Math.max(session.nextDue + session.intervalMs, now);
    // Short of budget: step the quality down, and skip this frame; the next due one tries again.
    // A frame bigger than a whole second of budget goes when the bucket is full (then owes it).
    if (this.#budget.available() < Math.min(session.estimate, this.#budget.bytesPerS)) {
      session.skippedBudget++;
      if (session.quality > this.#options.minQuality) {
        const lower = Math.max(this.#options.minQuality, session.quality - 10);
        session.estimate = Math.round((session.estimate * lower) / session.quality);
        session.quality = lower;
      }
      return undefined;
    }
    const prepared = this.#prepare(frame);
    const quality = session.quality;
    return encode(prepared.colored, prepared.svg, prepared.scale, quality).then((jpeg) => {
      if (this.#session !== session) return;
      session.estimate = jpeg.length;
      this.#budget.takeVideo(jpeg.length);
      if (
        !this.#send({
          cameraId: session.cameraId,
          seq: frame.seq,
          capturedAt: frame.capturedAt,
          quality,
          jpeg,
        })
      ) {
        session.skippedLink++;
        return;
      }
      session.sent++;
      session.bytes += jpeg.length;
      // Room for three more frames: step back up towards the configured quality.
      if (this.#budget.available() > 3 * jpeg.length && session.quality < this.#options.quality)
        session.quality = Math.min(this.#options.quality, session.quality + 5);
    });
  }
}

function picture(jpeg: Buffer, width: number, height: number): Picture {
  return { contentType: 'image/jpeg', width, height, data: jpeg.toString('base64') };
}

function copyVisible(visible: VisibleFrame | undefined): VisibleFrame | null {
  return visible ? { ...visible, rgb: Uint8Array.from(visible.rgb) } : null;
}

/** The alert's thermal picture: the person's best-frame crop in the iron palette, face boxed. */
export async function renderCrop(crop: ThermalCrop, quality: number): Promise<Picture> {
  const scale = Math.max(1, Math.min(8, Math.round(240 / Math.max(crop.width, crop.height))));
  const colored = colorize(crop.celsius, crop.width, crop.height, 'iron');
  const [fx, fy, fw, fh] = crop.faceBox;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${crop.width * scale}" height="${crop.height * scale}"><rect x="${(fx - crop.x) * scale}" y="${(fy - crop.y) * scale}" width="${fw * scale}" height="${fh * scale}" fill="none" stroke="#D55E00" stroke-width="3"/></svg>`;
  const jpeg = await encode(colored, svg, scale, quality);
  return picture(jpeg, crop.width * scale, crop.height * scale);
}
