/**
 * Runs a recording through the real appliance: `canthus run --source recording:DIR?pace=fast
 * --headless --events -` as a child process, with a fresh data directory, and collects the events.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScreeningEvent } from '../../appliance/core/types.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RunResult {
  exitCode: number | null;
  screening: ScreeningEvent[];
  /** Every event line, parsed. */
  lines: Record<string, unknown>[];
  stderr: string;
  wallMs: number;
}

export function runCommandLine(recordingDir: string): string[] {
  return [
    'bin/canthus.js',
    'run',
    '--source',
    `recording:${recordingDir}?pace=fast`,
    '--headless',
    '--events',
    '-',
  ];
}

/** `site`: a site configuration (DATA/config.json) for the run, e.g. `{ processing: { detectionHz: 30 } }`. */
export async function runRecording(
  recordingDir: string,
  timeoutMs = 600_000,
  site: Record<string, unknown> | null = null,
): Promise<RunResult> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'canthus-bench-data-'));
  if (site) writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify(site));
  const started = performance.now();
  try {
    const child = spawn(process.execPath, [...runCommandLine(recordingDir), '--data', dataDir], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const exitCode = await new Promise<number | null>((resolve) =>
      child.on('close', (code) => resolve(code)),
    );
    clearTimeout(timer);
    const lines: Record<string, unknown>[] = [];
    for (const line of stdout.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // Not an event line (a log line that happens to start with a brace): skip.
      }
    }
    // Pino log lines go to stdout too; event lines carry a `type`.
    const screening = lines.filter((l) => l.type === 'screening') as unknown as ScreeningEvent[];
    return { exitCode, screening, lines, stderr, wallMs: performance.now() - started };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
