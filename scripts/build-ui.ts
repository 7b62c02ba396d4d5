/**
 * Builds the web UI: ui/src/*.ts (vanilla TypeScript) → ui/dist/*.js, bundled and minified by
 * esbuild, offline. Run by scripts/setup.sh (run and test) and by the browser test; ui/dist is not
 * committed. Prints the shipped size (what a phone on 5G downloads for the UI's code).
 *   node bin/run-ts.js scripts/build-ui.ts
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PAGES = [
  'live',
  'alerts',
  'visitor',
  'login',
  'calibrate',
  'registration',
  'settings',
  'health',
  'users',
];

export interface UiBuild {
  files: { file: string; bytes: number; gzipBytes: number }[];
  bytes: number;
  gzipBytes: number;
}

export async function buildUi(): Promise<UiBuild> {
  const outdir = path.join(ROOT, 'ui/dist');
  rmSync(outdir, { recursive: true, force: true });
  const entryPoints = PAGES.map((page) => path.join(ROOT, 'ui/src', `${page}.ts`)).filter((file) => {
    try {
      readFileSync(file);
      return true;
    } catch {
      return false;
    }
  });
  const result = await build({
    entryPoints,
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  const files = Object.keys(result.metafile.outputs).map((file) => {
    const data = readFileSync(path.resolve(ROOT, file));
    return {
      file: path.relative(ROOT, path.resolve(ROOT, file)),
      bytes: data.length,
      gzipBytes: gzipSync(data).length,
    };
  });
  // uPlot (charts) is bundled into the calibration page only.
  const css = readFileSync(path.join(ROOT, 'ui/app.css'));
  files.push({ file: 'ui/app.css', bytes: css.length, gzipBytes: gzipSync(css).length });
  return {
    files,
    bytes: files.reduce((sum, f) => sum + f.bytes, 0),
    gzipBytes: files.reduce((sum, f) => sum + f.gzipBytes, 0),
  };
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  const built = await buildUi();
  console.error(
    `canthus setup: UI built: ${built.files.length} files, ${(built.bytes / 1024).toFixed(1)} KiB (${(built.gzipBytes / 1024).toFixed(1)} KiB gzipped)`,
  );
}
