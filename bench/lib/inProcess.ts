/**
 * Replays a recording through the appliance's own frame path in this process (CameraPipeline with
 * the screening stage, as startAppliance wires them) without GStreamer, so a benchmark can switch
 * options that the configuration deliberately does not offer (`referenceMode: 'off'`).
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readRecording } from '../../appliance/camera/recording.ts';
import { cameraReference, loadConfig } from '../../appliance/config/load.ts';
import { EventBus } from '../../appliance/core/eventBus.ts';
import type { ScreeningEvent } from '../../appliance/core/types.ts';
import { CameraPipeline } from '../../appliance/pipeline/cameraPipeline.ts';
import { createScreeningStage } from '../../appliance/screening/createScreeningStage.ts';

export async function replayInProcess(
  recordingDir: string,
  options: { referenceMode: 'blackbody' | 'off' },
): Promise<ScreeningEvent[]> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'canthus-bench-data-'));
  try {
    const { config, profiles } = loadConfig({ dataDir, source: `recording:${recordingDir}` });
    const camera = config.cameras[0];
    const profile = profiles.get(camera.profile)!;
    const bus = new EventBus();
    const events: ScreeningEvent[] = [];
    bus.on('screening', (event) => events.push(event), { name: 'collector', delivery: 'inline' });
    let pipeline: CameraPipeline | null = null;
    const stage = createScreeningStage({
      cameraId: camera.id,
      config,
      profile,
      bus,
    });
    pipeline = new CameraPipeline({
      cameraId: camera.id,
      profile,
      reference: cameraReference(config, camera),
      bus,
      stage,
      referenceMode: options.referenceMode,
    });
    const { meta, framesPath } = readRecording(recordingDir);
    const frameBytes = meta.width * meta.height * 2;
    const fd = openSync(framesPath, 'r');
    // Synthetic frame-rate timestamps, as the recording source gives them.
    const startAt = Date.UTC(2026, 0, 1);
    try {
      for (let seq = 0; seq < meta.frameCount; seq++) {
        const data = new Uint16Array(frameBytes / 2);
        readSync(fd, new Uint8Array(data.buffer), 0, frameBytes, seq * frameBytes);
        pipeline.process({
          cameraId: camera.id,
          seq,
          capturedAt: startAt + Math.round((seq * 1000) / meta.fps),
          width: meta.width,
          height: meta.height,
          data,
        });
      }
    } finally {
      closeSync(fd);
    }
    pipeline.flush(startAt + Math.round((meta.frameCount * 1000) / meta.fps));
    return events;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
