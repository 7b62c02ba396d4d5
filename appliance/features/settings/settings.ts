/**
 * The site settings an admin edits on the settings page: screening thresholds and unit, retention,
 * the visitor screen. Pure functions (no HTTP, no files): what may be changed, the request schema,
 * which changes apply live and which wait for a restart, and what changed for the audit log.
 */
import type { ApplianceConfig, VisitorConfig } from '../../config/load.ts';

export interface SiteSettings {
  screening: ApplianceConfig['screening'];
  retention: ApplianceConfig['retention'];
  visitor: VisitorConfig;
}

/** Used when a configuration predates the visitor section (firmware-config/defaults.json has it). */
export const VISITOR_DEFAULTS: VisitorConfig = {
  showTemperature: false,
  texts: { en: {}, zh: {} },
  colours: { background: '#0d2433', text: '#ffffff', result: '#1f4e79' },
};

export function siteSettings(config: ApplianceConfig): SiteSettings {
  return {
    screening: structuredClone(config.screening),
    retention: structuredClone(config.retention),
    visitor: structuredClone(config.visitor ?? VISITOR_DEFAULTS),
  };
}

/**
 * Paths that are read once at start: the relative baseline is built for its mode and size, and
 * the purge is scheduled with its cron expression. Everything else editable applies live.
 */
export const RESTART_PATHS = new Set([
  '/screening/mode',
  '/screening/relative/baselineSize',
  '/screening/skinEmissivity',
  '/retention/schedule',
]);

const texts = {
  type: 'object',
  maxProperties: 40,
  propertyNames: { pattern: '^(visitor\\.)?[a-z][a-z-]{1,40}$' },
  additionalProperties: { type: 'string', maxLength: 200 },
};
const colour = { type: 'string', pattern: '^#[0-9a-fA-F]{6}$' };

/**
 * The PUT body: any part of the editable sections. Only shape and type here; ranges and the rules
 * between fields are the configuration schema's and the loader's (checkConfig), so the page and
 * the next start refuse the same things with the same sentence.
 */
export const SETTINGS_BODY = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    screening: {
      type: 'object',
      additionalProperties: false,
      properties: {
        unit: { type: 'string', enum: ['C', 'F'] },
        mode: { type: 'string', enum: ['absolute', 'relative'] },
        thresholdC: { type: 'number' },
        retestBandC: { type: 'number' },
        skinEmissivity: { type: 'number' },
        relative: {
          type: 'object',
          additionalProperties: false,
          properties: { baselineSize: { type: 'integer' }, deltaC: { type: 'number' } },
        },
      },
    },
    retention: {
      type: 'object',
      additionalProperties: false,
      properties: {
        eventsDays: { type: 'number' },
        snapshotsDays: { type: 'number' },
        auditDays: { type: 'number' },
        minFreeDiskMB: { type: 'integer' },
        schedule: { type: 'string', maxLength: 100 },
      },
    },
    visitor: {
      type: 'object',
      additionalProperties: false,
      properties: {
        showTemperature: { type: 'boolean' },
        texts: {
          type: 'object',
          additionalProperties: false,
          properties: { en: texts, zh: texts },
        },
        colours: {
          type: 'object',
          additionalProperties: false,
          properties: { background: colour, text: colour, result: colour },
        },
      },
    },
  },
} as const;

export interface Change {
  path: string;
  from: unknown;
  to: unknown;
}

/** Every leaf that differs between two settings objects, as JSON-pointer paths. */
export function diffSettings(before: unknown, after: unknown, at = ''): Change[] {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(before) && isObject(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].sort().flatMap((key) => diffSettings(before[key], after[key], `${at}/${key}`));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path: at, from: before, to: after }];
}

/** Which of `changes` wait for the next start. */
export function needRestart(changes: readonly Change[]): string[] {
  return changes.map((c) => c.path).filter((p) => RESTART_PATHS.has(p));
}
