/**
 * The video hub: renders annotated JPEG frames only while someone watches, once per camera and
 * palette however many watch, and hands each frame to the viewers that can take it now.
 *
 * Off the frame path: the hub listens to `frame` with queued delivery (the bus keeps the newest 2),
 * copies the pixels into palette colours (the only synchronous work, a lookup per pixel) and
 * encodes with sharp on the libuv pool. Its listener returns the encoding promise, so the bus hands
 * it the next frame only when the last is out: a slow encoder sees fewer frames, capture never waits.
 *
 * Slow viewers: before each frame the hub asks every viewer `ready()` (a WebSocket's
 * `bufferedAmount`, an HTTP stream's buffered bytes); one that is still sending its previous frames
 * skips this one. So a viewer on a weak 5G link gets fewer frames and never holds back the others,
 * and memory per viewer stays bounded. A stream none of whose viewers is ready is not encoded.
 */

import type { Homography } from '../../../calibration/homography.ts';
import type { EventBus } from '../../core/eventBus.ts';
import type { EventBusMap } from '../../core/events.ts';
import {
  blendLookup,
  colorize,
  encode,
  encodeBlend,
  encodeVisible,
  outputScale,
  overlaySvg,
  type PaletteName,
  type ViewName,
  visibleOverlaySvg,
  warpVisible,
} from '../../render/frame.ts';

export interface Viewer {
  readonly cameraId: string;
  readonly palette: PaletteName;
  /** Bi-spectrum cameras: thermal (default), the visible image, or thermal blended over visible. */
  readonly view?: ViewName;
  /** A fixed colour range, °C; null for the auto range. */
  readonly range?: { lowC: number; highC: number } | null;
  /** Can take a frame now (its previous frames are out). */
  ready(): boolean;
  send(jpeg: Buffer): void;
}

export interface VideoStats {
  viewers: number;
  /** JPEG frames encoded (one per camera + palette per frame) and handed out. */
  encoded: number;
  sent: number;
  /** Frames a viewer did not get because it was still busy with earlier ones. */
  skippedSlowViewer: number;
  /** Visible or blend frames not rendered: the thermal frame came without a visible partner (or registration). */
  skippedNoVisible: number;
  lastEncodeMs: number | null;
}

/** The registration in force for a camera (visible → thermal), as the hub needs it. */
export type RegistrationLookup = (cameraId: string) => { id: string; homography: Homography } | null;

export class VideoHub {
  readonly #bus: EventBus;
  #unit: 'C' | 'F';
  readonly #viewers = new Set<Viewer>();
  #unsubscribe: (() => void) | null = null;
  readonly #stats: VideoStats = {
    viewers: 0,
    encoded: 0,
    sent: 0,
    skippedSlowViewer: 0,
    skippedNoVisible: 0,
    lastEncodeMs: null,
  };
  readonly #registration: RegistrationLookup;
  /** The blend's warp table per camera, rebuilt when the registration or a size changes. */
  readonly #lookups = new Map<string, { key: string; lookup: Int32Array }>();

  constructor(bus: EventBus, unit: 'C' | 'F', registration: RegistrationLookup = () => null) {
    this.#bus = bus;
    this.#unit = unit;
    this.#registration = registration;
  }

  /** The unit of the colour scale from the next frame on (a settings change). */
  setUnit(unit: 'C' | 'F'): void {
    this.#unit = unit;
  }

  /** Adds a viewer; returns the function that removes it. The hub listens only while one watches. */
  add(viewer: Viewer): () => void {
    this.#viewers.add(viewer);
    this.#unsubscribe ??= this.#bus.on('frame', (event) => this.#render(event), { name: 'video.render' });
    return () => {
      this.#viewers.delete(viewer);
      if (this.#viewers.size === 0 && this.#unsubscribe) {
        this.#unsubscribe();
        this.#unsubscribe = null;
      }
    };
  }

  get listening(): boolean {
    return this.#unsubscribe !== null;
  }

  stats(): VideoStats {
    return { ...this.#stats, viewers: this.#viewers.size };
  }

  close(): void {
    this.#viewers.clear();
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  #render(event: EventBusMap['frame']): Promise<void> | undefined {
    // Group the ready viewers of this camera by palette and range: one encode per group.
    const groups = new Map<string, Viewer[]>();
    for (const viewer of this.#viewers) {
      if (viewer.cameraId !== event.cameraId) continue;
      if (!viewer.ready()) {
        this.#stats.skippedSlowViewer++;
        continue;
      }
      const view = viewer.view ?? 'thermal';
      // The visible view has no palette or range: all its viewers share one encode.
      const key =
        view === 'visible'
          ? view
          : `${view}|${viewer.palette}|${viewer.range ? `${viewer.range.lowC}..${viewer.range.highC}` : 'auto'}`;
      const group = groups.get(key) ?? [];
      group.push(viewer);
      groups.set(key, group);
    }
    if (groups.size === 0) return undefined;
    const { thermal } = event;
    const scale = outputScale(thermal.width);
    const overlay = {
      tracks: event.tracks,
      reference: event.reference,
      referenceRegion: thermal.referenceRegion,
      unit: this.#unit,
    };
    const registration = this.#registration(event.cameraId);
    // Synchronous part: copy the pixels now (the frame's buffers are not ours to keep): palette
    // colours, the warped visible image (a lookup per output pixel), or a copy of the visible frame.
    const jobs: { viewers: Viewer[]; encode: () => Promise<Buffer> }[] = [];
    for (const viewers of groups.values()) {
      const { palette, range } = viewers[0];
      const view = viewers[0].view ?? 'thermal';
      const visible = thermal.visible;
      if (view !== 'thermal' && (!visible || (view === 'blend' && !registration))) {
        // No visible partner for this frame (or no registration yet): these viewers wait for the next.
        this.#stats.skippedNoVisible += viewers.length;
        continue;
      }
      if (view === 'visible') {
        // A plain copy (memcpy): ≈ 2 ms for an HD frame, the visible view's only synchronous work.
        const rgb = Buffer.allocUnsafe(visible!.width * visible!.height * 3);
        rgb.set(visible!.rgb.subarray(0, rgb.length));
        const svg = visibleOverlaySvg(overlay, registration?.homography ?? null, visible!);
        jobs.push({ viewers, encode: () => encodeVisible(rgb, visible!, svg) });
        continue;
      }
      const colored = colorize(thermal.celsius, thermal.width, thermal.height, palette, range ?? undefined);
      const svg = overlaySvg(overlay, colored, scale, palette);
      if (view === 'blend') {
        const warped = warpVisible(
          visible!.rgb,
          this.#lookup(event.cameraId, registration!, thermal, visible!, scale),
        );
        jobs.push({ viewers, encode: () => encodeBlend(colored, warped, svg, scale) });
      } else jobs.push({ viewers, encode: () => encode(colored, svg, scale) });
    }
    if (jobs.length === 0) return undefined;
    const started = performance.now();
    return Promise.all(
      jobs.map(async ({ viewers, encode: render }) => {
        const jpeg = await render();
        this.#stats.encoded++;
        for (const viewer of viewers) {
          // Removed while encoding: its socket is gone.
          if (!this.#viewers.has(viewer)) continue;
          viewer.send(jpeg);
          this.#stats.sent++;
        }
      }),
    ).then(() => {
      this.#stats.lastEncodeMs = Math.round((performance.now() - started) * 10) / 10;
    });
  }

  #lookup(
    cameraId: string,
    registration: { id: string; homography: Homography },
    thermal: { width: number; height: number },
    visible: { width: number; height: number },
    scale: number,
  ): Int32Array {
    const key = `${registration.id}|${thermal.width}x${thermal.height}|${visible.width}x${visible.height}|${scale}`;
    const cached = this.#lookups.get(cameraId);
    if (cached?.key === key) return cached.lookup;
    const lookup = blendLookup(registration.homography, thermal, visible, scale);
    this.#lookups.set(cameraId, { key, lookup });
    return lookup;
  }
}
