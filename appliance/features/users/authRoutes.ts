/**
 * /api/setup, /api/login, /api/logout, /api/me. The users feature mounts this router first: it
 * installs `Auth.authenticate` (the session lookup) for every later /api route.
 */
import { Router } from 'express';
import { ServiceError } from '../../core/errors.ts';
import { currentUser, type SessionUser } from '../../http/guards.ts';
import { EMPTY_BODY, validateBody } from '../../http/validate.ts';
import type { Users } from '../../store/users.ts';
import { type Auth, LOGIN_BODY, SETUP_BODY } from './auth.ts';
import type { AuditRequest } from './index.ts';
import { LOGIN_LIMIT_DEFAULTS, type SignInLimits, signInRateLimits } from './loginLimits.ts';

export function authRoutes(
  auth: Auth,
  audit: AuditRequest,
  limits: SignInLimits = signInRateLimits(LOGIN_LIMIT_DEFAULTS),
  users: Users | null = null,
): Router {
  // The user's chosen UI language goes with who they are: any device applies it at sign-in.
  const withLanguage = (user: SessionUser) => ({
    ...user,
    language: users?.find(user.username)?.language ?? null,
  });
  const router = Router();
  router.use(auth.authenticate);

  router.get('/setup', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ setupRequired: auth.setupRequired });
  });

  router.post('/setup', limits.perAddress, validateBody(SETUP_BODY), async (req, res) => {
    const user = await auth.completeSetup(req.body, req.ip ?? '');
    audit(req, user.username, 'setup: first admin created', user.username);
    auth.startSession(res, user);
    res.status(201).json(user);
  });

  // Limits first: a refused request costs no validation and no hash.
  router.post('/login', limits.perAddress, limits.acrossUsers, validateBody(LOGIN_BODY), async (req, res) => {
    let user: Awaited<ReturnType<Auth['login']>>;
    try {
      user = await auth.login(req.body, req.ip ?? '');
    } catch (error) {
      // Only refusals that checked a password are audited: a flood answered "too many" must not
      // write a row per request.
      if (error instanceof ServiceError && error.kind === 'unauthenticated')
        audit(req, String(req.body.username), 'login refused');
      if (error instanceof ServiceError && error.kind === 'forbidden')
        audit(req, String(req.body.username), 'login refused (user disabled)', String(req.body.username));
      throw error;
    }
    audit(req, user.username, 'login');
    auth.startSession(res, user);
    res.json(withLanguage(user));
  });

  router.post('/logout', validateBody(EMPTY_BODY), (req, res) => {
    const user = currentUser(res);
    if (user) audit(req, user.username, 'logout');
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
    res.json(withLanguage(user));
  });

  return router;
}
