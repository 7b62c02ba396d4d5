import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cameraReference, loadConfig, loadProfiles } from '../../appliance/config/load.ts';
import { tempDir } from '../helpers/tempDir.ts';

function siteConfig(content: unknown): string {
  const dir = tempDir();
  const file = path.join(dir, 'site.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('configuration', () => {
  it('loads the defaults: the simulated entrance on port 8080, screening at 37.5 °C', () => {
    const { config, profiles } = loadConfig({ dataDir: tempDir() });
    expect(config.server.port).toBe(8080);
    expect(config.cameras[0]).toMatchObject({ profile: 'simulator', source: 'simulator:?seed=1' });
    expect(config.screening.thresholdC).toBe(37.5);
    expect([...profiles.keys()]).toEqual(
      expect.arrayContaining(['lepton35', 'infiray256', 'flir-a640', 'bispectrum-rtsp', 'simulator']),
    );
    // A camera's own blackbody settings win over the appliance-wide ones.
    expect(cameraReference(config, config.cameras[0])).toMatchObject({
      setpointC: 35,
      warmupS: 5,
      maxDriftCPerMin: 0.6,
    });
  });

  it('takes the site file from the data directory and the port from the command line', () => {
    const data = tempDir();
    writeFileSync(
      path.join(data, 'config.json'),
      JSON.stringify({ screening: { thresholdC: 37.8 }, applianceId: 'east-gate' }),
    );
    const { config, layers } = loadConfig({ dataDir: data, port: 9090 });
    expect(config.screening.thresholdC).toBe(37.8);
    expect(config.screening.retestBandC).toBe(0.3);
    expect(config.applianceId).toBe('east-gate');
    expect(config.server.port).toBe(9090);
    expect(layers.at(-1)).toBe(path.join(data, 'config.json'));
  });

  it('rejects a value out of range, naming the field, the value and what is allowed', () => {
    const file = siteConfig({ screening: { thresholdC: 42 } });
    expect(() => loadConfig({ configFile: file, dataDir: tempDir() })).toThrow(
      `invalid configuration (${file}):\n  /screening/thresholdC: must be <= 39, got 42`,
    );
  });

  it('takes a detection rate and a worker switch under processing, and refuses impossible ones', () => {
    const { config } = loadConfig({ dataDir: tempDir() });
    expect(config.processing).toEqual({ detectionHz: 10, worker: true });
    const slow = siteConfig({ processing: { detectionHz: 0.5 } });
    expect(() => loadConfig({ configFile: slow, dataDir: tempDir() })).toThrow(
      `invalid configuration (${slow}):\n  /processing/detectionHz: must be >= 1, got 0.5`,
    );
    const typo = siteConfig({ processing: { workers: 2 } });
    expect(() => loadConfig({ configFile: typo, dataDir: tempDir() })).toThrow(
      /\/processing: unknown key "workers" \(allowed: detectionHz, worker\)/,
    );
  });

  it('rejects an unknown key and lists the allowed ones', () => {
    const file = siteConfig({ screening: { treshold: 37.5 } });
    expect(() => loadConfig({ configFile: file, dataDir: tempDir() })).toThrow(
      /\/screening: unknown key "treshold" \(allowed: unit, mode, thresholdC, retestBandC, skinEmissivity, relative\)/,
    );
  });

  it('rejects a wrong enum value and a wrong type', () => {
    const file = siteConfig({ screening: { unit: 'K', mode: 3 } });
    const message = (() => {
      try {
        loadConfig({ configFile: file, dataDir: tempDir() });
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })();
    expect(message).toContain('/screening/unit: "K" is not allowed (allowed: "C", "F")');
    expect(message).toContain('/screening/mode: 3 is not allowed (allowed: "absolute", "relative")');
  });

  it('rejects an unknown camera profile and a bad source', () => {
    const unknownProfile = siteConfig({
      cameras: [{ id: 'door', profile: 'boson', source: 'v4l2:/dev/video0' }],
    });
    expect(() => loadConfig({ configFile: unknownProfile, dataDir: tempDir() })).toThrow(
      /\/cameras\/0\/profile: unknown camera profile "boson" \(allowed: .*lepton35/,
    );
    const badSource = siteConfig({ cameras: [{ id: 'door', profile: 'lepton35', source: 'usb:0' }] });
    expect(() => loadConfig({ configFile: badSource, dataDir: tempDir() })).toThrow(
      /\/cameras\/0\/source: unknown source "usb:0"/,
    );
  });

  it('says so when the site file is not JSON or does not exist', () => {
    const file = siteConfig('{ "screening": ');
    expect(() => loadConfig({ configFile: file, dataDir: tempDir() })).toThrow(/is not valid JSON/);
    expect(() => loadConfig({ configFile: '/nonexistent/site.json' })).toThrow(
      'configuration file /nonexistent/site.json does not exist',
    );
  });

  it('validates site camera profiles', () => {
    const data = tempDir();
    mkdirSync(path.join(data, 'cameras'));
    writeFileSync(
      path.join(data, 'cameras', 'door.json'),
      JSON.stringify({
        id: 'door',
        name: 'x',
        width: 160,
        height: 120,
        fps: 9,
        pixelFormat: 'GRAY8',
        radiometry: { kind: 'tlinear', resolutionK: 0.01 },
      }),
    );
    expect(() => loadProfiles(data)).toThrow(
      /door\.json\):\n(.|\n)*\/pixelFormat: "GRAY8" is not allowed \(allowed: "GRAY16_LE", "GRAY16_BE"\)/,
    );
  });
});
