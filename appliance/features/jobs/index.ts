/**
 * Scheduled jobs (node-cron): the retention purge and store maintenance, on `retention.schedule`
 * (nightly by default), and a disk guard every minute. Personal data is kept only as long as
 * configured: persons (readings, decisions, alerts, outbox rows) `eventsDays`, snapshots
 * `snapshotsDays`, the audit log `auditDays`. When free disk in the data folder drops below
 * `minFreeDiskMB`, the oldest snapshots go first (readings stay).
 *
 * A job never overlaps itself (a run still going when the next is due is skipped and counted); each
 * logs its outcome and shows its last run in health.
 */
import { statfs, unlink } from 'node:fs/promises';
import path from 'node:path';
import cron, { type ScheduledTask } from 'node-cron';
import type { Feature, FeatureContext } from '../feature.ts';

const DAY_MS = 24 * 3600_000;
/** Snapshots released per disk-guard round while the disk stays low. */
const DISK_GUARD_BATCH = 200;

export interface JobRun {
  startedAt: string;
  durationMs: number;
  ok: boolean;
  /** What it did, or why it failed. */
  outcome: string;
}

interface Job {
  name: string;
  running: boolean;
  runs: number;
  skipped: number;
  last: JobRun | null;
  run(): Promise<string>;
}

export interface JobsOptions {
  now?: () => number;
  /** Free bytes in a folder (statfs); replaceable in tests. */
  freeDiskBytes?: (dir: string) => Promise<number>;
  /** Snapshots released per disk-guard round. */
  diskGuardBatch?: number;
}

export function jobsFeature(options: JobsOptions = {}): Feature & {
  /** Runs a job now (as its schedule would): for tests and for an admin's "run now". */
  runNow(name: string): Promise<JobRun | null>;
} {
  const now = options.now ?? Date.now;
  const freeDiskBytes =
    options.freeDiskBytes ??
    (async (dir: string) => {
      const stats = await statfs(dir);
      return stats.bavail * stats.bsize;
    });
  const batch = options.diskGuardBatch ?? DISK_GUARD_BATCH;
  const jobs = new Map<string, Job>();
  const tasks: ScheduledTask[] = [];
  let ctx: FeatureContext | null = null;
  let offSettings: (() => void) | null = null;

  const define = (name: string, run: () => Promise<string>): Job => {
    const job: Job = { name, running: false, runs: 0, skipped: 0, last: null, run };
    jobs.set(name, job);
    return job;
  };

  const execute = async (job: Job): Promise<JobRun | null> => {
    if (job.running) {
      job.skipped++;
      ctx?.log.warn({ job: job.name }, 'job still running from its last start: this run is skipped');
      return null;
    }
    job.running = true;
    const started = now();
    try {
      const outcome = await job.run();
      job.last = {
        startedAt: new Date(started).toISOString(),
        durationMs: now() - started,
        ok: true,
        outcome,
      };
      ctx?.log.info({ job: job.name, outcome, durationMs: job.last.durationMs }, 'job done');
    } catch (error) {
      const outcome = (error as Error).message;
      job.last = {
        startedAt: new Date(started).toISOString(),
        durationMs: now() - started,
        ok: false,
        outcome,
      };
      ctx?.log.error({ job: job.name, err: error }, 'job failed');
    } finally {
      job.runs++;
      job.running = false;
    }
    return job.last;
  };

  return {
    name: 'jobs',
    start(context) {
      ctx = context;
      const events = context.stores.events;
      // Days and the disk floor follow the settings page from the next run; the schedule needs a restart.
      let retention = context.config.retention;
      offSettings = context.bus.on(
        'settings.changed',
        (event) => {
          retention = event.retention;
        },
        { name: 'jobs.settings' },
      );
      const removeSnapshots = async (files: readonly string[]) => {
        let removed = 0;
        for (const file of files) {
          try {
            await unlink(path.join(events.snapshotsDir, path.basename(file)));
            removed++;
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
          }
        }
        return removed;
      };
      const retentionJob = define('retention', async () => {
        const t = now();
        const result = events.purge({
          persons: t - retention.eventsDays * DAY_MS,
          snapshots: t - retention.snapshotsDays * DAY_MS,
          audit: t - (retention.auditDays ?? 365) * DAY_MS,
        });
        const files = await removeSnapshots(result.snapshotFiles);
        events.maintain();
        return `removed ${result.persons} persons, ${files} snapshot files, ${result.audit} audit entries, ${result.outbox} outbox rows; store optimised and checkpointed`;
      });
      const diskJob = define('diskGuard', async () => {
        const minFreeBytes = (retention.minFreeDiskMB ?? 0) * 1024 * 1024;
        const free = () => freeDiskBytes(context.stores.dataDir);
        let released = 0;
        while ((await free()) < minFreeBytes) {
          const files = events.releaseOldestSnapshots(batch);
          if (files.length === 0) break;
          released += await removeSnapshots(files);
        }
        const freeMB = Math.round((await free()) / 1024 / 1024);
        if (freeMB * 1024 * 1024 < minFreeBytes)
          return `free disk ${freeMB} MB is below ${retention.minFreeDiskMB} MB and no snapshot is left to delete`;
        return released > 0
          ? `deleted the ${released} oldest snapshot files; ${freeMB} MB free`
          : `${freeMB} MB free`;
      });
      tasks.push(
        cron.schedule(retention.schedule, () => void execute(retentionJob), { name: 'retention' }),
        cron.schedule('* * * * *', () => void execute(diskJob), { name: 'diskGuard' }),
      );
    },
    async stop() {
      offSettings?.();
      for (const task of tasks.splice(0)) await task.destroy();
      // Let a run in progress finish: it holds the store.
      for (let i = 0; i < 100 && [...jobs.values()].some((job) => job.running); i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
    },
    health() {
      const detail: Record<string, unknown> = {};
      let problem: string | null = null;
      for (const job of jobs.values()) {
        detail[job.name] = { runs: job.runs, skipped: job.skipped, running: job.running, last: job.last };
        if (job.last && !job.last.ok) problem = `job ${job.name} failed: ${job.last.outcome}`;
        else if (job.name === 'diskGuard' && job.last?.outcome.includes('below')) problem = job.last.outcome;
      }
      return { problem, ...detail };
    },
    runNow(name) {
      const job = jobs.get(name);
      if (!job) throw new Error(`no job "${name}" (jobs: ${[...jobs.keys()].join(', ')})`);
      return execute(job);
    },
  };
}
