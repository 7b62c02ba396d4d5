/**
 * `canthus simulate`: writes a simulated entrance as a recording (frames.y16, recording.json) with
 * its ground truth (truth.jsonl, one line per person).
 */
import { mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import { RecordingWriter } from '../camera/recording.ts';
import { type PersonTruth, SimulatedEntrance } from '../camera/simulator/scene.ts';
import { loadProfiles, requireProfile } from '../config/load.ts';
import { CanthusError } from '../core/errors.ts';
import type { Box, Point } from '../core/types.ts';
import { numberIn } from './options.ts';
import { Progress, type ProgressOptions } from './progress.ts';

export interface SimulateOptions {
  out: string;
  seconds?: number;
  profile: string;
  seed: number;
  people?: number;
  feverRate?: number;
  drift?: number;
  ambient?: number;
  data?: string;
  /** Where the progress line goes (stderr, drawn only on a terminal). */
  progress?: ProgressOptions;
}

interface PersonFrames {
  firstFrame: number;
  lastFrame: number;
  boxes: [number, ...Box][];
  /** Frames where the person stood at the measurement point, facing the camera, canthi visible. */
  measurable: number[];
  canthi: [number, Point | null, Point | null][];
}

/** One line of truth.jsonl: who the person is and where they were in each frame. */
export type TruthLine = PersonTruth & PersonFrames;

export function simulateRecording(options: SimulateOptions): { frames: number; persons: number } {
  const profile = requireProfile(loadProfiles(options.data ?? null), options.profile);
  if (options.seconds === undefined && options.people === undefined) {
    throw new CanthusError('say how much to simulate: --seconds S, --people N, or both');
  }
  const scene = new SimulatedEntrance({
    profile,
    seed: options.seed,
    people: options.people,
    feverRate: options.feverRate,
    driftMaxC: options.drift,
    ambientC: options.ambient,
  });
  mkdirSync(options.out, { recursive: true });
  const writer = new RecordingWriter(options.out, {
    profile: profile.id,
    width: profile.width,
    height: profile.height,
    fps: profile.fps,
    source: 'simulator',
    simulation: {
      seed: options.seed,
      people: options.people ?? null,
      feverRate: options.feverRate ?? null,
      driftMaxC: options.drift ?? null,
      ambientC: scene.ambientC,
      blackbody: scene.blackbody,
    },
  });
  const maxFrames =
    options.seconds !== undefined ? Math.round(options.seconds * profile.fps) : Number.POSITIVE_INFINITY;
  const perPerson = new Map<string, PersonFrames>();
  const flatFieldFrames: number[] = [];
  // By frames when the length is given, by people who have left otherwise.
  const progress = new Progress(
    'simulate',
    options.seconds !== undefined ? maxFrames : (options.people ?? 0),
    options.progress,
  );
  for (let frame = 0; frame < maxFrames; frame++) {
    const { counts, truth } = scene.render(frame);
    writer.writeFrame(counts);
    if (truth.flatField) flatFieldFrames.push(frame);
    for (const face of truth.faces) {
      let entry = perPerson.get(face.personId);
      if (!entry) {
        entry = { firstFrame: frame, lastFrame: frame, boxes: [], measurable: [], canthi: [] };
        perPerson.set(face.personId, entry);
      }
      entry.lastFrame = frame;
      entry.boxes.push([frame, ...face.faceBox]);
      entry.canthi.push([frame, face.canthi[0], face.canthi[1]]);
      if (face.atMeasurementPoint && !truth.flatField && (face.canthi[0] || face.canthi[1]))
        entry.measurable.push(frame);
    }
    if (options.seconds === undefined && options.people !== undefined) {
      const persons = scene.persons();
      const timeS = frame / profile.fps;
      if (progress.enabled) progress.update(persons.filter((p) => p.leaveS < timeS).length);
      if (persons.length >= options.people && persons.every((p) => p.leaveS < timeS)) break;
    } else {
      progress.update(frame + 1);
    }
  }
  progress.finish();
  const persons = scene.persons().filter((p) => perPerson.has(p.personId));
  for (const person of persons) {
    const frames = perPerson.get(person.personId)!;
    writer.addTruth({ ...person, ...frames });
  }
  const meta = writer.close();
  return { frames: meta.frameCount, persons: persons.length };
}

export function registerSimulateCommand(program: Command): Command {
  return program
    .command('simulate')
    .description('write a simulated entrance as a recording with ground truth (truth.jsonl)')
    .requiredOption('--out <dir>', 'folder to write (created; must not already hold a recording)')
    .option('--seconds <s>', 'length in seconds', numberIn('seconds', 0.1, 86_400))
    .option('--profile <id>', 'camera profile to simulate', 'simulator')
    .option('--seed <n>', 'random seed (same seed, same bytes)', numberIn('seed', 0, 2 ** 32 - 1, true), 1)
    .option('--people <n>', 'number of people walking in', numberIn('people', 1, 100_000, true))
    .option('--fever-rate <p>', 'share of people with a fever', numberIn('fever-rate', 0, 1))
    .option('--drift <c>', 'largest sensor offset drift, ± °C', numberIn('drift', 0, 10))
    .option('--ambient <c>', 'room temperature, °C', numberIn('ambient', 0, 40))
    .option('--data <dir>', 'data directory with site camera profiles')
    .action((options: SimulateOptions) => {
      const result = simulateRecording(options);
      process.stderr.write(`wrote ${result.frames} frames with ${result.persons} people to ${options.out}\n`);
    });
}
