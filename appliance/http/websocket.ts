/**
 * WebSocket upgrades: the checks every ws endpoint makes before accepting (same origin, a session
 * with the right role), and plain-HTTP refusals that a browser or `curl -i` can read.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Role, SessionUser } from './guards.ts';
import type { HttpMount } from './httpApp.ts';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  503: 'Service Unavailable',
};

/** Answers an upgrade with an HTTP error and a JSON body `{ error }`, and closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Browsers send their page's Origin with every WebSocket; one from another site is refused (the
 * SameSite=Strict cookie already stays home, this is the second lock). Clients without an Origin
 * (ffmpeg, scripts) are not browsers and pass.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

const RANK: Record<Role, number> = { staff: 1, admin: 2 };

/**
 * The session user allowed to open this upgrade, or null after answering the refusal
 * (403 other origin, 503 no sign-in, 401 not logged in, 403 too small a role).
 */
export function authorizeUpgrade(
  http: HttpMount,
  req: IncomingMessage,
  socket: Duplex,
  role: Role,
): SessionUser | null {
  if (!sameOrigin(req)) {
    refuseUpgrade(socket, 403, 'WebSocket from another origin refused');
    return null;
  }
  const user = http.sessionUser(req);
  if (user === undefined) {
    refuseUpgrade(socket, 503, 'sign-in is unavailable: the users feature is not running (see /api/health)');
    return null;
  }
  if (user === null) {
    refuseUpgrade(socket, 401, 'not logged in: POST /api/login first');
    return null;
  }
  if (RANK[user.role] < RANK[role]) {
    refuseUpgrade(socket, 403, `this needs the ${role} role; you are logged in as ${user.role}`);
    return null;
  }
  return user;
}

/** The query of an upgrade request's URL. */
export function upgradeQuery(req: IncomingMessage): URLSearchParams {
  return new URL(req.url ?? '/', 'http://localhost').searchParams;
}

/** WebSocket close code when the session behind a stream has ended (the page goes to sign-in). */
export const SESSION_ENDED_CLOSE = 4401;

/** How often an open stream checks that its session still exists. */
export const SESSION_RECHECK_MS = 2_000;

/**
 * Ends a long-lived stream (WebSocket, MJPEG) when its session ends: the user signed out, was
 * removed or disabled, or the session expired. The upgrade's cookie is looked up again every
 * `SESSION_RECHECK_MS`; `close` runs once. Returns the function that stops watching.
 */
export function endWithSession(http: HttpMount, req: IncomingMessage, close: () => void): () => void {
  const timer = setInterval(() => {
    if (http.sessionUser(req)) return;
    clearInterval(timer);
    close();
  }, SESSION_RECHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
