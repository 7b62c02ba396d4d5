/**
 * Request guards every router uses: JSON-only state changes against CSRF, the logged-in user and
 * role checks. The session lookup itself (`res.locals.user`) is installed by the users feature.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { ServiceError } from '../core/errors.ts';
import type { Role } from '../store/users.ts';
import { isJsonMediaType } from './jsonBody.ts';

export type { Role } from '../store/users.ts';

export interface SessionUser {
  username: string;
  role: Role;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * CSRF guard: state changes only as `Content-Type: application/json`. Browsers cannot send that
 * cross-site without a CORS preflight (which this server never grants), and the session cookie is
 * SameSite=Strict on top.
 */
export const requireJsonForStateChange: RequestHandler = (req, res, next) => {
  // The header itself, not `req.is()`: that answers null for an empty body, which made a JSON
  // request without a body "need application/json (got application/json)".
  const type = req.headers['content-type'];
  if (STATE_CHANGING.has(req.method) && !isJsonMediaType(type)) {
    res.status(415).json({
      error: `${req.method} ${req.baseUrl}${req.path} needs Content-Type: application/json (got ${type ? JSON.stringify(type.slice(0, 80)) : 'none'})`,
    });
    return;
  }
  next();
};

/** The logged-in user, set by `Auth.authenticate`; null when anonymous. */
export function currentUser(res: Response): SessionUser | null {
  return (res.locals.user as SessionUser | null | undefined) ?? null;
}

const ROLE_RANK: Record<Role, number> = { staff: 1, admin: 2 };

/**
 * Lets the request through when the session's role is `role` or higher (admin includes staff):
 * 401 without a session, 403 with too small a role. Needs `Auth.authenticate` earlier in the chain
 * (the users feature installs it for every /api request); without it, it refuses with 503.
 */
export function requireRole(role: Role): RequestHandler {
  return (_req, res, next) => {
    if (res.locals.authChecked !== true) {
      next(
        new ServiceError(
          'unavailable',
          'sign-in is unavailable: the users feature is not running (see /api/health)',
        ),
      );
      return;
    }
    const user = currentUser(res);
    if (!user) {
      res.status(401).json({ error: 'not logged in: POST /api/login first' });
      return;
    }
    if (ROLE_RANK[user.role] < ROLE_RANK[role]) {
      res.status(403).json({ error: `this needs the ${role} role; you are logged in as ${user.role}` });
      return;
    }
    next();
  };
}

/** `Authorization: Bearer TOKEN` against a configured token (e.g. the monitoring token), in constant time. */
export function bearerMatches(header: string | undefined, token: string | null): boolean {
  if (!token || !header?.startsWith('Bearer ')) return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(header.slice('Bearer '.length).trim()), digest(token));
}
