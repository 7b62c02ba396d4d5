/**
 * Users and sessions: first-run setup with a one-time token, login, logout, user administration.
 * Its router is mounted first: it installs the session lookup every later route's role check needs
 * (without this feature, routes that need a role answer 503). Sign-ins, sign-outs, failed logins
 * and new users go to the audit log.
 */
import type { Request } from 'express';
import { secureCookies } from '../../http/tls.ts';
import type { Feature } from '../feature.ts';
import { Auth } from './auth.ts';
import { authRoutes } from './authRoutes.ts';
import { type SignInLimits, signInRateLimits } from './loginLimits.ts';
import { userRoutes } from './userRoutes.ts';

export function usersFeature(): Feature & { readonly auth: Auth | null } {
  let auth: Auth | null = null;
  let limits: SignInLimits | null = null;
  return {
    name: 'users',
    get auth() {
      return auth;
    },
    async start(ctx) {
      // Headless runs serve nobody: no setup token, no sessions.
      if (!ctx.http) return;
      const audit: AuditRequest = (req, actor, action, target = null, detail = {}) =>
        ctx.bus.emit('audit', { actor, action, target, from: req.ip ?? null, detail });
      const security = ctx.config.security;
      auth = new Auth({
        store: ctx.stores,
        secureCookies: secureCookies(ctx.config),
        setupTokenTtlMs: security.setupTokenTtlMin * 60_000,
        hashing: { slots: security.login.hashConcurrency, queue: security.login.hashQueue },
      });
      limits = signInRateLimits(security.login);
      await auth.prepareFirstRun();
      const sessions = auth;
      ctx.http.setSessionLookup((req) => sessions.userOf(req));
      ctx.http.api.use(authRoutes(auth, audit, limits, ctx.stores.users));
      ctx.http.api.use(userRoutes(auth, ctx.stores.users, audit));
    },
    async stop() {
      limits?.shutdown();
      await auth?.close();
    },
    health() {
      return auth ? { hashing: auth.hashingStats() } : {};
    },
  };
}

export type AuditRequest = (
  req: Request,
  actor: string,
  action: string,
  target?: string | null,
  detail?: Record<string, unknown>,
) => void;
