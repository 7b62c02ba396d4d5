/**
 * Temperature matrices exported as text by FLIR Tools, Fluke SmartView, Testo IRSoft and similar: a few
 * header lines, then one line per image row, optionally with an index row (column numbers) and an index
 * column (row numbers). Encodings, delimiters, decimal separators and units vary by vendor and locale,
 * so each is detected and reported in `meta` rather than assumed.
 */
import { KELVIN_OFFSET } from '../../calibration/radiometry.ts';
import { dimensionProblem, THERMAL_FILE_LIMITS } from './limits.ts';
import { ThermalFileError } from './types.ts';

const MAX_HEADER_LINES = 1000;

export type TemperatureUnit = 'C' | 'F' | 'K';

export interface MatrixParseResult {
  width: number;
  height: number;
  celsius: Float32Array;
  meta: {
    encoding: 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';
    delimiter: string;
    decimalSeparator: '.' | ',';
    headerLines: number;
    indexRow: boolean;
    indexColumn: boolean;
    unit: TemperatureUnit;
    /** 'header' when the unit was read from the file's text, 'assumed' when guessed from the values. */
    unitSource: 'header' | 'assumed';
    /** True when every line was wrapped in double quotes as a whole (Fluke SmartView CSV). */
    quotedLines: boolean;
    header: string[];
  };
}

export function decodeText(bytes: Uint8Array): {
  text: string;
  encoding: MatrixParseResult['meta']['encoding'];
} {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { text: new TextDecoder('utf-8').decode(bytes.subarray(3)), encoding: 'utf-8' };
  }
  if (bytes[0] === 0xff && bytes[1] === 0xfe) {
    return { text: new TextDecoder('utf-16le').decode(bytes.subarray(2)), encoding: 'utf-16le' };
  }
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    return { text: new TextDecoder('utf-16be').decode(bytes.subarray(2)), encoding: 'utf-16be' };
  }
  // Without a BOM, UTF-16 text of digits and punctuation has a zero byte in every other position.
  const sample = Math.min(bytes.length, 4096) & ~1;
  let zeroEven = 0;
  let zeroOdd = 0;
  for (let i = 0; i < sample; i++) if (bytes[i] === 0) i & 1 ? zeroOdd++ : zeroEven++;
  if (zeroOdd > sample / 4 && zeroEven < sample / 50) {
    return { text: new TextDecoder('utf-16le').decode(bytes), encoding: 'utf-16le' };
  }
  if (zeroEven > sample / 4 && zeroOdd < sample / 50) {
    return { text: new TextDecoder('utf-16be').decode(bytes), encoding: 'utf-16be' };
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'utf-8' };
  } catch {
    // Older Windows exports write "°" as a single 0xB0 byte.
    return { text: new TextDecoder('windows-1252').decode(bytes), encoding: 'windows-1252' };
  }
}

/** True when the bytes look like text (a candidate temperature matrix) rather than binary data. */
export function looksLikeText(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) return true;
  const { text } = decodeText(bytes.subarray(0, Math.min(bytes.length, 4096)));
  let control = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13) || c === 0xfffd) control++;
  }
  return control <= text.length / 100;
}

const NUMBER = /^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$/;

function parseNumber(field: string, decimalComma: boolean): number {
  let s = field.trim();
  if (s.length >= 2 && s[0] === '"' && s[s.length - 1] === '"') s = s.slice(1, -1).trim();
  if (!NUMBER.test(s)) return Number.NaN;
  if (decimalComma) s = s.replace(',', '.');
  else if (s.includes(',')) return Number.NaN;
  return Number(s);
}

interface Candidate {
  delimiter: string;
  decimalComma: boolean;
  rows: string[][];
  start: number;
  length: number;
}

function splitLine(line: string, delimiter: string): string[] {
  const fields = delimiter === ' ' ? line.trim().split(/ +/) : line.split(delimiter);
  while (fields.length > 0 && fields[fields.length - 1].trim() === '') fields.pop();
  return fields;
}

/** A line of the matrix: all fields numbers except possibly an empty corner cell, at least two of them. */
function isNumericLine(fields: string[], decimalComma: boolean): boolean {
  if (fields.length < 2) return false;
  for (let i = 0; i < fields.length; i++) {
    if (i === 0 && fields[i].trim() === '') continue;
    if (Number.isNaN(parseNumber(fields[i], decimalComma))) return false;
  }
  return true;
}

function longestNumericRun(lines: string[], delimiter: string, decimalComma: boolean): Candidate {
  const rows = lines.map((l) => splitLine(l, delimiter));
  let best = { start: 0, length: 0 };
  let start = -1;
  for (let i = 0; i <= rows.length; i++) {
    const ok = i < rows.length && isNumericLine(rows[i], decimalComma);
    if (ok && start < 0) start = i;
    if (!ok && start >= 0) {
      if (i - start > best.length) best = { start, length: i - start };
      start = -1;
    }
  }
  return { delimiter, decimalComma, rows, ...best };
}

function isIndexSequence(values: number[]): boolean {
  if (values.length < 3) return false;
  const first = values[0];
  if (first !== 0 && first !== 1) return false;
  for (let i = 1; i < values.length; i++) if (values[i] !== first + i) return false;
  return true;
}

/**
 * Fluke SmartView's CSV export wraps each whole line in double quotes (`"1,72.0,73.1,"`), delimiters
 * included, so no field parses as a number until the line is unwrapped. Only a line with exactly two
 * quotes, at its ends, is unwrapped: a line of individually quoted fields (`"1","72.0"`) stays as it is.
 */
function unwrapQuotedLines(lines: string[]): { lines: string[]; quoted: boolean } {
  let quoted = 0;
  const out = lines.map((line) => {
    const t = line.trim();
    if (t.length >= 2 && t[0] === '"' && t[t.length - 1] === '"' && t.indexOf('"', 1) === t.length - 1) {
      quoted++;
      return t.slice(1, -1);
    }
    return line;
  });
  const nonEmpty = lines.filter((l) => l.trim() !== '').length;
  // Unwrap only when the file is written that way throughout, not because of one quoted title line.
  return quoted > 0 && quoted >= nonEmpty * 0.9 ? { lines: out, quoted: true } : { lines, quoted: false };
}

/** "All temperatures in F." (SmartView): the unit letter after "in", no degree sign. */
const UNIT_AFTER_IN = /\btemperatures?\b[^\n]*?\bin\s+(?:°\s*)?(?:degrees?\s+)?([CFK])\b/i;

function unitFromText(text: string): TemperatureUnit | null {
  const after = UNIT_AFTER_IN.exec(text);
  if (after) return after[1].toUpperCase() as TemperatureUnit;
  if (/°\s*F|℉|fahrenheit|\[\s*F\s*\]|\(\s*F\s*\)|\bdeg(ree)?s?\s*F\b|unit\s*[:=]\s*F\b/i.test(text))
    return 'F';
  if (
    /°\s*C|℃|celsius|centigrade|\[\s*C\s*\]|\(\s*C\s*\)|\bdeg(ree)?s?\s*C\b|unit\s*[:=]\s*C\b/i.test(text)
  ) {
    return 'C';
  }
  if (/kelvin|\[\s*K\s*\]|\(\s*K\s*\)|unit\s*[:=]\s*K\b/i.test(text)) return 'K';
  return null;
}

export function parseTemperatureMatrix(file: string, bytes: Uint8Array): MatrixParseResult {
  const { text, encoding } = decodeText(bytes);
  const unwrapped = unwrapQuotedLines(text.split(/\r\n|\n|\r/));
  const lines = unwrapped.lines;
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  // Checked before any line is split into numbers: rows beyond the limit (plus room for header lines) and
  // the widest line's field count.
  const { maxWidth, maxHeight } = THERMAL_FILE_LIMITS;
  if (lines.length > maxHeight + MAX_HEADER_LINES) {
    throw new ThermalFileError(
      file,
      `temperature matrix of ${lines.length} lines exceeds the limit of ${maxHeight} rows (plus ${MAX_HEADER_LINES} header lines)`,
    );
  }
  let widest = 0;
  for (const line of lines) {
    let fields = 1;
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      if (c === 44 || c === 59 || c === 9) fields++; // , ; tab
    }
    if (fields > widest) widest = fields;
  }
  // +1 for an index column, +1 for a trailing delimiter.
  if (widest > maxWidth + 2) {
    throw new ThermalFileError(
      file,
      `temperature matrix line of ${widest} fields exceeds the limit of ${maxWidth} columns`,
    );
  }
  if (lines.length === 0) throw new ThermalFileError(file, 'temperature matrix file is empty');

  // Prefer delimiters that cannot be a decimal separator; a comma delimiter implies a decimal point.
  const candidates = [
    longestNumericRun(lines, '\t', true),
    longestNumericRun(lines, ';', true),
    longestNumericRun(lines, ',', false),
    longestNumericRun(lines, ' ', false),
  ];
  let best = candidates[0];
  for (const c of candidates) if (c.length > best.length) best = c;
  if (best.length === 0) {
    throw new ThermalFileError(
      file,
      'no temperature matrix found: expected lines of numbers separated by comma, semicolon, tab or spaces',
    );
  }
  const { delimiter, decimalComma } = best;
  let block = best.rows.slice(best.start, best.start + best.length);
  const headerLines = lines.slice(0, best.start);
  let values = block.map((fields) => fields.map((f) => parseNumber(f, decimalComma)));

  // Index row: column numbers above the data, often with an empty corner cell.
  let indexRow = false;
  if (values.length > 1) {
    const firstRow = block[0][0].trim() === '' ? values[0].slice(1) : values[0];
    if (isIndexSequence(firstRow) && !isIndexSequence(values[1].slice(1))) {
      indexRow = true;
      values = values.slice(1);
      block = block.slice(1);
    }
  }
  let indexColumn = false;
  if (values.length >= 3 && values[0].length > 2 && isIndexSequence(values.map((r) => r[0]))) {
    indexColumn = true;
    values = values.map((r) => r.slice(1));
  } else if (values.some((r) => Number.isNaN(r[0]))) {
    throw new ThermalFileError(file, 'temperature matrix has an empty first cell in a data row');
  }

  const width = values[0].length;
  const height = values.length;
  const tooLarge = dimensionProblem(width, height);
  if (tooLarge) throw new ThermalFileError(file, `temperature matrix of ${tooLarge}`);
  for (let y = 0; y < height; y++) {
    if (values[y].length !== width) {
      throw new ThermalFileError(
        file,
        `temperature matrix row ${y + 1} has ${values[y].length} values, the first row has ${width}; all rows must be equally long`,
      );
    }
  }
  if (width < 2 || height < 2) {
    throw new ThermalFileError(
      file,
      `temperature matrix is ${width}×${height}; at least 2×2 values are needed`,
    );
  }

  const headerText = headerLines.join('\n');
  let unit = unitFromText(headerText);
  const unitSource: 'header' | 'assumed' = unit ? 'header' : 'assumed';
  if (!unit) {
    const sorted = values
      .flat()
      .filter((v) => Number.isFinite(v))
      .sort((a, b) => a - b);
    // No unit written anywhere: scene temperatures in kelvin sit well above anything plausible in °C.
    unit = sorted[sorted.length >> 1] > 200 ? 'K' : 'C';
  }
  const celsius = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = values[y];
    for (let x = 0; x < width; x++) {
      const v = row[x];
      celsius[y * width + x] = unit === 'C' ? v : unit === 'F' ? ((v - 32) * 5) / 9 : v - KELVIN_OFFSET;
    }
  }
  return {
    width,
    height,
    celsius,
    meta: {
      encoding,
      delimiter,
      decimalSeparator: decimalComma && delimiter !== ',' && hasDecimalComma(block, delimiter) ? ',' : '.',
      headerLines: headerLines.length,
      indexRow,
      indexColumn,
      unit,
      unitSource,
      quotedLines: unwrapped.quoted,
      header: headerLines.slice(0, 20),
    },
  };
}

function hasDecimalComma(block: string[][], delimiter: string): boolean {
  if (delimiter === ',') return false;
  return block.some((fields) => fields.some((f) => f.includes(',')));
}
