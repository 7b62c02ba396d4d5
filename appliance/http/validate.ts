/**
 * Body validation for every route: ajv schemas compiled once; a refusal names each field, what is
 * wrong and what is allowed, and never echoes the value of a secret field.
 */
import { Ajv, type ErrorObject, type JSONSchemaType, type ValidateFunction } from 'ajv';
import type { RequestHandler } from 'express';

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
/** Values never echoed in error messages. */
const SECRET_FIELDS = new Set(['password', 'token']);

/** Turns ajv errors into one sentence per field: which field, what is wrong, what is allowed. */
export function describeBodyErrors(errors: ErrorObject[]): string {
  const lines = new Set<string>();
  for (const error of errors) {
    const field = error.instancePath.slice(1).replaceAll('/', '.');
    const secret = SECRET_FIELDS.has(field.split('.').pop() ?? '');
    const got = secret || error.data === undefined ? '' : ` (got ${shortJson(error.data)})`;
    const described = (error.parentSchema as { description?: string } | undefined)?.description;
    switch (error.keyword) {
      case 'additionalProperties': {
        const allowed = Object.keys((error.parentSchema?.properties as object) ?? {}).join(', ');
        const prefix = field ? `${field}.` : '';
        lines.add(`unknown field "${prefix}${error.params.additionalProperty}" (allowed: ${allowed})`);
        break;
      }
      case 'required':
        lines.add(`missing field "${field ? `${field}.` : ''}${error.params.missingProperty}"`);
        break;
      case 'type':
        lines.add(
          field
            ? `${field}: must be ${error.params.type}${got}`
            : `request body must be a JSON ${error.params.type}`,
        );
        break;
      case 'minLength':
        lines.add(`${field}: must have at least ${error.params.limit} characters`);
        break;
      case 'maxLength':
        lines.add(`${field}: must have at most ${error.params.limit} characters`);
        break;
      case 'pattern':
        lines.add(`${field}: ${described ?? `must match ${error.params.pattern}`}${got}`);
        break;
      case 'enum':
        lines.add(
          `${field}: must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}${got}`,
        );
        break;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        lines.add(`${field}: must be ${error.params.comparison} ${error.params.limit}${got}`);
        break;
      default:
        lines.add(`${field || 'request body'}: ${error.message}${got}`);
    }
  }
  const all = [...lines];
  // A body of 10 000 wrong items must not get a 10 000-sentence answer.
  const shown = all.slice(0, MAX_PROBLEMS_SHOWN);
  if (all.length > shown.length) shown.push(`and ${all.length - shown.length} more problems`);
  return shown.join('; ');
}

const MAX_PROBLEMS_SHOWN = 10;
const MAX_VALUE_SHOWN = 60;

/** A value as JSON for a message, cut short: an echoed 200 KB string helps nobody. */
function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_VALUE_SHOWN ? `${text.slice(0, MAX_VALUE_SHOWN)}…` : text;
}

/** Compiles once; the middleware answers 400 with every problem, each naming its field. */
export function validateBody<T>(schema: JSONSchemaType<T> | object): RequestHandler {
  const validate = ajv.compile(schema) as ValidateFunction<T>;
  return (req, res, next) => {
    const body = req.body === undefined ? {} : req.body;
    if (!validate(body)) {
      res.status(400).json({ error: `invalid request: ${describeBodyErrors(validate.errors ?? [])}` });
      return;
    }
    req.body = body;
    next();
  };
}

export const EMPTY_BODY = { type: 'object', additionalProperties: false, properties: {} };
