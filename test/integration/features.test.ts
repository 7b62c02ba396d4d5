import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../appliance/config/load.ts';
import type { HealthReport } from '../../appliance/core/health.ts';
import { featureList } from '../../appliance/featureList.ts';
import type { Feature } from '../../appliance/features/feature.ts';
import { startAppliance } from '../../appliance/main.ts';
import { tempDir, waitFor } from '../helpers/tempDir.ts';

const load = (dataDir: string) => {
  const loaded = loadConfig({ dataDir, port: 0, source: 'simulator:?seed=3' });
  loaded.config.server.host = '127.0.0.1';
  // Health detail is for staff or the monitoring token; anonymous callers get liveness only.
  loaded.config.security.metricsToken = METRICS_TOKEN;
  return loaded;
};

const METRICS_TOKEN = 'features-test-metrics-token-0123456789';

/** A feature that only records when it is started and stopped. */
const recorder = (name: string, log: string[]): Feature => ({
  name,
  start: () => {
    log.push(`start:${name}`);
  },
  stop: () => {
    log.push(`stop:${name}`);
  },
});

/** A standard feature, recording its start and stop; everything else (health, report …) passes through. */
const recorded = <F extends Feature>(feature: F, log: string[]): F => ({
  ...feature,
  name: feature.name,
  async start(ctx) {
    log.push(`start:${feature.name}`);
    await feature.start(ctx);
    log.push(`started:${feature.name}`);
  },
  async stop() {
    log.push(`stop:${feature.name}`);
    await feature.stop();
  },
});

describe('features of the running appliance', () => {
  const dataDirs = [tempDir('canthus-features-'), tempDir('canthus-features-')];

  it('starts every feature in list order, one after the other, and stops them in reverse', async () => {
    const log: string[] = [];
    const standard = featureList().map((feature) => recorded(feature, log));
    const names = [...standard.map((f) => f.name), 'a', 'b'];
    expect(standard.map((f) => f.name).slice(0, 2)).toEqual(['users', 'health']);
    const appliance = await startAppliance({
      loaded: load(dataDirs[0]),
      features: [...standard, recorder('a', log), recorder('b', log)],
    });
    try {
      const starts = log.filter((entry) => entry.startsWith('start:'));
      expect(starts).toEqual(names.map((name) => `start:${name}`));
      // Each standard feature finished starting before the next began.
      for (const feature of standard) {
        expect(log.indexOf(`started:${feature.name}`)).toBe(log.indexOf(`start:${feature.name}`) + 1);
      }
      expect(log.some((entry) => entry.startsWith('stop:'))).toBe(false);
      expect(appliance.featureStates().map((f) => [f.name, f.state])).toEqual(
        names.map((name) => [name, 'running']),
      );
      // The wrapped health feature still answers.
      await waitFor(() => appliance.health().cameras[0].totals.processed > 0, 15_000, 'a processed frame');
    } finally {
      await appliance.stop();
    }
    const stops = log.filter((entry) => entry.startsWith('stop:'));
    expect(stops).toEqual([...names].reverse().map((name) => `stop:${name}`));
    expect(appliance.featureStates().every((f) => f.state === 'stopped')).toBe(true);
  });

  it('runs on without a feature whose start throws, and health names it', async () => {
    let stopped = false;
    const broken: Feature = {
      name: 'broken',
      start() {
        throw new Error('cannot open /dev/broken-device');
      },
      stop() {
        stopped = true;
      },
    };
    const log: string[] = [];
    const appliance = await startAppliance({
      loaded: load(dataDirs[1]),
      features: [...featureList(), broken, recorder('after', log)],
    });
    try {
      // The features after it still start.
      expect(log).toEqual(['start:after']);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      let health: HealthReport | null = null;
      await waitFor(
        async () => {
          const res = await request(appliance.server!)
            .get('/api/health')
            .set('Authorization', `Bearer ${METRICS_TOKEN}`)
            .expect(200);
          health = res.body as HealthReport;
          return health.cameras[0].totals.processed > 0;
        },
        15_000,
        'processed frames in /api/health',
      );
      const report = health! as HealthReport;
      expect(report.cameras[0].totals.processed).toBeGreaterThan(0);
      expect(report.cameras[0].state).toBe('online');
      expect(report.features.find((f) => f.name === 'broken')).toEqual({
        name: 'broken',
        state: 'failed',
        reason: 'cannot open /dev/broken-device',
      });
      expect(report.features.find((f) => f.name === 'after')?.state).toBe('running');
      expect(report.features.find((f) => f.name === 'eventStore')?.state).toBe('running');
      expect(report.status).toBe('degraded');
      expect(report.problems).toContain('feature broken failed: cannot open /dev/broken-device');
      expect(report.problems.filter((p) => p.includes('broken'))).toHaveLength(1);
    } finally {
      await appliance.stop();
    }
    // Never started, so never stopped.
    expect(stopped).toBe(false);
    expect(log).toEqual(['start:after', 'stop:after']);
  });
});
