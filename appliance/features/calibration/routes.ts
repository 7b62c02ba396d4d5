/**
 * /api/calibration: sessions (admin) and the history with its export (admin and staff).
 */
import { type Request, type RequestHandler, Router } from 'express';
import type { CalibrationRecord } from '../../core/records.ts';
import { csvTable } from '../../http/csv.ts';
import { HttpError } from '../../http/errors.ts';
import { currentUser, requireRole } from '../../http/guards.ts';
import { EMPTY_BODY, validateBody } from '../../http/validate.ts';
import { ACCEPTANCE, type CalibrationSessions, DURATION_LIMITS_S } from './sessions.ts';

const regionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['x', 'y', 'width', 'height'],
  properties: {
    x: { type: 'integer', minimum: 0 },
    y: { type: 'integer', minimum: 0 },
    width: { type: 'integer', minimum: 4 },
    height: { type: 'integer', minimum: 4 },
  },
};

export const SESSION_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['cameraId', 'setpointC', 'emissivity', 'durationS'],
  properties: {
    cameraId: { type: 'string', minLength: 1, maxLength: 64 },
    region: regionSchema,
    setpointC: { type: 'number', minimum: 30, maximum: 45 },
    emissivity: { type: 'number', minimum: 0.9, maximum: 1 },
    durationS: { type: 'number', minimum: DURATION_LIMITS_S.min, maximum: DURATION_LIMITS_S.max },
    toleranceC: { type: 'number', minimum: 0.01, maximum: 0.5 },
    secondReference: {
      type: 'object',
      additionalProperties: false,
      required: ['region', 'knownC'],
      properties: {
        region: regionSchema,
        knownC: { type: 'number', minimum: 10, maximum: 50 },
        emissivity: { type: 'number', minimum: 0.9, maximum: 1 },
      },
    },
  },
};

export interface CalibrationRoutesOptions {
  /** Names the appliance in export file names. */
  applianceId: string;
  /** Who did what, from where. */
  audit: (
    req: Request,
    actor: string,
    action: string,
    target: string | null,
    detail?: Record<string, unknown>,
  ) => void;
}

export function calibrationRoutes(sessions: CalibrationSessions, options: CalibrationRoutesOptions): Router {
  const router = Router();
  const admin = requireRole('admin');
  const staff = requireRole('staff');
  const noStore: RequestHandler = (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  };

  router.get('/calibration/acceptance', staff, (_req, res) => {
    res.json({ ...ACCEPTANCE, durationS: DURATION_LIMITS_S });
  });

  router.post('/calibration/sessions', admin, validateBody(SESSION_BODY), async (req, res) => {
    const view = await sessions.start(req.body, currentUser(res)!.username);
    options.audit(req, view.startedBy, 'calibration session started', view.cameraId, {
      session: view.id,
      values: view.values,
    });
    res.status(201).location(`/api/calibration/sessions/${view.id}`).json(view);
  });

  router.get('/calibration/sessions', admin, noStore, (_req, res) => {
    res.json(sessions.list());
  });

  router.get('/calibration/sessions/:id', admin, noStore, (req, res) => {
    res.json(sessions.get(String(req.params.id)));
  });

  router.post('/calibration/sessions/:id/verify', admin, validateBody(EMPTY_BODY), (req, res) => {
    const view = sessions.verify(String(req.params.id), currentUser(res)!.username);
    res.json(view);
  });

  router.post('/calibration/sessions/:id/commit', admin, validateBody(EMPTY_BODY), async (req, res) => {
    const record = await sessions.commit(String(req.params.id), currentUser(res)!.username);
    options.audit(req, record.committedBy, 'calibration committed', record.cameraId, {
      calibration: record.id,
      values: record.values,
    });
    res.status(201).json(record);
  });

  router.post('/calibration/sessions/:id/discard', admin, validateBody(EMPTY_BODY), (req, res) => {
    const view = sessions.discard(String(req.params.id), currentUser(res)!.username);
    options.audit(req, currentUser(res)!.username, 'calibration session discarded', view.cameraId, {
      session: view.id,
    });
    res.json(view);
  });

  const cameraFilter = (query: unknown): string | undefined => {
    const cameraId = (query as { cameraId?: unknown }).cameraId;
    if (cameraId === undefined) return undefined;
    if (typeof cameraId !== 'string' || !sessions.cameraIds.includes(cameraId)) {
      // Cameras removed from the configuration keep their history: any plain id is allowed.
      if (typeof cameraId !== 'string' || !/^[a-z0-9][a-z0-9-]{0,31}$/.test(cameraId)) {
        throw new HttpError(
          400,
          `invalid request: cameraId: must be a camera id such as ${sessions.cameraIds[0]}`,
        );
      }
    }
    return cameraId;
  };

  router.get('/calibration/history', staff, noStore, (req, res) => {
    const cameraId = cameraFilter(req.query);
    res.json({
      calibrations: sessions.history(cameraId),
      active: Object.fromEntries(sessions.cameraIds.map((id) => [id, sessions.active(id)?.id ?? null])),
    });
  });

  router.get('/calibration/history/export', staff, noStore, (req, res) => {
    const cameraId = cameraFilter(req.query);
    const format = req.query.format ?? 'json';
    if (format !== 'json' && format !== 'csv') {
      throw new HttpError(
        400,
        `invalid request: format: must be "json" or "csv" (got ${JSON.stringify(format)})`,
      );
    }
    const records = sessions.history(cameraId);
    const stamp = new Date().toISOString().slice(0, 10);
    const name = `${options.applianceId}-calibrations${cameraId ? `-${cameraId}` : ''}-${stamp}.${format}`;
    res.setHeader('Content-Disposition', `attachment; filename="${name}"`);
    if (format === 'csv') {
      res.type('text/csv; charset=utf-8').send(historyCsv(records));
    } else {
      res
        .type('application/json')
        .send(
          `${JSON.stringify({ applianceId: options.applianceId, exportedAt: new Date().toISOString(), calibrations: records }, null, 2)}\n`,
        );
    }
  });

  return router;
}

export const CSV_COLUMNS = [
  'id',
  'cameraId',
  'committedAt',
  'committedBy',
  'regionX',
  'regionY',
  'regionWidth',
  'regionHeight',
  'setpointC',
  'emissivity',
  'samples',
  'windowS',
  'readingC',
  'noiseC',
  'driftC',
  'offsetC',
  'correctedErrorC',
  'secondKnownC',
  'secondErrorC',
  'passed',
  'verifiedBy',
  'verifiedAt',
] as const;

/** One line per commit; RFC 4180 quoting. */
export function historyCsv(records: readonly CalibrationRecord[]): string {
  const rows = records.map((r) => {
    const f = r.figures as Record<string, unknown>;
    const second = (f.secondReference ?? null) as { knownC?: number; errorC?: number | null } | null;
    const v = r.verification as { passed?: boolean; verifiedBy?: string; verifiedAt?: string };
    const row: Record<(typeof CSV_COLUMNS)[number], unknown> = {
      id: r.id,
      cameraId: r.cameraId,
      committedAt: r.committedAt,
      committedBy: r.committedBy,
      regionX: r.values.region.x,
      regionY: r.values.region.y,
      regionWidth: r.values.region.width,
      regionHeight: r.values.region.height,
      setpointC: r.values.setpointC,
      emissivity: r.values.emissivity,
      samples: f.samples,
      windowS: f.windowS,
      readingC: f.readingC,
      noiseC: f.noiseC,
      driftC: f.driftC,
      offsetC: f.offsetC,
      correctedErrorC: f.correctedErrorC,
      secondKnownC: second?.knownC,
      secondErrorC: second?.errorC,
      passed: v.passed,
      verifiedBy: v.verifiedBy,
      verifiedAt: v.verifiedAt,
    };
    return row;
  });
  return csvTable(CSV_COLUMNS, rows);
}
