/**
 * `canthus convert FILE --csv OUT`: a radiometric thermal file → its °C matrix as CSV
 * (one line per image row, comma-separated, '.' decimal, 2 decimals, empty cell where a pixel has no reading).
 */
import { randomBytes } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import {
  loadCameraProfile,
  type ReadThermalFileOptions,
  readThermalFile,
  ThermalFileError,
  type ThermalImage,
  thermalImageSummary,
} from '../thermalFiles/index.ts';

export interface ConvertOptions {
  csv: string;
  /** Camera profile id or JSON path, for .y16 raw frames. */
  profile?: string;
  frame?: number;
}

export interface ConvertResult {
  image: ThermalImage;
  out: string;
  minC: number | null;
  maxC: number | null;
}

/** One CSV line per image row; `-0.00` is written as `0.00`, NaN (no reading) as an empty cell. */
export function celsiusMatrixCsv(celsius: Float32Array, width: number, height: number): string {
  const lines: string[] = new Array(height);
  const cells: string[] = new Array(width);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const v = celsius[row + x];
      if (Number.isNaN(v)) cells[x] = '';
      else {
        const s = v.toFixed(2);
        cells[x] = s === '-0.00' ? '0.00' : s;
      }
    }
    lines[y] = cells.join(',');
  }
  return lines.join('\n') + '\n';
}

/** Writes `text` to `file` through a temporary file in the same folder, so OUT is never half written. */
async function writeFileAtomic(file: string, text: string): Promise<void> {
  const temp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    await writeFile(temp, text, { flag: 'wx' });
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => {});
    const code = (err as NodeJS.ErrnoException).code;
    throw new ThermalFileError(file, `cannot write the CSV (${code ?? (err as Error).message})`, {
      cause: err,
    });
  }
}

export async function convertThermalFileToCsv(file: string, opts: ConvertOptions): Promise<ConvertResult> {
  if (path.resolve(opts.csv) === path.resolve(file)) {
    throw new ThermalFileError(file, '--csv must name a different file than the input');
  }
  const readOptions: ReadThermalFileOptions = {};
  if (opts.profile) readOptions.profile = await loadCameraProfile(opts.profile);
  if (opts.frame !== undefined) readOptions.frame = opts.frame;
  const image = await readThermalFile(file, readOptions);
  if (!image.radiometric || !image.celsius) {
    throw new ThermalFileError(
      file,
      `is not radiometric (${image.format}: grey levels, no temperatures), so there is no °C matrix to write; ` +
        'convert reads FLIR radiometric JPEG/FFF, radiometric TIFF, temperature-matrix CSV/TXT and .y16 with --profile',
    );
  }
  await writeFileAtomic(opts.csv, celsiusMatrixCsv(image.celsius, image.width, image.height));
  return { image, out: opts.csv, ...thermalImageSummary(image) };
}

function parseFrame(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`must be a whole number ≥ 0, got "${value}"`);
  }
  return n;
}

export function registerConvertCommand(program: Command): Command {
  return program
    .command('convert')
    .description('Write the °C matrix of a radiometric thermal file as CSV')
    .argument(
      '<file>',
      'FLIR radiometric JPEG or .fff, radiometric TIFF, temperature-matrix CSV/TXT, or .y16',
    )
    .requiredOption('--csv <out>', 'CSV file to write (one line per image row, 2 decimals)')
    .option(
      '--profile <id|path>',
      'camera profile for .y16 raw frames (id in firmware-config/cameras or a JSON path)',
    )
    .option('--frame <n>', 'frame of a multi-frame .y16 file (default 0)', parseFrame)
    .action(async function (this: Command, file: string, options: ConvertOptions) {
      try {
        const result = await convertThermalFileToCsv(file, options);
        const range =
          result.minC === null
            ? 'no valid pixels'
            : `${result.minC.toFixed(2)} to ${result.maxC!.toFixed(2)} °C`;
        process.stdout.write(
          `${result.out}: ${result.image.width}×${result.image.height} ${result.image.format}, ${range}\n`,
        );
      } catch (err) {
        // Problems with the files are the user's to fix: say what is wrong, exit 1. Anything else is a bug.
        if (err instanceof ThermalFileError) this.error(`canthus convert: ${err.message}`, { exitCode: 1 });
        throw err;
      }
    });
}
