/**
 * /api/setup, /api/login, /api/logout, /api/me. Mount this router before every other API router
 * (after health): it installs the CSRF guard and `Auth.authenticate` for all of /api.
 */
import { Router } from 'express';
import {
  type Auth,
  currentUser,
  EMPTY_BODY,
  HttpError,
  LOGIN_BODY,
  requireJsonForStateChange,
  SETUP_BODY,
  validateBody,
} from './auth.ts';

export function authRoutes(auth: Auth): Router {
  const router = Router();
  router.use(requireJsonForStateChange);
  router.use(auth.authenticate);

  router.get('/setup', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ setupRequired: auth.setupRequired });
  });

  router.post('/setup', validateBody(SETUP_BODY), async (req, res) => {
    const user = await auth.completeSetup(req.body, req.ip ?? '');
    auth.startSession(res, user);
    res.status(201).json(user);
  });

  router.post('/login', validateBody(LOGIN_BODY), async (req, res) => {
    try {
      const user = await auth.login(req.body, req.ip ?? '');
      auth.startSession(res, user);
      res.json(user);
    } catch (error) {
      const retryAfterS = (error as { retryAfterS?: number }).retryAfterS;
      if (error instanceof HttpError && retryAfterS) res.setHeader('Retry-After', String(retryAfterS));
      throw error;
    }
  });

  router.post('/logout', validateBody(EMPTY_BODY), (req, res) => {
    auth.endSession(req, res);
    res.status(204).end();
  });

  router.get('/me', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const user = currentUser(res);
    if (!user) {
      res.status(401).json({ error: 'not logged in: POST /api/login first' });
      return;
    }
    res.json(user);
  });

  return router;
}
