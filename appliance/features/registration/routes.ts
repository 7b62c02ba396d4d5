/**
 * /api/registration: bi-spectrum registration (visible → thermal homography) per camera.
 *   POST /registration/:cameraId/estimate  fit and judge point pairs, store nothing (admin)
 *   POST /registration/:cameraId           fit, judge, commit and put in force (admin)
 *   GET  /registration/:cameraId           the registration in force (staff)
 *   GET  /registration/:cameraId/history   every committed registration, oldest first (staff)
 */
import { type Request, type RequestHandler, Router } from 'express';
import { currentUser, requireRole } from '../../http/guards.ts';
import { validateBody } from '../../http/validate.ts';
import {
  REGISTRATION_LIMITS,
  RegistrationError,
  type RegistrationPair,
  type RegistrationService,
} from './service.ts';

const pointSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['x', 'y'],
  properties: {
    x: { type: 'number', minimum: 0, maximum: 100_000 },
    y: { type: 'number', minimum: 0, maximum: 100_000 },
  },
};

const pairsSchema = {
  type: 'array',
  minItems: REGISTRATION_LIMITS.minPairs,
  maxItems: REGISTRATION_LIMITS.maxPairs,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['visible', 'thermal'],
    properties: { visible: pointSchema, thermal: pointSchema },
  },
};

export const ESTIMATE_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['pairs'],
  properties: { pairs: pairsSchema },
};

export const COMMIT_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['pairs'],
  properties: {
    pairs: pairsSchema,
    force: { type: 'boolean', description: 'commit although the error is over the limits' },
  },
};

export function registrationRoutes(
  registrations: RegistrationService,
  audit: (
    req: Request,
    actor: string,
    action: string,
    target: string,
    detail: Record<string, unknown>,
  ) => void,
): Router {
  const router = Router();
  const admin = requireRole('admin');
  const staff = requireRole('staff');
  const noStore: RequestHandler = (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  };
  const cameraId = (req: Parameters<RequestHandler>[0]) => String(req.params.cameraId);

  router.post('/registration/:cameraId/estimate', admin, validateBody(ESTIMATE_BODY), (req, res) => {
    res.json(registrations.estimate(cameraId(req), req.body.pairs as RegistrationPair[]));
  });

  router.post('/registration/:cameraId', admin, validateBody(COMMIT_BODY), async (req, res) => {
    const body = req.body as { pairs: RegistrationPair[]; force?: boolean };
    const { record, fit } = await registrations.commit(
      cameraId(req),
      body.pairs,
      currentUser(res)!.username,
      { force: body.force === true },
    );
    audit(req, record.committedBy, 'registration committed', record.cameraId, {
      registration: record.id,
      rmsPx: record.figures.rmsPx,
      forced: record.forced,
    });
    res
      .status(201)
      .location(`/api/registration/${record.cameraId}`)
      .json({ ...record, notes: fit.notes });
  });

  router.get('/registration/:cameraId', staff, noStore, (req, res) => {
    const id = cameraId(req);
    if (!registrations.cameraIds.includes(id)) {
      throw new RegistrationError(
        'not-found',
        `unknown camera "${id}" (allowed: ${registrations.cameraIds.join(', ')})`,
      );
    }
    res.json({ cameraId: id, active: registrations.active(id) });
  });

  router.get('/registration/:cameraId/history', staff, noStore, (req, res) => {
    const id = cameraId(req);
    // Cameras removed from the configuration keep their history: any plain id is allowed.
    if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(id)) {
      throw new RegistrationError('invalid', `cameraId: "${id}" is not a camera id such as entrance-1`);
    }
    res.json({ cameraId: id, registrations: registrations.history(id) });
  });

  return router;
}
