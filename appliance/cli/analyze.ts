/**
 * `canthus analyze FILE... [--profile ID] [--exclude X,Y,W,H]...`: offline analysis of thermal stills, one JSON line per file.
 *
 *   canthus analyze photo.jpg
 *   → {"file":"photo.jpg","width":180,"height":180,"radiometric":true,"format":"flir-jpeg","minC":18.6,
 *      "maxC":33.9,"faces":[{"box":[83,33,20,20],"score":1,"frontal":true,"canthusC":32.7,"faceMaxC":33.1,
 *      "estimatedCoreC":33.96,"decision":"invalid","reasons":["Blackbody reference not stable (…)"]}]}
 *
 * Faces come from the thermal-only detector (coordinates in thermal pixels). A still has no blackbody in
 * a known place, so every reading is uncalibrated: estimatedCoreC is the skin→core model applied to the
 * uncorrected canthus and the decision is "invalid" with that reason — an offline still never screens
 * anyone. Non-radiometric (8-bit) images get faces but no temperatures. A file that cannot be read gets
 * {"file","error"} and the command goes on; the exit code is 1 when any file failed.
 */
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { rawToCelsius } from '../../calibration/radiometry.ts';
import { estimateCoreC, type SkinCoreModel } from '../../calibration/skinCore.ts';
import { loadSkinCoreModel } from '../config/skinCoreModel.ts';
import type { CameraProfile } from '../core/cameraProfile.ts';
import type { Box, Decision } from '../core/types.ts';
import { detectThermalFaces, detectThermalFacesGray8 } from '../detection/thermalFaces.ts';
import { measureFace } from '../screening/measure.ts';
import {
  FlatFieldEvents,
  isAfterFlatField,
  loadCameraProfile,
  readCptvClip,
  readThermalFile,
  type ThermalImage,
  thermalImageSummary,
} from '../thermalFiles/index.ts';
import { parsePixelBox } from './options.ts';
import { Progress, type ProgressOptions } from './progress.ts';

/** Face size needed for a valid reading when no camera profile says otherwise (≈ IEC-grade geometry). */
export const DEFAULT_ANALYZE_MIN_FACE_PX = 40;
/** Smallest face the detector looks for in stills (smaller faces are too few pixels to find reliably). */
const DETECT_MIN_FACE_PX = 12;
export const NO_REFERENCE_REASON = 'no blackbody reference in a still image';

export interface AnalyzedFace {
  box: Box;
  score: number;
  frontal: boolean | null;
  canthusC: number | null;
  faceMaxC: number | null;
  estimatedCoreC: number | null;
  decision: Decision;
  reasons: string[];
}

export interface AnalyzedFile {
  file: string;
  width: number;
  height: number;
  radiometric: boolean;
  format: string;
  minC: number | null;
  maxC: number | null;
  faces: AnalyzedFace[];
}

/** A CPTV clip: one summary line for the whole clip. */
export interface AnalyzedClip {
  file: string;
  format: 'cptv';
  width: number;
  height: number;
  radiometric: true;
  profile: string;
  device: string | null;
  startedAt: string | null;
  frames: number;
  /** From the clip's frame times (median interval), not the header's stated rate. */
  fps: number | null;
  durationS: number;
  minC: number | null;
  maxC: number | null;
  ffcEvents: number;
  /** Frames within 2 s of a flat-field correction (no valid readings). */
  flatFieldFrames: number;
  /** Frames where the detector found at least one face, and the most faces in one frame. */
  framesWithFaces: number;
  maxFacesInFrame: number;
}

export type AnalyzeLine = AnalyzedFile | AnalyzedClip | { file: string; error: string };

export interface AnalyzeOptions {
  profile?: CameraProfile;
  /** Skin→core model; when absent, estimatedCoreC is null. */
  model?: SkinCoreModel | null;
  /**
   * Regions that are never faces, image pixels: a blackbody reference in view and its housing (a heated
   * disc reads as a small face in every still of a kiosk; docs/thermal-face-detection.md), as a camera's
   * configured exclusion zones do in the appliance.
   */
  exclude?: Box[];
}

const round2 = (v: number) => Math.round(v * 100) / 100;

/** Per-clip summary of a CPTV clip: temperatures, timing, flat-field events, where faces were found. */
export async function analyzeClip(file: string, opts: AnalyzeOptions = {}): Promise<AnalyzedClip> {
  let minC = Number.POSITIVE_INFINITY;
  let maxC = Number.NEGATIVE_INFINITY;
  let framesWithFaces = 0;
  let maxFacesInFrame = 0;
  let flatFieldFrames = 0;
  let ffcEvents = 0;
  let firstTimeOn = 0;
  let lastTimeOn = 0;
  const intervals: number[] = [];
  const events = new FlatFieldEvents();
  let celsius: Float32Array | null = null;
  const { header, frameCount, profile } = await readCptvClip(
    file,
    (frame, h) => {
      celsius = rawToCelsius(frame.pixels, frame.profile.radiometry, undefined, celsius ?? undefined);
      const range = thermalImageSummary({ radiometric: true, celsius } as ThermalImage);
      if (range.minC !== null && range.minC < minC) minC = range.minC;
      if (range.maxC !== null && range.maxC > maxC) maxC = range.maxC;
      if (frame.index === 0) firstTimeOn = frame.timeOnMs;
      else intervals.push(frame.timeOnMs - lastTimeOn);
      lastTimeOn = frame.timeOnMs;
      if (events.next(frame)) ffcEvents++;
      if (isAfterFlatField(frame)) flatFieldFrames++;
      const faces = detectThermalFaces(celsius, h.width, h.height, {
        minFacePx: DETECT_MIN_FACE_PX,
        exclude: opts.exclude,
      });
      if (faces.length > 0) framesWithFaces++;
      maxFacesInFrame = Math.max(maxFacesInFrame, faces.length);
      return true;
    },
    opts.profile ? { profile: opts.profile } : {},
  );
  const sorted = intervals.filter((ms) => ms > 0).sort((a, b) => a - b);
  const typicalMs = sorted.length ? sorted[sorted.length >> 1] : null;
  return {
    file,
    format: 'cptv',
    width: header.width,
    height: header.height,
    radiometric: true,
    profile: profile?.id ?? '',
    device: header.deviceName,
    startedAt: header.startedAtMs === null ? null : new Date(header.startedAtMs).toISOString(),
    frames: frameCount,
    fps: typicalMs ? Math.round((1000 / typicalMs) * 1000) / 1000 : header.headerFps,
    durationS: Math.round(lastTimeOn - firstTimeOn) / 1000,
    minC: Number.isFinite(minC) ? round2(minC) : null,
    maxC: Number.isFinite(maxC) ? round2(maxC) : null,
    ffcEvents,
    flatFieldFrames,
    framesWithFaces,
    maxFacesInFrame,
  };
}

export async function analyzeFile(file: string, opts: AnalyzeOptions = {}): Promise<AnalyzeLine> {
  try {
    if (path.extname(file).toLowerCase() === '.cptv') return await analyzeClip(file, opts);
    const img = await readThermalFile(file, opts.profile ? { profile: opts.profile } : {});
    const { minC, maxC } = thermalImageSummary(img);
    const minFacePx = opts.profile?.minFacePx ?? DEFAULT_ANALYZE_MIN_FACE_PX;
    const faces: AnalyzedFace[] = [];
    if (img.radiometric && img.celsius) {
      const detected = detectThermalFaces(img.celsius, img.width, img.height, {
        minFacePx: DETECT_MIN_FACE_PX,
        exclude: opts.exclude,
      });
      const frame = { celsius: img.celsius, width: img.width, height: img.height };
      for (const face of detected) {
        const m = measureFace(frame, face, {
          minFacePx,
          referenceStable: false,
          referenceReason: NO_REFERENCE_REASON,
          flatField: false,
          otherFaces: detected,
          netdC: opts.profile?.netdC ?? 0.05,
        });
        const estimatedCoreC =
          m.canthusC !== null && opts.model
            ? round2(
                estimateCoreC(
                  { canthusC: m.canthusC, faceMaxC: m.faceMaxC, foreheadC: m.foreheadC },
                  opts.model,
                ).estimatedCoreC,
              )
            : null;
        faces.push({
          box: face.box,
          score: face.score,
          frontal: face.frontal,
          canthusC: m.canthusC,
          faceMaxC: m.faceMaxC,
          estimatedCoreC,
          // The reference gate always fails on a still: the decision is never a screening result.
          decision: 'invalid',
          reasons: m.reasons.map((r) => r.text),
        });
      }
    } else if (img.gray8) {
      const detected = detectThermalFacesGray8(img.gray8, img.width, img.height, {
        minFacePx: DETECT_MIN_FACE_PX,
        exclude: opts.exclude,
      });
      for (const face of detected) {
        faces.push({
          box: face.box,
          score: face.score,
          frontal: face.frontal,
          canthusC: null,
          faceMaxC: null,
          estimatedCoreC: null,
          decision: 'invalid',
          reasons: ['not radiometric: an 8-bit image holds no temperatures, only where faces are'],
        });
      }
    }
    return {
      file,
      width: img.width,
      height: img.height,
      radiometric: img.radiometric,
      format: img.format,
      minC: minC === null ? null : round2(minC),
      maxC: maxC === null ? null : round2(maxC),
      faces,
    };
  } catch (error) {
    return { file, error: (error as Error).message };
  }
}

/** Analyze each file in turn, one JSON line each; returns how many failed. */
export async function runAnalyze(
  files: string[],
  out: Writable,
  opts: AnalyzeOptions = {},
  errors?: Writable,
  progressOptions: ProgressOptions = { stream: { write: () => true } },
): Promise<{ failed: number }> {
  let failed = 0;
  // Only worth a line over many files; stdout (the JSON lines) is never touched.
  const progress = files.length > 1 ? new Progress('analyze', files.length, progressOptions) : null;
  for (const [i, file] of files.entries()) {
    const line = await analyzeFile(file, opts);
    progress?.update(i + 1);
    if ('error' in line) {
      progress?.finish();
      failed++;
      // Also one plain line on stderr for people: "canthus analyze: big.tiff: 20000×20000 pixels exceeds …".
      errors?.write(`canthus analyze: ${line.error.replace(/\s*\n\s*/g, ' ')}\n`);
    }
    out.write(`${JSON.stringify(line)}\n`);
  }
  progress?.finish();
  return { failed };
}

export function registerAnalyzeCommand(program: Command): Command {
  return program
    .command('analyze')
    .description(
      'find faces in thermal stills (FLIR JPEG/FFF, radiometric TIFF, matrix CSV, .y16, 8-bit PNG/JPEG; a .cptv clip gets one summary line) and ' +
        'measure the inner canthus; one JSON line per file (uncalibrated: a still has no blackbody)',
    )
    .argument('<files...>', 'thermal image files')
    .option('--profile <id>', 'camera profile (id or file): geometry for .y16, minimum face size, noise')
    .option('--model <file>', 'skin-core model file (default: firmware-config/skin-core-model.json)')
    .option(
      '--exclude <x,y,width,height>',
      'a region that is never a face, image pixels: the blackbody reference and its housing (repeatable)',
      (value: string, previous: Box[] = []) => [...previous, parsePixelBox(value)],
    )
    .action(async (files: string[], options: { profile?: string; model?: string; exclude?: Box[] }) => {
      const profile = options.profile ? await loadCameraProfile(options.profile) : undefined;
      const model = loadSkinCoreModel(options.model);
      const { failed } = await runAnalyze(
        files,
        process.stdout,
        { profile, model, exclude: options.exclude },
        process.stderr,
        {},
      );
      if (failed > 0) {
        process.stderr.write(`canthus analyze: ${failed} file(s) failed\n`);
        process.exitCode = 1;
      }
    });
}
