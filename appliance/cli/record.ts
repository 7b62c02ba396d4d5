/** `canthus record`: saves what a live source delivers as a recording (frames.y16 + recording.json). */
import { mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import { RecordingWriter } from '../camera/recording.ts';
import { createSource, parseSourceUri, redactSource } from '../camera/sources.ts';
import { loadProfiles, requireProfile } from '../config/load.ts';
import { CanthusError } from '../core/errors.ts';
import { numberIn } from './options.ts';
import { Progress } from './progress.ts';

interface RecordOptions {
  source: string;
  out: string;
  seconds: number;
  profile: string;
  data?: string;
}

export async function recordSource(options: RecordOptions): Promise<number> {
  const profile = requireProfile(loadProfiles(options.data ?? null), options.profile);
  const source = createSource('record', parseSourceUri(options.source), profile);
  mkdirSync(options.out, { recursive: true });
  const writer = new RecordingWriter(options.out, {
    profile: profile.id,
    width: profile.width,
    height: profile.height,
    fps: profile.fps,
    source: redactSource(options.source),
  });
  const wanted = Math.max(1, Math.round(options.seconds * profile.fps));
  const progress = new Progress('record', wanted);
  await new Promise<void>((resolve) => {
    source.gst.onFrame((frame) => {
      if (writer.frameCount < wanted) writer.writeFrame(frame.data);
      progress.update(writer.frameCount);
      if (writer.frameCount >= wanted) resolve();
    });
    source.gst.onState((state, reason) => {
      progress.finish();
      process.stderr.write(`source ${state}: ${reason}\n`);
      if (state === 'ended') resolve();
    });
    source.start();
    // A source that never delivers should not hang the command.
    setTimeout(resolve, options.seconds * 1000 + 15_000).unref();
  });
  progress.finish();
  await source.stop();
  if (writer.frameCount === 0) {
    writer.abort();
    throw new CanthusError(
      `no frames arrived from ${redactSource(options.source)}; nothing was written (${source.gst.stats().reason})`,
    );
  }
  writer.close();
  return writer.frameCount;
}

export function registerRecordCommand(program: Command): Command {
  return program
    .command('record')
    .description('save a live source as a recording')
    .requiredOption('--source <uri>', 'v4l2:/dev/videoN, rtsp://…, simulator:?seed=N or recording:DIR')
    .requiredOption('--out <dir>', 'folder to write')
    .option('--seconds <s>', 'how long to record', numberIn('seconds', 0.1, 86_400), 10)
    .option('--profile <id>', 'camera profile of the source', 'simulator')
    .option('--data <dir>', 'data directory with site camera profiles')
    .action(async (options: RecordOptions) => {
      const frames = await recordSource(options);
      process.stderr.write(`wrote ${frames} frames to ${options.out}\n`);
      process.exit(0);
    });
}
