import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { simulateRecording } from '../../appliance/cli/simulate.ts';
import type { ScreeningEvent } from '../../appliance/core/types.ts';
import { matchEvents, readTruth } from '../../bench/lib/scoring.ts';
import { tempDir } from '../helpers/tempDir.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/canthus.js', ...args], { cwd: REPO_ROOT });
    // A run that does not exit after its recording ends is a failure, not a hang of the suite.
    const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', () => clearTimeout(killer));
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('canthus run over a simulated entrance', () => {
  it('gives every person found one id, new … end, and an end with a reading or an invalid reason', async () => {
    const dir = tempDir('canthus-screening-run-');
    const recording = path.join(dir, 'rec');
    simulateRecording({ out: recording, profile: 'simulator', seed: 5, people: 4, feverRate: 0.25 });
    const { code, stdout, stderr } = await run([
      'run',
      '--source',
      `recording:${recording}?pace=fast`,
      '--headless',
      '--events',
      '-',
      '--data',
      path.join(dir, 'data'),
    ]);
    expect(code, stderr).toBe(0);
    const events = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { type?: string } & ScreeningEvent)
      .filter((event) => event.type === 'screening');
    const ends = events.filter((e) => e.kind === 'end');
    expect(ends.length).toBeGreaterThan(0);

    // One end per person, and every person's events start with `new` and end with that `end`.
    const ids = ends.map((e) => e.personId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      const own = events.filter((e) => e.personId === id);
      expect(own[0].kind).toBe('new');
      expect(own.at(-1)?.kind).toBe('end');
      expect(own.filter((e) => e.kind === 'end')).toHaveLength(1);
      expect(own.filter((e) => e.alert).length).toBeLessThanOrEqual(1);
    }
    for (const end of ends) {
      if (end.decision === 'invalid') {
        expect(end.skinC).toBeNull();
        expect(end.reasons.length).toBeGreaterThan(0);
      } else {
        expect(end.skinC).toEqual(expect.any(Number));
        expect(end.estimatedCoreC).toEqual(expect.any(Number));
      }
    }

    // Against the simulator's truth: the people are found, each by exactly one track.
    const truth = readTruth(recording);
    const match = matchEvents(truth, ends);
    expect(match.unmatchedEnds).toEqual([]);
    expect(match.swappedTracks).toBe(0);
    expect(match.persons.filter((p) => p.tracks > 1)).toEqual([]);
    expect(match.persons.filter((p) => p.end).length).toBeGreaterThanOrEqual(truth.length - 1);
    // ≈ 8 s alone; room for a machine busy with the rest of the suite.
  }, 180_000);
});
