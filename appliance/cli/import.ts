/**
 * `canthus import FILE.cptv --out DIR [--profile ID]`: a CPTV clip (Cacophony / feverscreen kiosks) → a
 * recording that replays through `recording:DIR` like any other:
 *   frames.y16          the frames, uint16 little-endian (camera/recording.ts)
 *   recording.json      profile, size, frame rate (from the clip's own frame times), frame count
 *   frames.jsonl        one line per frame: when it was taken and whether it lies in a flat-field event
 *   cptv.json           what the clip's header said (device, camera model, start, stated rate), FFC events
 * The frame rate is the median interval of the clip's frame times: the kiosks' header says 9 frames/s,
 * their frames come every ≈ 114 ms (8.77/s).
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { FRAME_TIMES_FILE, META_FILE, RecordingWriter, writeAtomically } from '../camera/recording.ts';
import { CanthusError } from '../core/errors.ts';
import {
  AFTER_FFC_MS,
  FlatFieldEvents,
  isAfterFlatField,
  loadCameraProfile,
  readCptvClip,
  ThermalFileError,
} from '../thermalFiles/index.ts';
import { Progress, type ProgressOptions } from './progress.ts';

export { FRAME_TIMES_FILE };
export const CPTV_HEADER_FILE = 'cptv.json';

/** One line of frames.jsonl. */
export interface ImportedFrameLine {
  frame: number;
  /** When the frame was taken, ms since the Unix epoch (clip start + time since its first frame). */
  capturedAt: number;
  /** The camera's own clock: ms since it powered on. */
  timeOnMs: number;
  /** Time-on of the last flat-field correction (0: none since power-on). */
  lastFfcMs: number;
  /** True within AFTER_FFC_MS (2 s) of a flat-field correction. */
  flatField: boolean;
}

export interface ImportResult {
  out: string;
  profile: string;
  frames: number;
  fps: number;
  headerFps: number | null;
  ffcEvents: { frame: number; atTimeOnMs: number }[];
  flatFieldFrames: number;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

export async function importCptv(
  file: string,
  options: { out: string; profile?: string; progress?: ProgressOptions },
): Promise<ImportResult> {
  const out = options.out;
  if (existsSync(path.join(out, META_FILE))) {
    throw new CanthusError(
      `${out} already holds a recording; choose another --out folder (nothing was overwritten)`,
    );
  }
  const given = options.profile ? await loadCameraProfile(options.profile) : undefined;

  // First pass: frame times, flat-field events and the profile — the frame rate must be known before the
  // recording is opened. Decoding a clip is fast (≈ 100 ms for 40 s of Lepton video).
  const lines: ImportedFrameLine[] = [];
  const ffcEvents: ImportResult['ffcEvents'] = [];
  let firstTimeOn = 0;
  const flatFieldEvents = new FlatFieldEvents();
  const { header, frameCount, profile } = await readCptvClip(
    file,
    (frame, h) => {
      if (frame.index === 0) firstTimeOn = frame.timeOnMs;
      if (flatFieldEvents.next(frame)) ffcEvents.push({ frame: frame.index, atTimeOnMs: frame.lastFfcMs });
      lines.push({
        frame: frame.index,
        capturedAt: Math.round((h.startedAtMs ?? 0) + frame.timeOnMs - firstTimeOn),
        timeOnMs: frame.timeOnMs,
        lastFfcMs: frame.lastFfcMs,
        flatField: isAfterFlatField(frame),
      });
      return true;
    },
    { profile: given },
  );
  if (!profile || frameCount === 0) {
    throw new ThermalFileError(file, 'the CPTV clip holds no frames; nothing was written');
  }
  // Only the regular frame interval: the ≈ 2 s gaps of flat-field events would lower the rate.
  const intervals = lines.slice(1).map((l, i) => l.timeOnMs - lines[i].timeOnMs);
  const typical = median(intervals.filter((ms) => ms > 0));
  const fps = typical ? Math.round((1000 / typical) * 1000) / 1000 : (header.headerFps ?? profile.fps);

  mkdirSync(out, { recursive: true });
  const writer = new RecordingWriter(out, {
    profile: profile.id,
    width: header.width,
    height: header.height,
    fps,
    source: `cptv:${path.basename(file)}`,
  });
  // The second pass (decode and write) is the long one; the first told how many frames it has.
  const progress = new Progress('import', frameCount, options.progress);
  try {
    await readCptvClip(
      file,
      (frame) => {
        writer.writeFrame(frame.pixels);
        progress.update(frame.index + 1);
        return true;
      },
      { profile },
    );
    writeAtomically(path.join(out, FRAME_TIMES_FILE), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    writeAtomically(
      path.join(out, CPTV_HEADER_FILE),
      `${JSON.stringify(
        {
          file: path.basename(file),
          device: header.deviceName,
          deviceId: header.deviceId,
          cameraSerial: header.cameraSerial,
          brand: header.brand,
          model: header.model,
          firmware: header.firmware,
          startedAt: header.startedAtMs === null ? null : new Date(header.startedAtMs).toISOString(),
          headerFps: header.headerFps,
          measuredFps: fps,
          profile: profile.id,
          profileChosen: given ? 'given with --profile' : 'from the clip (size, radiometry, camera model)',
          afterFfcMs: AFTER_FFC_MS,
          ffcEvents,
        },
        null,
        2,
      )}\n`,
    );
    // recording.json is written last by close(): only then is the folder a recording.
    writer.close();
    progress.finish();
  } catch (err) {
    progress.finish();
    writer.abort();
    for (const side of [FRAME_TIMES_FILE, CPTV_HEADER_FILE]) rmSync(path.join(out, side), { force: true });
    throw err;
  }
  return {
    out,
    profile: profile.id,
    frames: frameCount,
    fps,
    headerFps: header.headerFps,
    ffcEvents,
    flatFieldFrames: lines.filter((l) => l.flatField).length,
  };
}

export function registerImportCommand(program: Command): Command {
  return program
    .command('import')
    .description('turn a CPTV clip (Lepton kiosk video) into a recording that replays through recording:DIR')
    .argument('<file>', 'CPTV file (.cptv)')
    .requiredOption('--out <dir>', 'recording folder to write (must not hold a recording yet)')
    .option('--profile <id|path>', 'camera profile (default: chosen from the clip; Lepton 3.5 → lepton35)')
    .action(async function (this: Command, file: string, options: { out: string; profile?: string }) {
      try {
        const r = await importCptv(file, options);
        process.stdout.write(
          `${r.out}: ${r.frames} frames, profile ${r.profile}, ${r.fps} frames/s (header says ${r.headerFps ?? '—'}), ` +
            `${r.ffcEvents.length} flat-field event(s), ${r.flatFieldFrames} frame(s) flagged\n`,
        );
      } catch (err) {
        if (err instanceof CanthusError) this.error(`canthus import: ${err.message}`, { exitCode: 1 });
        throw err;
      }
    });
}
