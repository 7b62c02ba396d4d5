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
import type { EventBus } from '../../core/eventBus.ts';
import type { EventBusMap } from '../../core/events.ts';
import { colorize, encode, outputScale, overlaySvg, type PaletteName } from '../../render/frame.ts';

export interface Viewer {
  readonly cameraId: string;
  readonly palette: PaletteName;
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
  lastEncodeMs: number | null;
}

export class VideoHub {
  readonly #bus: EventBus;
  #unit: 'C' | 'F';
  readonly #viewers = new Set<Viewer>();
  #unsubscribe: (() => void) | null = null;
  readonly #stats: VideoStats = { viewers: 0, encoded: 0, sent: 0, skippedSlowViewer: 0, lastEncodeMs: null };

  constructor(bus: EventBus, unit: 'C' | 'F') {
    this.#bus = bus;
    this.#unit = unit;
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
      const key = `${viewer.palette}|${viewer.range ? `${viewer.range.lowC}..${viewer.range.highC}` : 'auto'}`;
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
    // Synchronous part: copy the pixels into colours now (the frame buffer is not ours to keep).
    const jobs = [...groups.values()].map((viewers) => {
      const { palette, range } = viewers[0];
      const colored = colorize(thermal.celsius, thermal.width, thermal.height, palette, range ?? undefined);
      return { viewers, colored, svg: overlaySvg(overlay, colored, scale, palette) };
    });
    const started = performance.now();
    return Promise.all(
      jobs.map(async ({ viewers, colored, svg }) => {
        const jpeg = await encode(colored, svg, scale);
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
}
