import { describe, expect, it } from 'vitest';
import { formatDuration, Progress } from '../../appliance/cli/progress.ts';

function fakeStream(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns: 120, write: (c: string) => chunks.push(c) } };
}

describe('Progress', () => {
  it('writes nothing at all to a stream that is not a terminal', () => {
    const { chunks, stream } = fakeStream(false);
    let t = 0;
    const p = new Progress('simulate', 100, { stream, now: () => t, intervalMs: 0 });
    for (let i = 1; i <= 100; i++) {
      t += 10;
      p.update(i);
    }
    p.finish();
    expect(p.enabled).toBe(false);
    expect(chunks).toEqual([]);
  });

  it('draws percent, count and the time left on a terminal, in place, and clears it at the end', () => {
    const { chunks, stream } = fakeStream(true);
    let t = 0;
    const p = new Progress('simulate', 200, { stream, now: () => t, intervalMs: 0 });
    t = 10_000;
    p.update(50);
    const last = chunks.at(-1)!;
    expect(last.startsWith('\r')).toBe(true);
    expect(last).not.toContain('\n');
    expect(last).toContain(' 25% 50/200');
    // 50 in 10 s: 150 more take 30 s.
    expect(last).toContain('ETA 30s');
    p.finish();
    expect(chunks.at(-1)).toBe('\r\x1b[2K');
  });

  it('throttles redraws', () => {
    const { chunks, stream } = fakeStream(true);
    let t = 0;
    const p = new Progress('x', 1000, { stream, now: () => t, intervalMs: 250 });
    for (let i = 1; i <= 1000; i++) {
      t += 1;
      p.update(i);
    }
    // 1000 ms of updates at one redraw per 250 ms.
    expect(chunks.length).toBeLessThanOrEqual(5);
    expect(chunks.length).toBeGreaterThanOrEqual(3);
  });

  it('formats durations', () => {
    expect(formatDuration(4_400)).toBe('4s');
    expect(formatDuration(95_000)).toBe('1m35s');
    expect(formatDuration(3_725_000)).toBe('1h02m');
  });
});
