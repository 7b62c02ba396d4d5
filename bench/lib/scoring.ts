/**
 * Scores screening events against a simulated recording's ground truth (truth.jsonl).
 *
 * Matching: every `end` event carries the person's track boxes (about one per second, with frame
 * numbers). A track box belongs to the truth person whose face box in that frame overlaps it most
 * (IoU ≥ MIN_IOU). A track is matched to the truth person most of its boxes belong to; a track whose
 * boxes belong to two truth persons (each ≥ 2 boxes) has swapped or merged ids. A truth person matched
 * by more than one track is fragmented (a new id mid-way).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TRUTH_FILE } from '../../appliance/camera/recording.ts';
import type { TruthLine } from '../../appliance/cli/simulate.ts';
import type { Box, Decision, ScreeningEvent } from '../../appliance/core/types.ts';
import { iou } from '../../appliance/tracking/personTracker.ts';
import { REPO_ROOT } from './runRecording.ts';

/** A person of the simulator's ground truth (a line of truth.jsonl). */
export type TruthPerson = TruthLine;

export const FEVER_CORE_C = 37.5;
export const MIN_IOU = 0.3;

export function readTruth(dir: string): TruthPerson[] {
  return readFileSync(path.join(dir, TRUTH_FILE), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as TruthPerson);
}

/** A person the screening should give a reading for: measurable frames and no glasses. */
export function shouldHaveReading(person: TruthPerson): boolean {
  return person.measurable.length > 0 && !person.glasses;
}

export interface MatchedPerson {
  truth: TruthPerson;
  /** The `end` event matched to this truth person (the one covering most of it), or null. */
  end: ScreeningEvent | null;
  tracks: number;
}

export interface ScreeningMatch {
  persons: MatchedPerson[];
  /** `end` events that match no truth person (false persons). */
  unmatchedEnds: ScreeningEvent[];
  /** Tracks whose boxes belong to two or more truth persons. */
  swappedTracks: number;
  ends: number;
}

export function matchEvents(truth: TruthPerson[], events: ScreeningEvent[]): ScreeningMatch {
  const ends = events.filter((e) => e.kind === 'end');
  const boxAt = new Map<string, Map<number, Box>>();
  for (const person of truth) {
    boxAt.set(person.personId, new Map(person.boxes.map(([frame, ...box]) => [frame, box as Box])));
  }
  const byTruth = new Map<string, { end: ScreeningEvent; votes: number }[]>();
  const unmatchedEnds: ScreeningEvent[] = [];
  let swappedTracks = 0;
  for (const end of ends) {
    const votes = new Map<string, number>();
    for (const [seq, ...box] of end.trackBoxes ?? []) {
      let best: string | null = null;
      let bestIou = MIN_IOU;
      for (const person of truth) {
        const truthBox = boxAt.get(person.personId)?.get(seq);
        if (!truthBox) continue;
        const overlap = iou(box as Box, truthBox);
        if (overlap >= bestIou) {
          bestIou = overlap;
          best = person.personId;
        }
      }
      if (best) votes.set(best, (votes.get(best) ?? 0) + 1);
    }
    const ranked = [...votes.entries()].sort((a, b) => b[1] - a[1]);
    if (ranked.length === 0) {
      unmatchedEnds.push(end);
      continue;
    }
    if (ranked.filter(([, n]) => n >= 2).length >= 2) swappedTracks++;
    const [personId, n] = ranked[0];
    const list = byTruth.get(personId) ?? [];
    list.push({ end, votes: n });
    byTruth.set(personId, list);
  }
  const persons = truth.map((person): MatchedPerson => {
    const list = (byTruth.get(person.personId) ?? []).sort((a, b) => b.votes - a.votes);
    return { truth: person, end: list[0]?.end ?? null, tracks: list.length };
  });
  return { persons, unmatchedEnds, swappedTracks, ends: ends.length };
}

export interface ScreeningScore {
  truthPersons: number;
  shouldRead: number;
  found: number;
  foundOfShouldRead: number;
  fragmented: number;
  swappedTracks: number;
  falsePersons: number;
  withReading: number;
  withReadingOfShouldRead: number;
  /** Readings within 0.2 °C of the true canthus, of the persons with a reading. */
  within02: number;
  fevers: number;
  feversFlaggedElevated: number;
  feversFlaggedAny: number;
  /** Fevers that got a reading (elevated/retest/normal) — sensitivity among measurable fevers. */
  feversMeasured: number;
  nonFevers: number;
  nonFeversNotElevated: number;
  nonFeversNotFlagged: number;
  /** Alerts (elevated) on persons without fever. */
  falseAlerts: number;
  invalid: number;
  invalidReasons: Map<string, number>;
  decisions: Record<Decision, number>;
  errorsC: number[];
}

export function scoreScreening(matches: ScreeningMatch[]): ScreeningScore {
  const s: ScreeningScore = {
    truthPersons: 0,
    shouldRead: 0,
    found: 0,
    foundOfShouldRead: 0,
    fragmented: 0,
    swappedTracks: 0,
    falsePersons: 0,
    withReading: 0,
    withReadingOfShouldRead: 0,
    within02: 0,
    fevers: 0,
    feversFlaggedElevated: 0,
    feversFlaggedAny: 0,
    feversMeasured: 0,
    nonFevers: 0,
    nonFeversNotElevated: 0,
    nonFeversNotFlagged: 0,
    falseAlerts: 0,
    invalid: 0,
    invalidReasons: new Map(),
    decisions: { normal: 0, elevated: 0, retest: 0, invalid: 0 },
    errorsC: [],
  };
  for (const match of matches) {
    s.swappedTracks += match.swappedTracks;
    s.falsePersons += match.unmatchedEnds.length;
    for (const { truth, end, tracks } of match.persons) {
      s.truthPersons++;
      const should = shouldHaveReading(truth);
      if (should) s.shouldRead++;
      if (tracks > 1) s.fragmented++;
      const fever = truth.coreC >= FEVER_CORE_C;
      const decision: Decision | null = end?.decision ?? null;
      if (fever) s.fevers++;
      else s.nonFevers++;
      if (decision === 'elevated' && !fever) s.falseAlerts++;
      if (fever && decision === 'elevated') s.feversFlaggedElevated++;
      if (fever && (decision === 'elevated' || decision === 'retest')) s.feversFlaggedAny++;
      if (!fever && decision !== 'elevated') s.nonFeversNotElevated++;
      if (!fever && decision !== 'elevated' && decision !== 'retest') s.nonFeversNotFlagged++;
      if (!end) continue;
      s.found++;
      if (should) s.foundOfShouldRead++;
      s.decisions[end.decision]++;
      if (end.skinC !== null) {
        s.withReading++;
        if (should) s.withReadingOfShouldRead++;
        if (fever) s.feversMeasured++;
        const error = end.skinC - truth.canthusC;
        s.errorsC.push(error);
        if (Math.abs(error) <= 0.2) s.within02++;
      } else {
        s.invalid++;
        for (const reason of end.reasons)
          s.invalidReasons.set(reason, (s.invalidReasons.get(reason) ?? 0) + 1);
      }
    }
  }
  return s;
}

export function pct(numerator: number, denominator: number): string {
  return denominator === 0 ? '—' : `${((100 * numerator) / denominator).toFixed(1)} %`;
}

export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** A Markdown table (also readable in a terminal). */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

/**
 * Replaces (or appends) the `## title` section of a Markdown file, leaving the other sections as
 * they are (other benchmarks write their own sections of the same file).
 */
export function replaceSection(markdown: string, title: string, body: string): string {
  const heading = `## ${title}`;
  const section = `${heading}\n\n${body.trim()}\n`;
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.trim() === heading);
  if (start < 0) {
    const base = markdown.trim() === '' ? '# Benchmarks\n' : markdown.replace(/\s*$/, '\n');
    return `${base}\n${section}`;
  }
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    if (/^## /.test(lines[i])) {
      end = i;
      break;
    }
  }
  const before = lines.slice(0, start).join('\n');
  const after = lines.slice(end).join('\n');
  return `${before}${before ? '\n' : ''}${section}${after ? `\n${after}` : ''}`.replace(/\n{3,}/g, '\n\n');
}

/** Writes `body` as the `## title` section of docs/benchmarks.md and says so on stdout. */
export function writeBenchmarkSection(title: string, body: string): void {
  const file = path.join(REPO_ROOT, 'docs', 'benchmarks.md');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  writeFileSync(file, replaceSection(current, title, body));
  process.stdout.write(`\nwrote the ${title} section of ${path.relative(process.cwd(), file)}\n`);
}
