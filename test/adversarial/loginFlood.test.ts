/**
 * Failed logins must never stall screening (issue 11, defect 1: 50 clients posting wrong passwords
 * for fresh usernames cut processing from 9 to 0.2–0.4 frames/s). The appliance runs the simulated
 * entrance with real scrypt costs; the attackers are another process on loopback. The per-address
 * and global failure limits are raised out of reach here, so every request gets as far as password
 * hashing and the hashing gate alone has to protect capture (the limits have their own test).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../appliance/config/load.ts';
import { type Appliance, startAppliance } from '../../appliance/main.ts';
import { tempDir, waitFor } from '../helpers/tempDir.ts';

const CLIENTS = 50;
/** The issue asks for 10 s of flood, measured against 10 s of quiet. */
const WINDOW_MS = 10_000;
const CLIENT_SCRIPT = fileURLToPath(new URL('./loginFloodClients.mjs', import.meta.url));

interface FloodResult {
  statuses: Record<string, number>;
  missingRetryAfter: number;
  errors: number;
  sample500: string | null;
}

function flood(port: number): Promise<FloodResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLIENT_SCRIPT, String(port), String(CLIENTS), String(WINDOW_MS)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), WINDOW_MS + 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out) as FloodResult);
      else reject(new Error(`flood clients exited with ${code}`));
    });
  });
}

describe('50 parallel clients posting failed logins for fresh usernames', () => {
  let appliance: Appliance;
  const processed = () => appliance.health().cameras[0].totals.processed;

  beforeAll(async () => {
    const loaded = loadConfig({ dataDir: tempDir(), port: 0 });
    loaded.config.server.host = '127.0.0.1';
    loaded.config.security.login.failuresPerAddress = 1_000_000;
    loaded.config.security.login.failuresAcrossUsers = 1_000_000;
    appliance = await startAppliance({ loaded });
    await waitFor(() => processed() >= 20, 20_000, 'the simulated entrance processing frames');
  });
  afterAll(async () => {
    await appliance?.stop();
  });

  it('leave processed frames/s within 10 %, and get only 401s and 429s with Retry-After', async () => {
    const before = processed();
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
    const quietFps = (processed() - before) / (WINDOW_MS / 1000);

    const start = processed();
    const startedAt = Date.now();
    const result = await flood(appliance.port);
    const underAttackFps = (processed() - start) / ((Date.now() - startedAt) / 1000);
    const hashing = appliance.featureStates().find((f) => f.name === 'users')?.detail?.hashing as {
      slots: number;
      peak: number;
      refused: number;
    };
    const answered = Object.values(result.statuses).reduce((a, b) => a + b, 0);
    console.log(
      `processed frames/s: ${quietFps.toFixed(2)} quiet, ${underAttackFps.toFixed(2)} under attack; ` +
        `${answered} login answers ${JSON.stringify(result.statuses)}; hashing ${JSON.stringify(hashing)}`,
    );

    expect(quietFps).toBeGreaterThan(5);
    expect(underAttackFps).toBeGreaterThanOrEqual(quietFps * 0.9);
    // Every refusal is a wrong password (401) or a fast "too many" (429), never an internal error.
    expect(Object.keys(result.statuses).sort()).toEqual(expect.arrayContaining(['401', '429']));
    expect(Object.keys(result.statuses).every((s) => s === '401' || s === '429')).toBe(true);
    expect(result.sample500).toBeNull();
    expect(result.missingRetryAfter).toBe(0);
    expect(result.errors).toBe(0);
    // The gate held: never more hashes at once than its slots, and the overflow was refused.
    expect(hashing.peak).toBeLessThanOrEqual(hashing.slots);
    expect(hashing.refused).toBeGreaterThan(0);
  });
});
