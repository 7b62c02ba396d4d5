import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { estimateLine, estimateRecord, runEstimate } from '../../appliance/cli/estimate.ts';
import { loadSkinCoreModel } from '../../appliance/config/skinCoreModel.ts';
import { constantOffsetModel } from '../../calibration/skinCore.ts';

const model = constantOffsetModel(1.25);
const settings = { thresholdC: 37.5, retestBandC: 0.3 };

describe('estimateLine', () => {
  it('estimates core and decides with the active threshold', () => {
    expect(JSON.parse(estimateLine('{"canthusC": 35.4}', model, settings))).toEqual({
      estimatedCoreC: 36.65,
      decision: 'normal',
      threshold: 37.5,
    });
    expect(
      JSON.parse(estimateLine('{"canthusC": 36.25, "ambientC": 22, "distanceM": 0.8}', model, settings)),
    ).toEqual({
      estimatedCoreC: 37.5,
      decision: 'elevated',
      threshold: 37.5,
    });
    expect(JSON.parse(estimateLine('{"canthusC": 36.0}', model, settings)).decision).toBe('retest');
    expect(
      JSON.parse(estimateLine('{"canthusC": 36.0}', model, { thresholdC: 37.5, retestBandC: 0 })).decision,
    ).toBe('normal');
  });

  it('answers malformed lines with an error line naming the line, the problem and what is allowed', () => {
    const error = (line: string, n = 3) => JSON.parse(estimateLine(line, model, settings, n)).error as string;
    expect(error('{"canthusC": "abc"}')).toBe(
      'line 3: canthusC must be a number between 25 and 45, got "abc"',
    );
    expect(error('{"canthusC": 51}')).toBe('line 3: canthusC must be a number between 25 and 45, got 51');
    expect(error('{"faceMaxC": 36}')).toBe('line 3: canthusC is required: a number between 25 and 45');
    expect(error('{"canthusC": 36, "tempF": 98}')).toMatch(
      /^line 3: unknown key "tempF"; allowed: canthusC, faceMaxC/,
    );
    expect(error('{"canthusC": 36, "humidityPct": 3021.1}')).toMatch(
      /humidityPct must be a number between 0 and 100/,
    );
    expect(error('canthus 36')).toMatch(/^line 3: not valid JSON \(/);
    expect(error('[36]')).toMatch(/expected a JSON object/);
    expect(estimateRecord('nope', model, settings).ok).toBe(false);
  });
});

describe('runEstimate', () => {
  it('writes one line per input line, keeps going after errors and counts them', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const chunks: string[] = [];
    output.on('data', (c) => chunks.push(String(c)));
    const done = runEstimate(input, output, model, settings);
    input.end('{"canthusC": 35.0}\r\n\n{"canthusC": "abc"}\n{"canthusC": 36.5}\n');
    expect(await done).toEqual({ lines: 3, failed: 1 });
    const lines = chunks
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { estimatedCoreC: 36.25, decision: 'normal', threshold: 37.5 },
      { error: 'line 3: canthusC must be a number between 25 and 45, got "abc"' },
      { estimatedCoreC: 37.75, decision: 'elevated', threshold: 37.5 },
    ]);
  });

  it('loads the shipped model file', () => {
    const shipped = loadSkinCoreModel();
    expect(shipped.canthusSlope).toBe(1);
    expect(() => loadSkinCoreModel('/nonexistent/model.json')).toThrow(/cannot read the skin-core model/);
  });
});

describe('canthus estimate (the command)', () => {
  it('answers normal or elevated per line, an error line for bad input, and exits 1', () => {
    const input = [
      '{"canthusC": 35.6, "ambientC": 22}',
      'not json',
      '{"canthusC": 36.6}',
      '{"canthusC": "abc"}',
      '{"canthusC": 36.1}',
    ].join('\n');
    const run = spawnSync(process.execPath, ['bin/canthus.js', 'estimate'], { input, encoding: 'utf8' });
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatchObject({ decision: 'normal', threshold: 37.5 });
    expect(lines[0].estimatedCoreC).toBeCloseTo(35.6 + 1.26, 1);
    expect(lines[1].error).toMatch(/^line 2: /);
    expect(lines[2]).toMatchObject({ decision: 'elevated', threshold: 37.5 });
    expect(lines[3].error).toMatch(/line 4: canthusC must be a number/);
    // No retest band unless asked for: the command answers the threshold question.
    expect(lines[4].decision).toBe('normal');
    expect(Object.keys(lines[0]).sort()).toEqual(['decision', 'estimatedCoreC', 'threshold']);
    expect(run.status).toBe(1);
  });
});
