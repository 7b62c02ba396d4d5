/**
 * `npm run bench:accuracy`: how close the per-person canthus reading comes to the truth, with the
 * blackbody reference and without it.
 *
 * Seeded simulated entrances with a sensor offset anywhere within ±2 °C (slow random walk, jumps at
 * flat-field events), NETD 50 mK, the profile's flat-field
 * events and room temperatures from 18 to 28 °C are replayed through the appliance's frame path
 * (CameraPipeline + screening stage) twice: `referenceMode: 'blackbody'` (as deployed) and `'off'`
 * (no offset correction; a benchmark-only switch). For every person who should get a reading
 * (measurable frames in the truth, no glasses): |measured − true canthus| median, p95, max, bias,
 * share with a reading, and fever sensitivity/specificity against the simulated core temperature.
 * Targets with the blackbody: p95 ≤ 0.2 °C, |bias| ≤ 0.05 °C. Writes the "Accuracy" section of
 * docs/benchmarks.md.
 *
 * Options: --runs 21:18,22:21,23:24,24:28 (seed:ambient °C)  --seconds 90  --no-write
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simulateRecording } from '../appliance/cli/simulate.ts';
import type { ScreeningEvent } from '../appliance/core/types.ts';
import { replayInProcess } from './lib/inProcess.ts';
import {
  FEVER_CORE_C,
  markdownTable,
  matchEvents,
  pct,
  quantile,
  readTruth,
  shouldHaveReading,
  type TruthPerson,
  writeBenchmarkSection,
} from './lib/scoring.ts';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const runs = option('runs', '21:18,22:21,23:24,24:28')
  .split(',')
  .map((pair) => {
    const [seed, ambientC] = pair.split(':').map(Number);
    return { seed, ambientC };
  });
const seconds = Number(option('seconds', '90'));
const driftC = 2;
const feverRate = 0.15;
const write = !process.argv.includes('--no-write');

type Mode = 'blackbody' | 'off';
interface PersonResult {
  truth: TruthPerson;
  end: ScreeningEvent | null;
  ambientC: number;
}
const results: Record<Mode, PersonResult[]> = { blackbody: [], off: [] };

const work = mkdtempSync(path.join(tmpdir(), 'canthus-bench-accuracy-'));
try {
  for (const { seed, ambientC } of runs) {
    const dir = path.join(work, `seed-${seed}`);
    simulateRecording({
      out: dir,
      seconds,
      profile: 'simulator',
      seed,
      feverRate,
      drift: driftC,
      ambient: ambientC,
    });
    const truth = readTruth(dir);
    for (const mode of ['blackbody', 'off'] as const) {
      const events = await replayInProcess(dir, { referenceMode: mode });
      const match = matchEvents(truth, events);
      for (const person of match.persons) {
        if (shouldHaveReading(person.truth))
          results[mode].push({ truth: person.truth, end: person.end, ambientC });
      }
    }
    process.stderr.write(`seed ${seed} (ambient ${ambientC} °C): ${truth.length} persons\n`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(3)}`;

function figures(list: PersonResult[]) {
  const read = list.filter((p) => p.end?.skinC !== null && p.end?.skinC !== undefined);
  const errors = read.map((p) => (p.end!.skinC as number) - p.truth.canthusC);
  const abs = errors.map(Math.abs);
  const fevers = list.filter((p) => p.truth.coreC >= FEVER_CORE_C);
  const normals = list.filter((p) => p.truth.coreC < FEVER_CORE_C);
  const flagged = (p: PersonResult) => p.end?.decision === 'elevated' || p.end?.decision === 'retest';
  return {
    n: list.length,
    withReading: read.length,
    medianC: quantile(abs, 0.5),
    p95C: quantile(abs, 0.95),
    maxC: abs.length ? Math.max(...abs) : Number.NaN,
    biasC: mean(errors),
    fevers: fevers.length,
    sens: fevers.filter((p) => p.end?.decision === 'elevated').length,
    sensAny: fevers.filter(flagged).length,
    normals: normals.length,
    spec: normals.filter((p) => p.end?.decision !== 'elevated').length,
    specAny: normals.filter((p) => !flagged(p)).length,
  };
}

const header = ['Figure', 'With blackbody', "Without (`referenceMode: 'off'`)"];
const f = { blackbody: figures(results.blackbody), off: figures(results.off) };
const row = (label: string, get: (x: ReturnType<typeof figures>) => string) => [
  label,
  get(f.blackbody),
  get(f.off),
];
const rows = [
  row('Persons who should get a reading', (x) => String(x.n)),
  row('With a reading', (x) => `${x.withReading} (${pct(x.withReading, x.n)})`),
  row('Median \\|error\\|', (x) => `${x.medianC.toFixed(3)} °C`),
  row('p95 \\|error\\|', (x) => `${x.p95C.toFixed(3)} °C`),
  row('Max \\|error\\|', (x) => `${x.maxC.toFixed(3)} °C`),
  row('Bias (mean signed error)', (x) => `${signed(x.biasC)} °C`),
  row('Fever sensitivity, elevated', (x) => `${pct(x.sens, x.fevers)} (${x.sens}/${x.fevers})`),
  row(
    'Fever sensitivity, elevated or retest',
    (x) => `${pct(x.sensAny, x.fevers)} (${x.sensAny}/${x.fevers})`,
  ),
  row('Specificity, not elevated', (x) => `${pct(x.spec, x.normals)} (${x.spec}/${x.normals})`),
  row(
    'Specificity, neither elevated nor retest',
    (x) => `${pct(x.specAny, x.normals)} (${x.specAny}/${x.normals})`,
  ),
];
const perAmbient = runs.map(({ seed, ambientC }) => {
  const sub = (mode: Mode) => figures(results[mode].filter((p) => p.ambientC === ambientC));
  const b = sub('blackbody');
  const o = sub('off');
  return [
    seed,
    `${ambientC} °C`,
    b.withReading,
    b.p95C.toFixed(3),
    signed(b.biasC),
    o.p95C.toFixed(3),
    signed(o.biasC),
  ];
});
const target = f.blackbody.p95C <= 0.2 && Math.abs(f.blackbody.biasC) <= 0.05;
const command = `npm run bench:accuracy -- --runs ${runs.map((r) => `${r.seed}:${r.ambientC}`).join(',')} --seconds ${seconds}`;
const body = [
  `Command: \`${command}\` (${new Date().toISOString().slice(0, 10)}).`,
  '',
  `Simulated entrances (simulator profile 256×192, 9 fps), ${runs.length} × ${seconds} s, sensor offset anywhere within ±${driftC} °C (random walk ≈ 0.03 °C/√min of a warmed-up core, jumps of SD 0.15 °C at flat-field events), NETD 50 mK, flat-field events from the profile, room ${runs.map((r) => r.ambientC).join('/')} °C, fever rate ${feverRate}. Replayed in-process through CameraPipeline + the screening stage, once with the blackbody reference and once with \`referenceMode: 'off'\` (benchmark-only: no offset correction, reference treated as stable). Errors are the person's reading (emissivity-corrected canthus skin temperature) minus the simulated true canthus; persons counted: truth has measurable frames and no glasses. Fever: simulated core ≥ 37.5 °C.`,
  '',
  markdownTable(header, rows),
  '',
  markdownTable(['Seed', 'Room', 'Readings', 'p95 (bb)', 'Bias (bb)', 'p95 (off)', 'Bias (off)'], perAmbient),
  '',
  `Targets with the blackbody (p95 ≤ 0.2 °C, |bias| ≤ 0.05 °C): ${target ? 'met' : 'NOT met'}.`,
  '',
  "How the canthus value is read (appliance/screening/measure.ts): the hot spot is located on the 3×3-mean field near each canthus point (a third of a pixel's noise), and the value is a noise-aware maximum of that 3×3 cell: the warmest pixel less NETD × E[max of m normals], m being the pixels within 2·√2·NETD of it (those noise cannot tell apart from it); NETD is the profile's, or the noise measured in the face when lower. A clear 1-pixel hot spot keeps its full value (m = 1), a flat hot spot reads ≈ +0.3 to +0.5 × NETD high, the worst case (a pixel 2–3 NETD above flat neighbours) ≈ 1.2 × NETD low; the warmer canthus is the value (≈ +0.02 °C more at 50 mK with two equal canthi). The former estimator (warmest 2×2 cell, then mean of the warmest 3 of a 3×3 window, then max of both canthi: three selections on the same noisy pixels) read +0.066 °C above the true canthus and would read a 1-pixel hot spot 1 °C above its neighbours 0.67 °C low.",
  '',
  "Reference: screening is blocked as `drifting` only when the blackbody reading changes faster than 0.6 °C/min, the rate at which the offset filter's lag (median of 5, then τ = 5 s: ≈ 5.2 s) costs ≈ 0.05 °C; the step at a flat-field event is not counted as drift and restarts the offset filter at the new level. Before (limit 0.3 °C/min, simulated walk 0.15 °C/√min so the 30 s slope alone had an SD of ≈ 0.23 °C/min, flat-field steps counted as drift, the former estimator; 2026-11-22): 40 of 51 with a reading (78.4 %), p95 0.114 °C, bias +0.065 °C with the blackbody. The remaining bias (+0.02 to +0.03 °C) is the expected excess of the maximum (flat simulated canthus, warmer of two canthi); the reference correction and the reflection/emissivity handling net ≈ 0 (decomposition of 2026-11-22). Without the blackbody the error is the sensor offset itself (anywhere within ±2 °C), as expected.",
].join('\n');

process.stdout.write(`${body}\n`);
if (write) {
  writeBenchmarkSection('Accuracy', body);
}
