import { defineConfig } from 'vitest/config';

// As bin/canthus.js does for the appliance: the libuv pool is sized at its first use, and test
// workers are forked from this process, so they inherit it from here. Capture, password hashing
// and file I/O share it (appliance/main.ts, threadPoolNeed).
process.env.UV_THREADPOOL_SIZE ??= '40';

/**
 * Tests that measure the appliance's frame rate under load run after all others, alone: on a
 * 2-core machine another test file's CPU work would be measured instead of the appliance's.
 */
const TIMING = [
  'test/integration/cameraWorker.test.ts',
  'test/adversarial/loginFlood.test.ts',
  'test/integration/listenerIsolation.test.ts',
  'test/integration/operations.test.ts',
];

export default defineConfig({
  test: {
    // Pipelines and brokers are real processes; give them room, but keep the suite bounded.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    projects: [
      {
        extends: true,
        test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: TIMING, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        // One file at a time: each measures the appliance, not its neighbours.
        test: {
          name: 'timing',
          include: TIMING,
          sequence: { groupOrder: 1 },
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
