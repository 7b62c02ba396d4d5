#!/usr/bin/env node
// Each pending GStreamer pull() and bus poll holds a libuv pool thread for as long as it waits.
// 40 = 8 cameras × 2 pipelines × 2 threads, plus room for file, DNS, zlib and crypto work
// (appliance/main.ts checks the need at start; password hashing runs on workers of its own).
// The pool is sized once, on first use, so this must happen before any other module does I/O.
if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = '40';
const { register } = await import('tsx/esm/api');
register();
await import('../appliance/cli/main.ts');
