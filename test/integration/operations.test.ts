import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulateRecording } from '../../appliance/cli/simulate.ts';
import { FIRMWARE_CONFIG_DIR, loadConfig } from '../../appliance/config/load.ts';
import { startAppliance } from '../../appliance/main.ts';
import { tempDir, waitFor } from '../helpers/tempDir.ts';

/**
 * One Prometheus text-format sample line: name{labels} value. NaN in any letter case is valid
 * (Prometheus parses it with Go's ParseFloat); prom-client writes `Nan` for the event-loop lag
 * before its first sample.
 */
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.eE+-]+|[Nn]a[Nn]|\+Inf|-Inf)$/;

function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not Prometheus text format: ${JSON.stringify(line)}`);
    samples.set(`${match[1]}${match[2] ?? ''}`, Number(match[3]));
  }
  return samples;
}

const sum = (samples: Map<string, number>, name: string) =>
  [...samples].filter(([key]) => key === name || key.startsWith(`${name}{`)).reduce((a, [, v]) => a + v, 0);

describe('operations', () => {
  it('serves /metrics in Prometheus text format, and its counters move during a replay', async () => {
    const dir = tempDir();
    simulateRecording({
      out: path.join(dir, 'rec'),
      profile: 'simulator',
      seed: 5,
      people: 3,
      feverRate: 0.5,
    });
    const loaded = loadConfig({
      dataDir: path.join(dir, 'data'),
      port: 0,
      source: `recording:${dir}/rec?pace=fast`,
    });
    loaded.config.server.host = '127.0.0.1';
    const appliance = await startAppliance({ loaded });
    const ends: string[] = [];
    appliance.bus.on('screening', (e) => void (e.kind === 'end' && ends.push(e.decision)), { name: 'test' });
    try {
      const url = `http://127.0.0.1:${appliance.port}/metrics`;
      const before = parseMetrics(await (await fetch(url)).text());
      await appliance.finished;
      await appliance.bus.drain();
      const response = await fetch(url);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      const after = parseMetrics(await response.text());
      expect(sum(after, 'canthus_frames_processed_total')).toBeGreaterThan(
        sum(before, 'canthus_frames_processed_total'),
      );
      expect(after.get('canthus_frames_processed_total{camera="entrance-1"}')).toBe(
        appliance.cameras[0].pipeline.processed.total,
      );
      expect(ends.length).toBeGreaterThan(0);
      expect(sum(after, 'canthus_persons_screened_total')).toBe(ends.length);
      expect(after.get('canthus_store_rows{what="persons"}')).toBe(ends.length);
      expect(after.get('canthus_feature_up{feature="eventStore"}')).toBe(1);
      expect(after.has('canthus_event_loop_lag_seconds')).toBe(true);
      expect(after.has('canthus_process_resident_memory_bytes')).toBe(true);
    } finally {
      await appliance.stop();
    }
  }, 60_000);

  it('health turns degraded with the reason while processing is starved, and ok again after', async () => {
    const dataDir = tempDir();
    const profile = JSON.parse(
      readFileSync(path.join(FIRMWARE_CONFIG_DIR, 'cameras', 'simulator.json'), 'utf8'),
    );
    mkdirSync(path.join(dataDir, 'cameras'));
    writeFileSync(
      path.join(dataDir, 'cameras', 'fast-sim.json'),
      JSON.stringify({ ...profile, id: 'fast-sim', fps: 15, width: 160, height: 120 }),
    );
    writeFileSync(
      path.join(dataDir, 'config.json'),
      JSON.stringify({ cameras: [{ id: 'entrance-1', profile: 'fast-sim', source: 'simulator:?seed=3' }] }),
    );
    const appliance = await startAppliance({ loaded: loadConfig({ dataDir }), headless: true });
    try {
      await waitFor(
        () => appliance.cameras[0].pipeline.processed.total > 30 || null,
        15_000,
        'frames processed',
      );
      const problems = () => appliance.health().problems.filter((p) => p.includes('not keeping up'));
      expect(problems()).toEqual([]);
      // What a starved pipeline looks like: 120 ms of work on the frame path for every 67 ms frame.
      const off = appliance.bus.on(
        'frame',
        () => {
          const until = performance.now() + 120;
          while (performance.now() < until) {
            // burn the CPU the pipeline needs
          }
        },
        { name: 'test.starve', delivery: 'inline' },
      );
      await waitFor(() => problems().length > 0 || null, 25_000, 'degraded: not keeping up');
      expect(appliance.health().status).toBe('degraded');
      expect(problems()[0]).toMatch(
        /^camera entrance-1 is not keeping up: [\d.]+ of [\d.]+ frames\/s processed over the last 10 s$/,
      );
      off();
      await waitFor(() => problems().length === 0 || null, 25_000, 'keeping up again');
    } finally {
      await appliance.stop();
    }
  }, 70_000);
});
