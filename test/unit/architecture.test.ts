/**
 * The dependency rule of docs/architecture.md: no folder imports a folder that imports it back,
 * and `calibration/` and `appliance/core/` depend on nothing they should not.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sources(file);
    return file.endsWith('.ts') ? [file] : [];
  });
}

/** Folder → folders it imports from (relative imports only), as paths from the repository root. */
function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of [...sources(path.join(ROOT, 'appliance')), ...sources(path.join(ROOT, 'calibration'))]) {
    const from = path.relative(ROOT, path.dirname(file));
    for (const match of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const to = path.relative(ROOT, path.dirname(path.resolve(path.dirname(file), match[1])));
      if (to === from) continue;
      if (!graph.has(from)) graph.set(from, new Set());
      graph.get(from)!.add(to);
    }
  }
  return graph;
}

describe('folder dependencies', () => {
  const graph = folderGraph();

  it('has no folder that imports a folder importing it back', () => {
    const loops: string[] = [];
    for (const [a, targets] of graph)
      for (const b of targets) if (a < b && graph.get(b)?.has(a)) loops.push(`${a} <-> ${b}`);
    expect(loops).toEqual([]);
  });

  it('keeps calibration/ pure and core/ depending only on calibration/', () => {
    expect([...(graph.get('calibration') ?? [])]).toEqual([]);
    expect([...(graph.get('appliance/core') ?? [])].filter((to) => to !== 'calibration')).toEqual([]);
  });

  it('lets only the controller know the features', () => {
    const importers = [...graph].filter(
      ([from, targets]) =>
        !from.startsWith('appliance/features') &&
        [...targets].some((to) => to.startsWith('appliance/features/')),
    );
    expect(importers.map(([from]) => from)).toEqual(['appliance']);
  });
});
