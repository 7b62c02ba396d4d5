/**
 * Source URIs → frame sources. Every source, the simulator included, reads through a real
 * GStreamer pipeline, so the default run exercises the same capture path a camera uses.
 *
 *   simulator:[?seed=N&people=N&fever-rate=P&glasses-rate=P&drift=C&ambient=C]   the simulated entrance (appsrc)
 *   recording:DIR[?pace=realtime|fast]                             a recording (filesrc ! rawvideoparse)
 *   v4l2:/dev/videoN                                               a UVC Y16 camera (v4l2src)
 *   rtsp://host/path                                               an IP camera (rtspsrc, RTP raw video)
 *   tcp://host:port                                                raw Y16 frames over TCP (a camera bridge)
 */
import { existsSync } from 'node:fs';
import type { CameraProfile } from '../core/cameraProfile.ts';
import { CanthusError } from '../core/errors.ts';
import { GstFrameSource } from './gstreamerSource.ts';
import { readFrameTimes, readRecording } from './recording.ts';
import { type SceneOptions, SimulatedEntrance } from './simulator/scene.ts';

export type SourceSpec =
  | { kind: 'simulator'; options: Omit<SceneOptions, 'profile'> }
  | { kind: 'recording'; dir: string; pace: 'realtime' | 'fast' }
  | { kind: 'v4l2'; device: string }
  | { kind: 'rtsp'; url: string }
  | { kind: 'tcp'; host: string; port: number };

const SOURCE_FORMS = 'simulator:, recording:DIR, v4l2:/dev/videoN, rtsp://host/path or tcp://host:port';

export function parseSourceUri(uri: string): SourceSpec {
  if (uri === 'simulator' || uri.startsWith('simulator:')) {
    const query = new URLSearchParams(uri.slice(uri.indexOf(':') + 1).replace(/^\?/, ''));
    const allowed = new Set(['seed', 'people', 'fever-rate', 'glasses-rate', 'drift', 'ambient']);
    for (const key of query.keys()) {
      if (!allowed.has(key)) {
        throw new CanthusError(
          `simulator source: unknown parameter "${key}" (allowed: ${[...allowed].join(', ')})`,
        );
      }
    }
    const num = (key: string, min: number, max: number): number | undefined => {
      const raw = query.get(key);
      if (raw === null) return undefined;
      const value = Number(raw);
      if (!Number.isFinite(value) || value < min || value > max) {
        throw new CanthusError(
          `simulator source: ${key} must be a number from ${min} to ${max}, got "${raw}"`,
        );
      }
      return value;
    };
    return {
      kind: 'simulator',
      options: {
        seed: num('seed', 0, 2 ** 32 - 1) ?? 1,
        people: num('people', 1, 1e6),
        feverRate: num('fever-rate', 0, 1),
        glassesRate: num('glasses-rate', 0, 1),
        driftMaxC: num('drift', 0, 10),
        ambientC: num('ambient', 0, 40),
      },
    };
  }
  if (uri.startsWith('recording:')) {
    const [dir, query = ''] = uri.slice('recording:'.length).split('?');
    const pace = new URLSearchParams(query).get('pace') ?? 'realtime';
    if (!dir) throw new CanthusError('recording source needs a folder: recording:DIR');
    if (pace !== 'realtime' && pace !== 'fast') {
      throw new CanthusError(`recording source: pace must be "realtime" or "fast", got "${pace}"`);
    }
    return { kind: 'recording', dir, pace };
  }
  if (uri.startsWith('v4l2:')) {
    const device = uri.slice('v4l2:'.length) || '/dev/video0';
    if (!/^\/dev\/[\w/-]+$/.test(device))
      throw new CanthusError(`v4l2 source: "${device}" is not a device path like /dev/video0`);
    return { kind: 'v4l2', device };
  }
  if (uri.startsWith('rtsp://') || uri.startsWith('rtsps://')) {
    if (/["'!\s]/.test(uri))
      throw new CanthusError('rtsp source: the URL must not contain quotes, spaces or "!"');
    // Without a host GStreamer fails on every retry, forever: refuse it at start instead.
    let host = '';
    try {
      host = new URL(uri).hostname;
    } catch {
      host = '';
    }
    if (!host)
      throw new CanthusError(
        `rtsp source: "${redactSource(uri)}" has no host (allowed: rtsp://host[:port]/path)`,
      );
    return { kind: 'rtsp', url: uri };
  }
  if (uri.startsWith('tcp://')) {
    const match = /^tcp:\/\/([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(uri);
    const port = match ? Number(match[2]) : 0;
    if (!match || port < 1 || port > 65535)
      throw new CanthusError(`tcp source: "${uri}" is not tcp://host:port`);
    return { kind: 'tcp', host: match[1], port };
  }
  throw new CanthusError(`unknown source "${uri}" (allowed: ${SOURCE_FORMS})`);
}

/**
 * Source URIs may carry camera credentials (rtsp://user:pass@host) or tokens in the query string
 * (?token=…, ?key=…): never show them.
 */
export function redactSource(uri: string): string {
  return uri
    .replace(/^(rtsps?:\/\/)[^@/]+@/, '$1***@')
    .replace(
      /([?&](?:token|access_token|key|apikey|api_key|auth|password|pass|pwd|secret|sig|signature)=)[^&#]*/gi,
      '$1***',
    );
}

/** A source as the rest of the appliance sees it. */
export interface CameraSource {
  readonly cameraId: string;
  readonly profile: CameraProfile;
  readonly gst: GstFrameSource;
  /** For recordings: the number of frames it holds. */
  readonly frameCount: number | null;
  /** For simulations: the scene, with its ground truth. */
  readonly scene: SimulatedEntrance | null;
  start(): void;
  /** Stops for good; resolves when the capture holds no thread any more. */
  stop(): Promise<void>;
}

function gstFormat(profile: CameraProfile): string {
  return profile.pixelFormat === 'GRAY16_BE' ? 'GRAY16_BE' : 'GRAY16_LE';
}

/** A source that is only its GStreamer pipeline (everything but the simulator). */
function pipelineSource(
  cameraId: string,
  profile: CameraProfile,
  gst: GstFrameSource,
  frameCount: number | null = null,
): CameraSource {
  return {
    cameraId,
    profile,
    gst,
    frameCount,
    scene: null,
    start: () => gst.start(),
    stop: () => gst.stop(),
  };
}

export function createSource(cameraId: string, spec: SourceSpec, profile: CameraProfile): CameraSource {
  const { width, height, fps } = profile;
  const fpsFraction = `${Math.round(fps * 1000)}/1000`;
  const caps = `video/x-raw,format=${gstFormat(profile)},width=${width},height=${height}`;
  switch (spec.kind) {
    case 'recording': {
      const { meta, framesPath } = readRecording(spec.dir);
      if (meta.width !== width || meta.height !== height) {
        throw new CanthusError(
          `recording ${spec.dir} is ${meta.width}×${meta.height} (profile "${meta.profile}") but camera "${cameraId}" uses profile "${profile.id}" (${width}×${height}); choose the recording's profile`,
        );
      }
      const frameTimes = readFrameTimes(spec.dir, meta.frameCount);
      // With recorded frame times the source paces the frames itself (gaps stay gaps); GStreamer's
      // clock only knows the constant rate.
      const realtime = spec.pace === 'realtime' && frameTimes === null;
      // Fast replays (headless analysis) process every frame: the sink blocks instead of dropping.
      const sinkOptions = realtime
        ? 'sync=true max-buffers=1 drop=false'
        : 'sync=false max-buffers=1 drop=false';
      const gst = new GstFrameSource({
        cameraId,
        description: `filesrc location="${framesPath.replaceAll('"', '')}" ! rawvideoparse format=gray16-le width=${meta.width} height=${meta.height} framerate=${Math.round(meta.fps * 1000)}/1000 ! appsink name=sink ${sinkOptions}`,
        width,
        height,
        fps: meta.fps,
        live: false,
        timestamps: 'frame-rate',
        frameTimes: frameTimes ?? undefined,
        pace: spec.pace,
      });
      return pipelineSource(cameraId, profile, gst, meta.frameCount);
    }
    case 'v4l2': {
      const gst = new GstFrameSource({
        cameraId,
        description: `v4l2src device=${spec.device} ! ${caps} ! appsink name=sink sync=false max-buffers=1 drop=true`,
        width,
        height,
        fps,
        live: true,
        precheck: () =>
          existsSync(spec.device) ? null : `camera device ${spec.device} does not exist (unplugged?)`,
      });
      return pipelineSource(cameraId, profile, gst);
    }
    case 'rtsp': {
      const gst = new GstFrameSource({
        cameraId,
        description: `rtspsrc location="${spec.url}" latency=200 protocols=tcp ! rtpvrawdepay ! videoconvert ! ${caps} ! appsink name=sink sync=false max-buffers=1 drop=true`,
        width,
        height,
        fps,
        live: true,
      });
      return pipelineSource(cameraId, profile, gst);
    }
    case 'tcp': {
      const gst = new GstFrameSource({
        cameraId,
        description: `tcpclientsrc host=${spec.host} port=${spec.port} ! rawvideoparse format=${gstFormat(profile) === 'GRAY16_BE' ? 'gray16-be' : 'gray16-le'} width=${width} height=${height} framerate=${fpsFraction} ! appsink name=sink sync=false max-buffers=1 drop=true`,
        width,
        height,
        fps,
        live: true,
      });
      return pipelineSource(cameraId, profile, gst);
    }
    case 'simulator':
      return createSimulatorSource(cameraId, profile, spec.options, fpsFraction, caps);
  }
}

function createSimulatorSource(
  cameraId: string,
  profile: CameraProfile,
  options: Omit<SceneOptions, 'profile'>,
  fpsFraction: string,
  caps: string,
): CameraSource {
  const scene = new SimulatedEntrance({ ...options, profile });
  // appsrc has no back-pressure through this binding: keep at most two frames queued, drop the oldest.
  const gst = new GstFrameSource({
    cameraId,
    description: `appsrc name=scene is-live=true format=time do-timestamp=true leaky-type=downstream max-buffers=2 caps="${caps},framerate=${fpsFraction}" ! appsink name=sink sync=false max-buffers=1 drop=true`,
    width: profile.width,
    height: profile.height,
    fps: profile.fps,
    live: true,
  });
  let timer: NodeJS.Timeout | null = null;
  let frameIndex = 0;
  let startedAt = 0;
  const tick = () => {
    const appsrc = gst.appsrc('scene');
    const { counts } = scene.render(frameIndex++);
    appsrc?.push(Buffer.from(counts.buffer, counts.byteOffset, counts.byteLength));
    // Schedule against the start time so the frame rate does not drift with rendering time. A
    // camera does not make up for frames nobody took: when the process was busy for longer than a
    // frame, a real camera's frames of that time are gone. The scene is a stream (it cannot skip
    // frames), so the schedule moves on instead of bursting; the gap in arrival times is counted as
    // frames dropped at the source, as for a real camera.
    const late = Math.floor(((Date.now() - startedAt) * profile.fps) / 1000) - frameIndex;
    if (late > 0) startedAt += (late * 1000) / profile.fps;
    const due = startedAt + (frameIndex * 1000) / profile.fps;
    timer = setTimeout(tick, Math.max(0, due - Date.now()));
  };
  return {
    cameraId,
    profile,
    gst,
    frameCount: null,
    scene,
    start: () => {
      gst.start();
      startedAt = Date.now();
      tick();
    },
    stop: () => {
      if (timer) clearTimeout(timer);
      return gst.stop();
    },
  };
}
