#!/usr/bin/env node
// Each pending GStreamer pull() and bus poll holds a libuv pool thread for as long as it waits.
// The pool is sized once, on first use, so this must happen before any other module does I/O.
if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = '16';
const { register } = await import('tsx/esm/api');
register();
await import('../appliance/cli/main.ts');
