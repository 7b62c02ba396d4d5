import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cameraReference, loadConfig } from '../../appliance/config/load.ts';
import { tempDir } from '../helpers/tempDir.ts';

function siteConfig(content: unknown): string {
  const file = path.join(tempDir(), 'site.json');
  writeFileSync(file, JSON.stringify(content));
  return file;
}

const REGION = { x: 220, y: 96, width: 23, height: 23 };

describe('configuration: second reference', () => {
  it('accepts a secondary 5 °C from the primary and hands it to each camera', () => {
    const { config } = loadConfig({
      dataDir: tempDir(),
      configFile: siteConfig({
        reference: { secondary: { region: REGION, setpointC: 30, emissivity: 0.98 } },
      }),
    });
    expect(config.reference.secondary).toEqual({ region: REGION, setpointC: 30, emissivity: 0.98 });
    expect(cameraReference(config, config.cameras[0]).secondary?.setpointC).toBe(30);
  });

  it('rejects a secondary set point within 3 °C of the primary, naming the field', () => {
    const file = siteConfig({
      reference: { secondary: { region: REGION, setpointC: 33, emissivity: 0.98 } },
    });
    expect(() => loadConfig({ dataDir: tempDir(), configFile: file })).toThrow(
      /\/reference\/secondary\/setpointC: 33 °C is 2\.0 °C from the primary set point 35 °C \(allowed: at least 3 °C apart/,
    );
  });

  it('checks a camera whose own primary set point comes too close to the shared secondary', () => {
    const file = siteConfig({
      reference: { secondary: { region: REGION, setpointC: 30, emissivity: 0.98 } },
      cameras: [{ id: 'gate', profile: 'simulator', source: 'simulator:', reference: { setpointC: 32 } }],
    });
    expect(() => loadConfig({ dataDir: tempDir(), configFile: file })).toThrow(
      /\/cameras\/0\/reference\/setpointC:/,
    );
  });

  it('rejects a secondary without a region and one outside the schema limits', () => {
    const noRegion = siteConfig({ reference: { secondary: { setpointC: 30, emissivity: 0.98 } } });
    expect(() => loadConfig({ dataDir: tempDir(), configFile: noRegion })).toThrow(
      /\/reference\/secondary: missing "region"/,
    );
    const tooCold = siteConfig({
      reference: { secondary: { region: REGION, setpointC: 10, emissivity: 0.98 } },
    });
    expect(() => loadConfig({ dataDir: tempDir(), configFile: tooCold })).toThrow(
      /\/reference\/secondary\/setpointC/,
    );
  });
});
