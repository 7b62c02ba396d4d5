import { defineConfig } from 'vitest/config';

// As bin/canthus.js does for the appliance: the libuv pool is sized at its first use, and test
// workers are forked from this process, so they inherit it from here. Capture, password hashing
// and file I/O share it (appliance/main.ts, threadPoolNeed).
process.env.UV_THREADPOOL_SIZE ??= '40';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Pipelines and brokers are real processes; give them room, but keep the suite bounded.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
