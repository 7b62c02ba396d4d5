/**
 * `canthus estimate`: skin readings in, core estimates and decisions out, one JSON line each.
 *
 *   echo '{"canthusC": 36.4, "ambientC": 22}' | canthus estimate
 *   → {"estimatedCoreC":37.66,"decision":"elevated","threshold":37.5}
 *
 * Uses the active configuration's threshold and the fitted skin→core model
 * (firmware-config/skin-core-model.json). The answer is `normal` or `elevated`; `--retest-band C` adds
 * `retest` for estimates within C below the threshold, as the appliance does. A bad line gets an error line and processing continues;
 * the exit code is 1 when any line failed.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Command } from 'commander';
import { DEFAULT_THRESHOLD_C, decide, parseTemperature } from '../../calibration/decision.ts';
import { estimateCoreC, type SkinCoreInput, type SkinCoreModel } from '../../calibration/skinCore.ts';
import { loadConfig } from '../config/load.ts';
import { DEFAULT_MODEL_FILE, loadSkinCoreModel } from '../config/skinCoreModel.ts';
import { CanthusError } from '../core/errors.ts';

export interface EstimateSettings {
  /** Fever threshold on the estimated core temperature, °C. */
  thresholdC: number;
  /** Retest band below the threshold, °C (0: only normal/elevated). */
  retestBandC: number;
}

/** Accepted input keys and their plausible ranges; anything else on a line is an error. */
const FIELDS: Record<keyof SkinCoreInput, { min: number; max: number; required: boolean }> = {
  canthusC: { min: 25, max: 45, required: true },
  faceMaxC: { min: 25, max: 45, required: false },
  foreheadC: { min: 20, max: 45, required: false },
  ambientC: { min: -20, max: 50, required: false },
  humidityPct: { min: 0, max: 100, required: false },
  distanceM: { min: 0.1, max: 10, required: false },
};

export type EstimateResult = { ok: true; output: string } | { ok: false; output: string };

/** An input line is one small object; longer or deeper lines are refused before parsing. */
const MAX_LINE_CHARS = 4096;
const MAX_LINE_DEPTH = 8;

/** Nesting depth of JSON text outside strings, counted without parsing; stops past `limit`. */
function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length && deepest <= limit; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') deepest = Math.max(deepest, ++depth);
    else if (ch === '}' || ch === ']') depth--;
  }
  return deepest;
}

/** What a value is, in a few words, without stringifying it (it may be huge or deeply nested). */
function describeValue(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null) return 'null';
  if (typeof value === 'string')
    return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** Parses and checks one input line; returns the message of what is wrong, or the input. */
function parseInputLine(line: string): SkinCoreInput | string {
  if (line.length > MAX_LINE_CHARS) {
    return `line of ${line.length} characters exceeds the limit of ${MAX_LINE_CHARS}; expected an object such as {"canthusC": 36.2}`;
  }
  const depth = nestingDepth(line, MAX_LINE_DEPTH);
  if (depth > MAX_LINE_DEPTH) {
    return `JSON nested more than the limit of ${MAX_LINE_DEPTH} levels; expected a flat object such as {"canthusC": 36.2}`;
  }
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return `not valid JSON (${(error as Error).message}); expected an object such as {"canthusC": 36.2}`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `expected a JSON object such as {"canthusC": 36.2}, got ${describeValue(value)}`;
  }
  const record = value as Record<string, unknown>;
  const allowed = Object.keys(FIELDS);
  const unknown = Object.keys(record).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    return `unknown key ${unknown.map((k) => JSON.stringify(k)).join(', ')}; allowed: ${allowed.join(', ')}`;
  }
  const input: Record<string, number> = {};
  for (const [key, rule] of Object.entries(FIELDS)) {
    const v = record[key];
    if (v === undefined || v === null) {
      if (rule.required) return `${key} is required: a number between ${rule.min} and ${rule.max}`;
      continue;
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || v < rule.min || v > rule.max) {
      return `${key} must be a number between ${rule.min} and ${rule.max}, got ${describeValue(v)}`;
    }
    input[key] = v;
  }
  return input as unknown as SkinCoreInput;
}

/** One input line → one output line (without newline); `ok` is false for an error line. */
export function estimateRecord(
  line: string,
  model: SkinCoreModel,
  settings: EstimateSettings,
  lineNumber = 1,
): EstimateResult {
  const input = parseInputLine(line);
  if (typeof input === 'string') {
    return { ok: false, output: JSON.stringify({ error: `line ${lineNumber}: ${input}` }) };
  }
  const { estimatedCoreC } = estimateCoreC(input, model);
  const decision = decide({
    estimatedCoreC,
    thresholdC: settings.thresholdC,
    retestBandC: settings.retestBandC,
  });
  return {
    ok: true,
    output: JSON.stringify({
      estimatedCoreC: Math.round(estimatedCoreC * 100) / 100,
      decision,
      threshold: settings.thresholdC,
    }),
  };
}

/** `estimateRecord` as a plain string, for callers that only want the line. */
export function estimateLine(
  line: string,
  model: SkinCoreModel,
  settings: EstimateSettings,
  lineNumber = 1,
): string {
  return estimateRecord(line, model, settings, lineNumber).output;
}

/** Streams JSON lines from `input` to `output`; blank lines are skipped but counted for line numbers. */
export async function runEstimate(
  input: Readable,
  output: Writable,
  model: SkinCoreModel,
  settings: EstimateSettings,
): Promise<{ lines: number; failed: number }> {
  let lineNumber = 0;
  let lines = 0;
  let failed = 0;
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    lineNumber++;
    if (line.trim() === '') continue;
    lines++;
    const result = estimateRecord(line, model, settings, lineNumber);
    if (!result.ok) failed++;
    if (!output.write(`${result.output}\n`)) await new Promise((resolve) => output.once('drain', resolve));
  }
  return { lines, failed };
}

interface EstimateCommandOptions {
  config?: string;
  data?: string;
  model?: string;
  threshold?: string;
  retestBand?: string;
}

/**
 * The threshold: command line, else the configuration, else the default. No retest band unless asked
 * for: the command answers normal or elevated.
 */
export function estimateSettings(options: EstimateCommandOptions): EstimateSettings {
  let thresholdC = DEFAULT_THRESHOLD_C;
  let retestBandC = 0;
  const { config } = loadConfig({ configFile: options.config, dataDir: options.data });
  if (config.screening) thresholdC = config.screening.thresholdC ?? thresholdC;
  try {
    if (options.threshold !== undefined) thresholdC = parseTemperature(options.threshold);
  } catch (error) {
    throw new CanthusError(`--threshold: ${(error as Error).message}`);
  }
  if (options.retestBand !== undefined) {
    retestBandC = Number(options.retestBand);
    if (!(retestBandC >= 0 && retestBandC <= 1)) {
      throw new CanthusError(
        `--retest-band must be a number of °C between 0 and 1, got ${JSON.stringify(options.retestBand)}`,
      );
    }
  }
  return { thresholdC, retestBandC };
}

export function registerEstimateCommand(program: Command): Command {
  return program
    .command('estimate')
    .description(
      'read JSON lines {"canthusC", "faceMaxC"?, "foreheadC"?, "ambientC"?, "humidityPct"?, "distanceM"?} on stdin; ' +
        'write {"estimatedCoreC", "decision", "threshold"} per line',
    )
    .option('--config <file>', 'site configuration file (default: DATA/config.json when present)')
    .option('--data <dir>', 'data directory')
    .option('--model <file>', 'skin-core model file', DEFAULT_MODEL_FILE)
    .option('--threshold <temperature>', 'fever threshold on core temperature, e.g. 37.5 or 100.0F')
    .option('--retest-band <celsius>', 'also answer "retest" within this many °C below the threshold')
    .action(async (options: EstimateCommandOptions) => {
      const settings = estimateSettings(options);
      const model = loadSkinCoreModel(options.model);
      const { failed } = await runEstimate(process.stdin, process.stdout, model, settings);
      if (failed > 0) {
        process.stderr.write(`canthus estimate: ${failed} line(s) failed\n`);
        process.exitCode = 1;
      }
    });
}
