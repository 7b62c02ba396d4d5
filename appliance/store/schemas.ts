/**
 * The full shape of every JSON store, checked at start. A record of the wrong shape that passed a
 * shallow check used to be applied and fail later with a misleading reason (a calibration region
 * `{"x": "a"}` blocked screening with "no blackbody region found"); now the start is refused with
 * the file, the record's index and the field. Records may carry fields newer code added (they are
 * kept), but every field this code reads must have the type and range it relies on.
 */
import { Ajv, type ErrorObject } from 'ajv';

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });

const text = { type: 'string', minLength: 1, maxLength: 200 };
const finite = { type: 'number' };
const plainObject = { type: 'object' };
const size = {
  type: 'object',
  required: ['width', 'height'],
  properties: { width: { type: 'integer', minimum: 1 }, height: { type: 'integer', minimum: 1 } },
};
const point = { type: 'object', required: ['x', 'y'], properties: { x: finite, y: finite } };

export const USERS_FILE_SCHEMA = {
  type: 'object',
  required: ['version', 'users'],
  properties: {
    version: { const: 1 },
    users: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'username', 'role', 'password', 'createdAt', 'createdBy'],
        properties: {
          id: text,
          username: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{2,31}$' },
          role: { enum: ['admin', 'staff'] },
          password: {
            type: 'object',
            required: ['algorithm', 'N', 'r', 'p', 'keyLength', 'salt', 'hash'],
            properties: {
              algorithm: { const: 'scrypt' },
              N: { type: 'integer', minimum: 1024, maximum: 1048576 },
              r: { type: 'integer', minimum: 1, maximum: 32 },
              p: { type: 'integer', minimum: 1, maximum: 4 },
              keyLength: { type: 'integer', minimum: 32, maximum: 128 },
              salt: { type: 'string', pattern: '^[A-Za-z0-9+/]+={0,2}$' },
              hash: { type: 'string', pattern: '^[A-Za-z0-9+/]+={0,2}$' },
            },
          },
          createdAt: text,
          createdBy: { type: ['string', 'null'] },
          language: { enum: ['en', 'zh-CN'] },
          disabled: { type: 'boolean' },
          changedAt: text,
          changedBy: text,
        },
      },
    },
  },
};

export const CALIBRATIONS_FILE_SCHEMA = {
  type: 'object',
  required: ['version', 'calibrations'],
  properties: {
    version: { const: 1 },
    calibrations: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'cameraId', 'committedBy', 'committedAt', 'values', 'figures'],
        properties: {
          id: text,
          cameraId: text,
          committedBy: text,
          committedAt: text,
          values: {
            type: 'object',
            required: ['region', 'setpointC', 'emissivity'],
            properties: {
              region: {
                type: 'object',
                required: ['x', 'y', 'width', 'height'],
                properties: {
                  x: { type: 'integer', minimum: 0 },
                  y: { type: 'integer', minimum: 0 },
                  width: { type: 'integer', minimum: 1 },
                  height: { type: 'integer', minimum: 1 },
                },
              },
              setpointC: { type: 'number', minimum: 20, maximum: 50 },
              emissivity: { type: 'number', minimum: 0.5, maximum: 1 },
            },
          },
          figures: plainObject,
          verification: { type: ['object', 'null'] },
        },
      },
    },
  },
};

export const REGISTRATIONS_FILE_SCHEMA = {
  type: 'object',
  required: ['version', 'registrations'],
  properties: {
    version: { const: 1 },
    registrations: {
      type: 'array',
      items: {
        type: 'object',
        required: [
          'id',
          'cameraId',
          'committedBy',
          'committedAt',
          'visibleSize',
          'thermalSize',
          'pairs',
          'homography',
          'figures',
          'limits',
          'forced',
          'failures',
        ],
        properties: {
          id: text,
          cameraId: text,
          committedBy: text,
          committedAt: text,
          visibleSize: size,
          thermalSize: size,
          pairs: {
            type: 'array',
            items: {
              type: 'object',
              required: ['visible', 'thermal'],
              properties: { visible: point, thermal: point },
            },
          },
          homography: { type: 'array', minItems: 9, maxItems: 9, items: finite },
          figures: plainObject,
          limits: plainObject,
          forced: { type: 'boolean' },
          failures: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
};

/** `/calibrations/0/values/region/x` → `calibrations[0].values.region.x`. */
function fieldPath(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : `${i === 0 ? '' : '.'}${part}`))
    .join('');
}

function describe(error: ErrorObject): string {
  const base = fieldPath(error.instancePath);
  const field = (name: string) => (base ? `${base}.${name}` : name);
  const raw = JSON.stringify(error.data) ?? 'undefined';
  const got = raw.length > 60 ? `${raw.slice(0, 60)}…` : raw;
  // A password hash is not echoed, even a malformed one.
  const secret = /\.password\.(salt|hash)$/.test(base);
  switch (error.keyword) {
    case 'required':
      return `${field(error.params.missingProperty)} is missing`;
    case 'type':
      return `${base || 'the file'} must be ${String(error.params.type).replace(',', ' or ')}${secret ? '' : ` (got ${got})`}`;
    case 'enum':
      return `${base} must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')} (got ${got})`;
    case 'const':
      return `${base} must be ${JSON.stringify(error.params.allowedValue)} (got ${got})`;
    case 'pattern':
      return `${base} is not in the expected form${secret ? '' : ` (got ${got})`}`;
    default:
      return `${base}: ${error.message}${secret ? '' : ` (got ${got})`}`;
  }
}

/** A checker for `JsonDocument`: null when `data` fits, else the first problems, each naming its field. */
export function schemaCheck(schema: object): (data: unknown) => string | null {
  const validate = ajv.compile(schema);
  return (data) => {
    if (validate(data)) return null;
    const problems = [...new Set((validate.errors ?? []).map(describe))];
    const shown = problems.slice(0, 5);
    if (problems.length > shown.length) shown.push(`and ${problems.length - shown.length} more`);
    return shown.join('; ');
  };
}
