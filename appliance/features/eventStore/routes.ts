/**
 * The screening record for staff:
 *   GET /api/events            persons screened, newest first; filters, cursor pagination (limit ≤ 500)
 *   GET /api/events/:id        one person, with snapshot URLs
 *   GET /api/events/:id/snapshot.jpg|png   the rendered image / the radiometric crop
 *   GET /api/events.csv        the same rows as /api/events with the same filters (shift report)
 *   GET /api/stats/today       today's readings (0.1 °C bins) and persons per hour, free disk (?day=YYYY-MM-DD)
 * Every query parameter is checked; a bad one gets a 400 naming it, the value and what is allowed.
 */
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { type Request, Router } from 'express';
import { ServiceError } from '../../core/errors.ts';
import type { Decision } from '../../core/types.ts';
import { csvTable } from '../../http/csv.ts';
import { requireRole } from '../../http/guards.ts';
import { readQuery, ULID_PATTERN } from '../../http/query.ts';
import type { EventStore, PersonFilter, PersonRecord } from '../../store/eventStore.ts';

export const MAX_LIMIT = 500;
const DEFAULT_LIMIT = 100;
/** A CSV export covers at most this many persons (a shift at a busy entrance is far fewer). */
export const CSV_MAX_ROWS = 20_000;
const DECISIONS: readonly Decision[] = ['normal', 'elevated', 'retest', 'invalid'];
const PARAMETERS = ['from', 'to', 'camera', 'decision', 'acknowledged', 'cursor', 'limit'] as const;

function invalid(message: string): ServiceError {
  return new ServiceError('invalid', message);
}

/** The filter a request asks for; throws a clear refusal for anything else. */
export function parseFilter(query: Request['query'], defaultLimit = DEFAULT_LIMIT): PersonFilter {
  const read = readQuery(query, PARAMETERS);
  const filter: PersonFilter = { limit: read.limit('limit', MAX_LIMIT) ?? defaultLimit };
  Object.assign(filter, read.window('from', 'to'));
  filter.cameraId = read.cameraId('camera');
  const decision = read.text('decision');
  if (decision !== undefined) {
    const decisions = decision.split(',');
    for (const d of decisions) {
      if (!(DECISIONS as readonly string[]).includes(d))
        throw invalid(
          `decision: must be one or more of ${DECISIONS.join(', ')}, comma-separated (got ${JSON.stringify(d)})`,
        );
    }
    filter.decisions = decisions as Decision[];
  }
  filter.acknowledged = read.boolean('acknowledged');
  const cursor = read.text('cursor');
  if (cursor !== undefined) {
    if (!ULID_PATTERN.test(cursor)) throw invalid('cursor: must be the nextCursor of a previous page');
    filter.before = cursor;
  }
  return filter;
}

const withLinks = (person: PersonRecord) => ({
  ...person,
  snapshotUrls: {
    image: person.snapshot.image ? `/api/events/${person.id}/snapshot.jpg` : null,
    thermal: person.snapshot.thermal ? `/api/events/${person.id}/snapshot.png` : null,
  },
});

export const CSV_COLUMNS = [
  'id',
  'cameraId',
  'firstAt',
  'lastAt',
  'decision',
  'estimatedCoreC',
  'skinC',
  'display',
  'reasons',
  'reasonCodes',
  'goodFrames',
  'calibrationId',
  'referenceOffsetC',
  'referenceState',
  'alertAcknowledged',
  'alertAcknowledgedBy',
  'alertOutcome',
  'clinicalC',
] as const;

export function personsCsv(persons: readonly PersonRecord[]): string {
  return csvTable(
    CSV_COLUMNS,
    persons.map((p) => ({
      id: p.id,
      cameraId: p.cameraId,
      firstAt: p.firstAt,
      lastAt: p.lastAt,
      decision: p.decision,
      estimatedCoreC: p.estimatedCoreC,
      skinC: p.skinC,
      display: p.display,
      reasons: p.reasons,
      reasonCodes: p.reasonCodes,
      goodFrames: p.goodFrames,
      calibrationId: p.calibrationId,
      referenceOffsetC: p.reference.offsetC,
      referenceState: p.reference.state,
      alertAcknowledged: p.alert ? p.alert.acknowledged : null,
      alertAcknowledgedBy: p.alert?.acknowledgedBy,
      alertOutcome: p.alert?.outcome,
      clinicalC: p.alert?.clinicalC,
    })),
  );
}

export function eventRoutes(events: EventStore, applianceId: string): Router {
  const router = Router();
  const staff = requireRole('staff');

  router.get('/events', staff, (req, res) => {
    const filter = parseFilter(req.query);
    const persons = events.listPersons(filter);
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      events: persons.map(withLinks),
      nextCursor: persons.length === filter.limit ? persons[persons.length - 1].id : null,
    });
  });

  router.get('/events.csv', staff, (req, res) => {
    const filter = parseFilter(req.query, CSV_MAX_ROWS);
    if (req.query.limit === undefined) filter.limit = CSV_MAX_ROWS;
    const persons = events.listPersons(filter);
    const stamp = new Date().toISOString().slice(0, 10);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Disposition', `attachment; filename="${applianceId}-screening-${stamp}.csv"`);
    res.type('text/csv; charset=utf-8').send(personsCsv(persons));
  });

  const person = (id: string): PersonRecord => {
    if (!ULID_PATTERN.test(id)) throw invalid(`id: "${id}" is not an event id`);
    const found = events.person(id);
    if (!found)
      throw new ServiceError('not-found', `no screened person ${id} (or it was removed by retention)`);
    return found;
  };

  router.get('/events/:id', staff, (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(withLinks(person(String(req.params.id))));
  });

  router.get('/events/:id/snapshot.:format', staff, (req, res) => {
    const found = person(String(req.params.id));
    const format = String(req.params.format);
    if (format !== 'jpg' && format !== 'png') throw invalid('snapshot: must be snapshot.jpg or snapshot.png');
    const file = format === 'jpg' ? found.snapshot.image : found.snapshot.thermal;
    if (!file) throw new ServiceError('not-found', `person ${found.id} has no snapshot`);
    res.setHeader('Cache-Control', 'private, max-age=3600');
    res.sendFile(path.join(events.snapshotsDir, path.basename(file)));
  });

  // Today's readings and persons per hour (the health page's charts), and the disk they live on.
  router.get('/stats/today', staff, async (req, res) => {
    for (const key of Object.keys(req.query))
      if (key !== 'day') throw invalid(`unknown parameter "${key}" (allowed: day)`);
    const day = req.query.day;
    let start: Date;
    if (day === undefined) {
      start = new Date();
      start.setHours(0, 0, 0, 0);
    } else {
      const match = typeof day === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(day) : null;
      start = match
        ? new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]))
        : new Date(Number.NaN);
      if (!match || start.getDate() !== Number(match[3]))
        throw invalid(
          `day: must be a date as YYYY-MM-DD, e.g. 2026-03-01 (got ${JSON.stringify(day).slice(0, 40)})`,
        );
    }
    // The appliance's local day: midnight to midnight (23 or 25 hours across a clock change).
    const end = new Date(start);
    end.setDate(end.getDate() + 1);
    const stats = events.dayStats(start.getTime(), end.getTime());
    const disk = await statfs(path.dirname(events.snapshotsDir)).catch(() => null);
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      ...stats,
      diskFreeMB: disk ? Math.round((disk.bavail * disk.bsize) / 1024 / 1024) : null,
    });
  });

  // The audit log: who did what, from where (admins; it names staff and their actions).
  router.get('/audit', requireRole('admin'), (req, res) => {
    for (const key of Object.keys(req.query))
      if (key !== 'limit' && key !== 'cursor')
        throw invalid(`unknown parameter "${key}" (allowed: limit, cursor)`);
    const limit = req.query.limit === undefined ? DEFAULT_LIMIT : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
      throw invalid(
        `limit: must be a whole number from 1 to ${MAX_LIMIT} (got ${JSON.stringify(req.query.limit)})`,
      );
    const cursor = req.query.cursor;
    if (cursor !== undefined && (typeof cursor !== 'string' || !ULID_PATTERN.test(cursor)))
      throw invalid('cursor: must be the nextCursor of a previous page');
    const entries = events.auditEntries({ limit, before: cursor as string | undefined });
    res.setHeader('Cache-Control', 'no-store');
    res.json({ entries, nextCursor: entries.length === limit ? entries[entries.length - 1].id : null });
  });

  return router;
}
