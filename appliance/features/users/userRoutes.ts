/**
 * /api/users: admins list, create, change (role, disabled), reset the password of and remove users;
 * /api/me/language: every user's own choice of UI language. Password hashes never leave the store.
 * Every change is audited. The appliance is never left without an enabled admin: demoting,
 * disabling or removing the last one is refused (409) with the reason.
 */
import { Router } from 'express';
import { ServiceError } from '../../core/errors.ts';
import { currentUser, requireRole } from '../../http/guards.ts';
import { validateBody } from '../../http/validate.ts';
import type { UserLanguage, UserRecord, Users } from '../../store/users.ts';
import {
  type Auth,
  CHANGE_USER_BODY,
  LANGUAGE_BODY,
  NEW_USER_BODY,
  PASSWORD_RESET_BODY,
  readCookie,
  SESSION_COOKIE,
} from './auth.ts';
import type { AuditRequest } from './index.ts';

/** What the API shows of a user: never the password hash. */
export function publicUser(user: UserRecord) {
  return {
    username: user.username,
    role: user.role,
    disabled: user.disabled === true,
    language: user.language ?? null,
    createdAt: user.createdAt,
    createdBy: user.createdBy,
    changedAt: user.changedAt ?? null,
    changedBy: user.changedBy ?? null,
  };
}

export function userRoutes(auth: Auth, users: Users, audit: AuditRequest): Router {
  const router = Router();
  const admin = requireRole('admin');

  router.get('/users', admin, (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(users.all().map(publicUser));
  });

  router.post('/users', admin, validateBody(NEW_USER_BODY), async (req, res) => {
    const user = await auth.createUser(req.body, currentUser(res)!.username);
    audit(req, currentUser(res)!.username, `user created (${user.role})`, user.username);
    res.status(201).json(publicUser(user));
  });

  router.patch('/users/:username', admin, validateBody(CHANGE_USER_BODY), async (req, res) => {
    const change = req.body as { role?: 'admin' | 'staff'; disabled?: boolean };
    if (change.role === undefined && change.disabled === undefined)
      throw new ServiceError(
        'invalid',
        'give "role" (admin or staff) or "disabled" (true or false), or both',
      );
    const username = String(req.params.username);
    const before = users.find(username);
    const actor = currentUser(res)!.username;
    const user = await auth.changeUser(username, change, actor);
    if (change.role !== undefined && before?.role !== change.role)
      audit(req, actor, `user role changed (${before?.role} → ${change.role})`, username, {
        from: before?.role,
        to: change.role,
      });
    if (change.disabled !== undefined && (before?.disabled === true) !== change.disabled)
      audit(req, actor, change.disabled ? 'user disabled' : 'user enabled', username);
    res.json(publicUser(user));
  });

  router.put('/users/:username/password', admin, validateBody(PASSWORD_RESET_BODY), async (req, res) => {
    const username = String(req.params.username);
    const actor = currentUser(res)!.username;
    const user = await auth.resetPassword(
      username,
      String(req.body.password),
      actor,
      // The admin resetting their own password stays signed in on this device.
      actor === username ? readCookie(req, SESSION_COOKIE) : null,
    );
    audit(req, actor, 'user password reset', username);
    res.json(publicUser(user));
  });

  router.delete('/users/:username', admin, async (req, res) => {
    const username = String(req.params.username);
    const actor = currentUser(res)!.username;
    await auth.removeUser(username, actor);
    audit(req, actor, 'user removed', username);
    res.status(204).end();
  });

  router.put('/me/language', validateBody(LANGUAGE_BODY), async (req, res) => {
    const me = currentUser(res);
    if (!me) {
      res.status(401).json({ error: 'not logged in: POST /api/login first' });
      return;
    }
    const language = req.body.language as UserLanguage;
    const user = await auth.setLanguage(me.username, language);
    audit(req, me.username, 'language changed', me.username, { language });
    res.json({ username: user.username, role: user.role, language: user.language ?? null });
  });

  return router;
}
