/**
 * `canthus run`: the appliance. With no arguments it runs the simulated entrance and serves the UI
 * on http://localhost:8080. `--headless --events -` turns it into a batch tool: every event as a
 * JSON line on stdout, exit when the recording ends.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/load.ts';
import { log } from '../core/log.ts';
import { startAppliance } from '../main.ts';
import { parsePort } from './options.ts';

/** Longest a graceful stop (SIGTERM, SIGINT, end of a replay) may take. */
export const SHUTDOWN_LIMIT_MS = 10_000;

interface RunOptions {
  source?: string;
  config?: string;
  data?: string;
  port?: number;
  headless?: boolean;
  events?: string;
}

export function registerRunCommand(program: Command): Command {
  return program
    .command('run')
    .description('run the appliance (simulated entrance by default; UI and API on --port)')
    .option('--source <uri>', 'frame source: simulator:[?seed=N], recording:DIR, v4l2:/dev/videoN, rtsp://…')
    .option('--config <file>', 'site configuration file (default: DATA/config.json when present)')
    .option('--data <dir>', 'data directory (configuration overrides, calibration history, events)')
    .option('--port <n>', 'HTTP port for the UI and API (default 8080)', parsePort)
    .option('--headless', 'no HTTP server; for batch runs over recordings')
    .option('--events <file|->', 'write every event as one JSON line to FILE, or to stdout with -')
    .action(async (options: RunOptions) => {
      const loaded = loadConfig({
        configFile: options.config,
        dataDir: options.data,
        port: options.port,
        source: options.source,
      });
      const appliance = await startAppliance({
        loaded,
        headless: options.headless,
        eventLines: options.events,
      });
      let stopping = false;
      const shutdown = async (code: number) => {
        if (stopping) return;
        stopping = true;
        // A service manager waits for us; never longer than this. Every store write is a
        // transaction, so an exit in the middle of one loses nothing already committed.
        setTimeout(() => {
          log.error({ afterMs: SHUTDOWN_LIMIT_MS }, 'stopping took too long: exiting now');
          process.exit(code || 1);
        }, SHUTDOWN_LIMIT_MS).unref();
        await appliance.stop();
        // Pending GStreamer pulls and bus polls hold pool threads that never end on their own.
        process.exit(code);
      };
      process.once('SIGINT', () => void shutdown(0));
      process.once('SIGTERM', () => void shutdown(0));
      process.once('uncaughtException', (error) => {
        log.fatal({ err: error }, 'unexpected error; stopping');
        void shutdown(1);
      });
      if (options.headless) {
        await appliance.finished;
        const failures = appliance.failures();
        for (const failure of failures) process.stderr.write(`canthus: ${failure}\n`);
        await shutdown(failures.length ? 1 : 0);
      } else {
        void appliance.finished.then(() => log.info('all sources ended; the UI stays up (Ctrl-C to stop)'));
      }
    });
}
