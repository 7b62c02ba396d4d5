import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { simulateRecording } from '../../appliance/cli/simulate.ts';
import { EVENTS_DB, EventStore } from '../../appliance/store/eventStore.ts';
import { tempDir } from '../helpers/tempDir.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('graceful stop', () => {
  it('SIGTERM in the middle of a burst of stored events: exits 0 within 10 s, every person closed, the store valid after a restart', async () => {
    const dir = tempDir();
    const recording = path.join(dir, 'rec');
    simulateRecording({
      out: recording,
      profile: 'simulator',
      seed: 9,
      people: 10,
      seconds: 45,
      feverRate: 0.2,
    });
    const dataDir = path.join(dir, 'data');
    const child = spawn(
      process.execPath,
      [
        'bin/canthus.js',
        'run',
        '--headless',
        '--source',
        `recording:${recording}?pace=fast`,
        '--data',
        dataDir,
      ],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, CANTHUS_LOG_LEVEL: 'debug' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stored = 0;
    let sentAt = 0;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    const hardLimit = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stored += chunk.split('\n').filter((line) => line.includes('screening event stored')).length;
      // In the middle of the burst: after a few persons were stored, long before the replay ends.
      if (stored >= 8 && sentAt === 0) {
        sentAt = Date.now();
        child.kill('SIGTERM');
      }
    });
    const { code, signal } = await exited;
    clearTimeout(hardLimit);
    expect(sentAt).toBeGreaterThan(0);
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(Date.now() - sentAt).toBeLessThan(10_000);

    const db = new Database(path.join(dataDir, EVENTS_DB), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    // Persons in view at the stop got their end event: nothing is left open.
    const open = db.prepare('SELECT count(*) AS n FROM persons WHERE final = 0').get() as { n: number };
    const persons = db.prepare('SELECT count(*) AS n FROM persons').get() as { n: number };
    db.close();
    expect(persons.n).toBeGreaterThan(0);
    expect(open.n).toBe(0);
    const reopened = EventStore.open(dataDir);
    expect(reopened.closeInterrupted()).toBe(0);
    expect(reopened.listPersons({ limit: 500 })).toHaveLength(persons.n);
    reopened.close();
  }, 60_000);
});
