/** /api/users: admins list and create users. Password hashes never leave the store. */
import { Router } from 'express';
import { currentUser, requireRole } from '../../http/guards.ts';
import { validateBody } from '../../http/validate.ts';
import type { Users } from '../../store/users.ts';
import { type Auth, NEW_USER_BODY } from './auth.ts';
import type { AuditRequest } from './index.ts';

export function userRoutes(auth: Auth, users: Users, audit: AuditRequest): Router {
  const router = Router();

  router.get('/users', requireRole('admin'), (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(
      users.all().map((user) => ({
        username: user.username,
        role: user.role,
        createdAt: user.createdAt,
        createdBy: user.createdBy,
      })),
    );
  });

  router.post('/users', requireRole('admin'), validateBody(NEW_USER_BODY), async (req, res) => {
    const user = await auth.createUser(req.body, currentUser(res)!.username);
    audit(req, currentUser(res)!.username, `user created (${user.role})`, user.username);
    res.status(201).json({
      username: user.username,
      role: user.role,
      createdAt: user.createdAt,
      createdBy: user.createdBy,
    });
  });

  return router;
}
