/**
 * The API described for integrators (OpenAPI 3.1), served at GET /api/openapi.json (no sign-in: it
 * holds no data). Request bodies
 * reference the same JSON schemas the routes validate with, so the document cannot drift from the
 * checks. WebSockets, which OpenAPI does not model, are listed under `x-websockets`.
 */
import { VERSION } from '../../core/version.ts';
// The only feature that reads other features' modules: their body schemas, so the document is the
// validation itself. It calls nothing in them.
import { ACKNOWLEDGE_BODY } from '../alerts/index.ts';
import { SESSION_BODY } from '../calibration/routes.ts';
import { COMMIT_BODY, ESTIMATE_BODY } from '../registration/routes.ts';
import { SETTINGS_BODY } from '../settings/settings.ts';
import {
  CHANGE_USER_BODY,
  LANGUAGE_BODY,
  LOGIN_BODY,
  NEW_USER_BODY,
  PASSWORD_RESET_BODY,
  SETUP_BODY,
} from '../users/auth.ts';

type Operation = { summary: string; role?: 'staff' | 'admin' | 'none'; body?: object; query?: string[] };

const OPERATIONS: Record<string, Partial<Record<'get' | 'post' | 'put' | 'patch' | 'delete', Operation>>> = {
  '/setup': {
    get: { summary: 'Whether first-run setup is still needed', role: 'none' },
    post: { summary: 'Create the first admin with the one-time setup token', role: 'none', body: SETUP_BODY },
  },
  '/login': { post: { summary: 'Sign in (sets the session cookie)', role: 'none', body: LOGIN_BODY } },
  '/logout': { post: { summary: 'Sign out', role: 'none', body: {} } },
  '/me': { get: { summary: 'The signed-in user, with their chosen UI language', role: 'none' } },
  '/me/language': {
    put: {
      summary: "Save the signed-in user's UI language (applied at sign-in on any device)",
      role: 'staff',
      body: LANGUAGE_BODY,
    },
  },
  '/users': {
    get: { summary: 'Users (never a password hash)', role: 'admin' },
    post: { summary: 'Create a user', role: 'admin', body: NEW_USER_BODY },
  },
  '/users/{username}': {
    patch: {
      summary:
        'Change a role or disable / enable a user (409 when it would leave no enabled admin; a disabled user is signed out)',
      role: 'admin',
      body: CHANGE_USER_BODY,
    },
    delete: {
      summary: 'Remove a user: their sessions end at once (409 for the last enabled admin)',
      role: 'admin',
    },
  },
  '/users/{username}/password': {
    put: {
      summary: "Reset a user's password (password policy); their other sessions end",
      role: 'admin',
      body: PASSWORD_RESET_BODY,
    },
  },
  '/health': { get: { summary: 'Cameras, reference, frames per second, features, listeners', role: 'none' } },
  '/events': {
    get: {
      summary: 'Persons screened, newest first',
      role: 'staff',
      query: ['from', 'to', 'camera', 'decision', 'acknowledged', 'cursor', 'limit'],
    },
  },
  '/events.csv': { get: { summary: 'The same rows as CSV (shift report)', role: 'staff' } },
  '/events/{id}': { get: { summary: 'One person, with snapshot URLs', role: 'staff' } },
  '/events/{id}/snapshot.{format}': {
    get: { summary: 'Rendered JPEG (jpg) or radiometric PNG (png)', role: 'staff' },
  },
  '/alerts': {
    get: {
      summary: 'Alerts: open first, then acknowledged',
      role: 'staff',
      query: ['acknowledged', 'camera', 'from', 'to', 'limit'],
    },
  },
  '/alerts/{id}/acknowledge': {
    post: {
      summary: 'Record the secondary check of an alert (once; 409 after)',
      role: 'staff',
      body: ACKNOWLEDGE_BODY,
    },
  },
  '/settings': {
    get: {
      summary: 'Site settings in force (admin: also the file, pending restarts, uplink without secrets)',
      role: 'staff',
    },
    put: {
      summary: 'Change site settings (checked by the configuration schema; says what needs a restart)',
      role: 'admin',
      body: SETTINGS_BODY,
    },
  },
  '/stats/today': {
    get: {
      summary: "A day's readings (0.1 °C bins) and persons per hour, and free disk; today by default",
      role: 'staff',
      query: ['day'],
    },
  },
  '/audit': { get: { summary: 'The audit log, newest first', role: 'admin', query: ['limit', 'cursor'] } },
  '/cameras': {
    get: {
      summary:
        'Cameras (sizes, bi-spectrum, registered, the views offered), video palettes, whether visible images are allowed',
      role: 'staff',
    },
  },
  '/cameras/{id}/mjpeg': {
    get: {
      summary:
        'Annotated live video as MJPEG (multipart/x-mixed-replace); view visible or blend for bi-spectrum cameras where the site allows visible images (uplink.snapshot thermal+visible; 400 thermal-only camera, 403 not allowed, 409 blend without registration)',
      role: 'staff',
      query: ['palette', 'range', 'view'],
    },
  },
  '/cameras/{id}/still': {
    get: {
      summary:
        "One unannotated JPEG of the camera's next frame, thermal or visible (for marking registration points)",
      role: 'admin',
      query: ['view'],
    },
  },
  '/calibration/acceptance': { get: { summary: 'The acceptance limits of a calibration', role: 'staff' } },
  '/calibration/sessions': {
    get: { summary: 'Calibration sessions', role: 'admin' },
    post: { summary: 'Start measuring the blackbody', role: 'admin', body: SESSION_BODY },
  },
  '/calibration/sessions/{id}': {
    get: { summary: 'A session: progress, figures, verification', role: 'admin' },
  },
  '/calibration/sessions/{id}/verify': {
    post: { summary: 'Check the figures against the limits', role: 'admin', body: {} },
  },
  '/calibration/sessions/{id}/commit': {
    post: { summary: 'Commit a verified calibration', role: 'admin', body: {} },
  },
  '/calibration/sessions/{id}/discard': { post: { summary: 'Discard a session', role: 'admin', body: {} } },
  '/calibration/history': { get: { summary: 'Committed calibrations', role: 'staff', query: ['cameraId'] } },
  '/calibration/history/export': {
    get: { summary: 'History as JSON or CSV', role: 'staff', query: ['cameraId', 'format'] },
  },
  '/registration/{cameraId}': {
    get: { summary: 'The registration in force (bi-spectrum)', role: 'staff' },
    post: { summary: 'Commit a visible → thermal registration', role: 'admin', body: COMMIT_BODY },
  },
  '/registration/{cameraId}/estimate': {
    post: {
      summary: 'Estimate a registration from point pairs: the error per pair and overall (nothing stored)',
      role: 'admin',
      body: ESTIMATE_BODY,
    },
  },
  '/registration/{cameraId}/history': { get: { summary: 'Registration history', role: 'staff' } },
};

const ROLE_TEXT = {
  none: 'No sign-in needed.',
  staff: 'Needs a staff or admin session (401 without, 403 with too small a role).',
  admin: 'Needs an admin session (401 without, 403 for staff).',
};

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const [path, methods] of Object.entries(OPERATIONS)) {
    const item: Record<string, unknown> = {};
    for (const [method, op] of Object.entries(methods)) {
      item[method] = {
        summary: op.summary,
        description: ROLE_TEXT[op.role ?? 'staff'],
        ...(op.role !== 'none' ? { security: [{ session: [] }] } : {}),
        parameters: [
          ...[...path.matchAll(/\{(\w+)\}/g)].map((m) => ({
            name: m[1],
            in: 'path',
            required: true,
            schema: { type: 'string' },
          })),
          ...(op.query ?? []).map((name) => ({
            name,
            in: 'query',
            required: false,
            schema: { type: 'string' },
          })),
        ],
        ...(op.body
          ? { requestBody: { required: true, content: { 'application/json': { schema: op.body } } } }
          : {}),
        responses: {
          '200': { description: 'OK' },
          '400': { description: 'Invalid request: the message names each field or parameter' },
          ...(op.role !== 'none'
            ? { '401': { description: 'Not signed in' }, '403': { description: 'Role too small' } }
            : {}),
        },
      };
    }
    paths[path] = item;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'canthus appliance API',
      version: VERSION,
      description:
        'Fever-screening triage appliance. State-changing requests must be application/json (CSRF guard). Times are ISO 8601.',
    },
    servers: [{ url: '/api' }],
    components: { securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'canthus_session' } } },
    paths,
    'x-websockets': {
      '/ws/video': {
        query: {
          camera: 'camera id',
          palette: 'iron | white-hot | rainbow',
          range: 'auto | LOW..HIGH (°C)',
          view: 'thermal | visible | blend (bi-spectrum cameras, where visible images are allowed)',
        },
        role: 'staff',
        messages: 'binary JPEG frames; a slow client gets fewer',
      },
      '/ws/live': {
        role: 'staff',
        messages:
          'JSON: hello, status, screening, alert, alert.acknowledged, reference, reference.reading (see appliance/features/live)',
      },
      '/ws/visitor': {
        role: 'none',
        messages: 'JSON {type:"visitor", cameraId, code, prompts}: instruction codes only',
      },
    },
  };
}
