/**
 * The one configuration loader: firmware defaults, overridden by the site file, overridden by the
 * command line, validated against firmware-config/config.schema.json. Invalid configuration stops
 * the start with a message naming the field, the value and what is allowed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import cron from 'node-cron';
import { readRecording } from '../camera/recording.ts';
import type { Rotation } from '../camera/rotate.ts';
import { parseSourceUri } from '../camera/sources.ts';
import { parseVisibleSourceUri } from '../camera/visibleSource.ts';
import type { CameraProfile } from '../core/cameraProfile.ts';
import { CanthusError } from '../core/errors.ts';
import type { CalibrationRecord } from '../core/records.ts';
import type { RetentionSettings, ScreeningSettings, VisitorSettings } from '../core/settings.ts';

export const FIRMWARE_CONFIG_DIR = fileURLToPath(new URL('../../firmware-config/', import.meta.url));

export interface ReferenceConfig {
  setpointC: number;
  emissivity: number;
  region: { x: number; y: number; width: number; height: number } | null;
  /**
   * A circular blackbody (centre, radius in upright thermal pixels), read from its interior; instead
   * of `region` (a camera's disc replaces the appliance-wide region).
   */
  disc?: { cx: number; cy: number; r: number } | null;
  warmupS: number;
  stableForS: number;
  maxDriftCPerMin: number;
  ffcSettleS: number;
  /** A second blackbody or set point: the reference then corrects gain as well as offset. */
  secondary?: SecondaryReferenceConfig | null;
}

export interface SecondaryReferenceConfig {
  region: { x: number; y: number; width: number; height: number };
  setpointC: number;
  emissivity: number;
}

/** Set points closer than this make the two-point gain mostly noise. */
export const MIN_SECONDARY_SPAN_C = 3;

export interface CameraConfig {
  id: string;
  name?: string;
  profile: string;
  source: string;
  /** The visible stream of a bi-spectrum camera (its profile has `visible`). */
  visibleSource?: string;
  reference?: Partial<ReferenceConfig>;
  /**
   * Clockwise rotation of the mounted camera (0, 90, 180, 270): frames are turned upright right after
   * capture, and every region of this camera (blackbody, exclusion zones) is in upright coordinates.
   */
  rotate?: Rotation;
  /**
   * Zones (upright thermal pixels) that are never faces: heaters, lamps, a screen, a door frame in the
   * sun. The reference itself (region or disc, with its housing) is excluded without being listed.
   */
  exclude?: { x: number; y: number; width: number; height: number }[];
}

export interface ApplianceConfig {
  applianceId: string;
  server: { host: string; port: number };
  dataDir: string;
  cameras: CameraConfig[];
  reference: ReferenceConfig;
  screening: ScreeningSettings;
  retention: RetentionSettings;
  /** What may be pictured of visitors beyond the thermal image. */
  privacy: { showVisibleImages: boolean };
  security: SecurityConfig;
  /** The visitor screen's texts and colours (firmware defaults when a site file has none). */
  visitor?: VisitorConfig;
  /** The command-centre uplink (docs/uplink.md); absent or disabled: nothing leaves the box. */
  uplink?: UplinkConfig;
  /** How frames are processed (detection cadence, worker threads); firmware defaults when absent. */
  processing?: ProcessingConfig;
}

export interface ProcessingConfig {
  /** Detections (and measurements) per second; the frames between keep the tracks. */
  detectionHz?: number;
  /** Thermal-only cameras are processed in a worker thread each. */
  worker?: boolean;
}

export type VisitorConfig = VisitorSettings;

export type UplinkTransportName = 'mqtt' | 'webhook';

export interface UplinkConfig {
  enabled: boolean;
  /** One transport, or both at once (each event delivered once on each; docs/uplink.md). */
  transport: UplinkTransportName | UplinkTransportName[];
  mqtt: {
    url?: string;
    clientId?: string;
    username?: string;
    password?: string;
    passwordFile?: string;
    caFile?: string;
    certFile?: string;
    keyFile?: string;
    rejectUnauthorized: boolean;
    keepaliveS: number;
    reconnectMs: number;
    topicPrefix: string;
  };
  webhook: { url?: string; secret?: string; secretFile?: string; caFile?: string; timeoutMs: number };
  healthIntervalS: number;
  maxInFlight: number;
  replayPerSecond: number;
  outboxMaxRows: number;
  retryInitialMs: number;
  retryMaxMs: number;
  flushOnStopMs: number;
  maxRequestBytes: number;
  /** A picture with each alert (docs/uplink.md): none, the thermal crop, or also the visible frame. */
  snapshot: 'off' | 'thermal' | 'thermal+visible';
  /** Uplink budget, bytes/s (token bucket): video on request spends only what events leave. */
  budgetBytesPerS: number;
  /** Video on request: frames/s and JPEG quality at most, and how long a request may run. */
  video: { fps: number; quality: number; minQuality: number; maxDurationS: number };
}

/** Sign-in, TLS and request limits (firmware-config/config.schema.json, docs/security.md). */
export interface SecurityConfig {
  setupTokenTtlMin: number;
  secureCookies: 'auto' | boolean;
  tls: {
    certFile: string | null;
    keyFile: string | null;
    selfSigned: boolean;
    redirectHttpPort: number | null;
  };
  login: {
    failuresPerAddress: number;
    failuresAcrossUsers: number;
    windowMin: number;
    hashConcurrency: number;
    hashQueue: number;
  };
  metricsToken: string | null;
}

export interface LoadOptions {
  /** A site configuration file; by default DATA/config.json when it exists. */
  configFile?: string;
  dataDir?: string;
  port?: number;
  /** Replaces the first camera's source. */
  source?: string;
}

export interface LoadedConfig {
  config: ApplianceConfig;
  profiles: Map<string, CameraProfile>;
  /** The files that made this configuration, in order of precedence (lowest first). */
  layers: string[];
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

let validators: { config: ValidateFunction; profile: ValidateFunction } | null = null;

function schemaValidators(): { config: ValidateFunction; profile: ValidateFunction } {
  if (!validators) {
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: false });
    const read = (file: string) => JSON.parse(readFileSync(path.join(FIRMWARE_CONFIG_DIR, file), 'utf8'));
    validators = {
      config: ajv.compile(read('config.schema.json')),
      profile: ajv.compile(read('camera-profile.schema.json')),
    };
  }
  return validators;
}

export function readJsonFile(file: string, what: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CanthusError(
      `cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  try {
    return JSON.parse(text) as Json;
  } catch (error) {
    throw new CanthusError(`${what} ${file} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Objects merge key by key; arrays and values replace. */
export function mergeConfig(base: Json, override: Json): Json {
  if (isObject(base) && isObject(override)) {
    const merged: { [key: string]: Json } = { ...base };
    for (const [key, value] of Object.entries(override))
      merged[key] = key in base ? mergeConfig(base[key], value) : value;
    return merged;
  }
  return override;
}

function isObject(value: Json): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Turns schema errors into sentences: where, what was found, what is allowed. */
export function describeSchemaErrors(errors: ErrorObject[], source: string): string {
  const lines = new Set<string>();
  for (const error of errors) {
    // oneOf reports every branch; the branch errors below it already say what is wrong.
    if (error.keyword === 'oneOf' || error.keyword === 'allOf' || error.keyword === 'if') continue;
    const where = error.instancePath || '(top level)';
    const found = JSON.stringify(error.data);
    switch (error.keyword) {
      case 'additionalProperties': {
        const allowed = Object.keys((error.parentSchema?.properties as object) ?? {}).join(', ');
        lines.add(`${where}: unknown key "${error.params.additionalProperty}" (allowed: ${allowed})`);
        break;
      }
      case 'required':
        lines.add(`${where}: missing "${error.params.missingProperty}"`);
        break;
      case 'enum':
        lines.add(
          `${where}: ${found} is not allowed (allowed: ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')})`,
        );
        break;
      case 'type':
        if (error.data === null && error.schemaPath.includes('oneOf')) break;
        lines.add(`${where}: must be ${error.params.type}, got ${found}`);
        break;
      default:
        lines.add(`${where}: ${error.message}, got ${found}`);
    }
  }
  return `invalid configuration (${source}):\n  ${[...lines].join('\n  ')}`;
}

/** One camera profile file, checked against firmware-config/camera-profile.schema.json. */
export function readProfileFile(file: string): CameraProfile {
  const profile = readJsonFile(file, 'camera profile');
  const validate = schemaValidators().profile;
  if (!validate(profile)) throw new CanthusError(describeSchemaErrors(validate.errors ?? [], file));
  return profile as unknown as CameraProfile;
}

export function loadProfiles(dataDir: string | null): Map<string, CameraProfile> {
  const profiles = new Map<string, CameraProfile>();
  const dirs = [path.join(FIRMWARE_CONFIG_DIR, 'cameras')];
  if (dataDir) dirs.push(path.join(dataDir, 'cameras'));
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir)
      .filter((name) => name.endsWith('.json'))
      .sort()) {
      const profile = readProfileFile(path.join(dir, file));
      profiles.set(profile.id, profile);
    }
  }
  return profiles;
}

/** A profile by id, or an error that lists the ones there are. */
export function requireProfile(profiles: Map<string, CameraProfile>, id: string): CameraProfile {
  const profile = profiles.get(id);
  if (!profile)
    throw new CanthusError(`unknown camera profile "${id}" (allowed: ${[...profiles.keys()].join(', ')})`);
  return profile;
}

export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const defaultsFile = path.join(FIRMWARE_CONFIG_DIR, 'defaults.json');
  let merged = readJsonFile(defaultsFile, 'defaults');
  const layers = [defaultsFile];
  const dataDir = options.dataDir ?? (isObject(merged) ? String(merged.dataDir) : './data');
  const siteFile = options.configFile ?? path.join(dataDir, 'config.json');
  if (options.configFile && !existsSync(options.configFile)) {
    throw new CanthusError(`configuration file ${options.configFile} does not exist`);
  }
  if (existsSync(siteFile)) {
    const site = readJsonFile(siteFile, 'configuration');
    if (!isObject(site)) throw new CanthusError(`configuration ${siteFile} must be a JSON object`);
    merged = mergeConfig(merged, site);
    layers.push(siteFile);
  }
  const overrides: { [key: string]: Json } = {};
  if (options.dataDir) overrides.dataDir = options.dataDir;
  if (options.port !== undefined) overrides.server = { port: options.port };
  merged = mergeConfig(merged, overrides);
  if (options.source && isObject(merged) && Array.isArray(merged.cameras) && isObject(merged.cameras[0])) {
    const first = merged.cameras[0];
    // A source from the command line replaces the first camera's source; a recording brings the
    // profile it was recorded with.
    const spec = parseSourceUri(options.source);
    const profile = spec.kind === 'recording' ? readRecording(spec.dir).meta.profile : first.profile;
    merged.cameras[0] = { ...first, source: options.source, profile };
  }
  const source = layers.length > 1 ? layers[layers.length - 1] : defaultsFile;
  const { config, profiles } = checkConfig(merged, source);
  return { config, profiles, layers };
}

/**
 * Everything the loader checks of a merged configuration: the schema, then the rules a schema
 * cannot say (cron, retention order, uplink, cameras and profiles). The settings page checks a
 * change with this before writing it, so it refuses exactly what the next start would refuse.
 */
export function checkConfig(
  merged: unknown,
  source: string,
): { config: ApplianceConfig; profiles: Map<string, CameraProfile> } {
  const validate = schemaValidators().config;
  if (!validate(merged)) throw new CanthusError(describeSchemaErrors(validate.errors ?? [], source));
  const config = merged as unknown as ApplianceConfig;

  checkSecondaryReferences(config, source);
  checkReferenceShapes(config, source);
  if (!cron.validate(config.retention.schedule)) {
    throw new CanthusError(
      `invalid configuration (${source}):\n  /retention/schedule: "${config.retention.schedule}" is not a cron expression (five fields: minute hour day-of-month month day-of-week, e.g. "17 3 * * *")`,
    );
  }
  if (config.retention.snapshotsDays > config.retention.eventsDays) {
    throw new CanthusError(
      `invalid configuration (${source}):\n  /retention/snapshotsDays: ${config.retention.snapshotsDays} is longer than eventsDays (${config.retention.eventsDays}); a snapshot cannot outlive its person`,
    );
  }
  checkUplink(config, source);

  const profiles = loadProfiles(config.dataDir);
  const ids = new Set<string>();
  for (const [index, camera] of config.cameras.entries()) {
    if (ids.has(camera.id))
      throw new CanthusError(
        `invalid configuration (${source}):\n  /cameras/${index}/id: "${camera.id}" is used twice`,
      );
    ids.add(camera.id);
    if (!profiles.has(camera.profile)) {
      throw new CanthusError(
        `invalid configuration (${source}):\n  /cameras/${index}/profile: unknown camera profile "${camera.profile}" (allowed: ${[...profiles.keys()].join(', ')})`,
      );
    }
    try {
      parseSourceUri(camera.source);
    } catch (error) {
      throw new CanthusError(
        `invalid configuration (${source}):\n  /cameras/${index}/source: ${(error as Error).message}`,
      );
    }
    if (camera.visibleSource !== undefined) {
      if (!profiles.get(camera.profile)!.visible) {
        const bispectrum = [...profiles.values()].filter((p) => p.visible).map((p) => p.id);
        throw new CanthusError(
          `invalid configuration (${source}):\n  /cameras/${index}/visibleSource: camera profile "${camera.profile}" has no visible stream; visibleSource is for bi-spectrum profiles (${bispectrum.join(', ') || 'none installed'})`,
        );
      }
      try {
        parseVisibleSourceUri(camera.visibleSource);
      } catch (error) {
        throw new CanthusError(
          `invalid configuration (${source}):\n  /cameras/${index}/visibleSource: ${(error as Error).message}`,
        );
      }
    }
  }
  return { config, profiles };
}

/** A camera's blackbody settings: the appliance-wide ones with the camera's own on top. */
export function cameraReference(config: ApplianceConfig, camera: CameraConfig): ReferenceConfig {
  const own = camera.reference ?? {};
  const merged = { ...config.reference, ...own };
  // A camera's own disc replaces the appliance-wide region (and its own region the appliance-wide disc).
  if (own.disc && own.region === undefined) merged.region = null;
  if (own.region && own.disc === undefined) merged.disc = null;
  return merged;
}

/** A reference is a rectangle or a disc, not both: said at start rather than one silently ignored. */
function checkReferenceShapes(config: ApplianceConfig, source: string): void {
  const check = (reference: Partial<ReferenceConfig>, field: string) => {
    if (reference.region && reference.disc) {
      throw new CanthusError(
        `invalid configuration (${source}):\n  ${field}/disc: ${JSON.stringify(reference.disc)} given together with region ${JSON.stringify(reference.region)} (allowed: one of region or disc; set the other to null)`,
      );
    }
  };
  check(config.reference, '/reference');
  for (const [index, camera] of config.cameras.entries()) {
    check(camera.reference ?? {}, `/cameras/${index}/reference`);
  }
}

/** The second set point must be far enough from the primary's, appliance-wide and per camera. */
function checkSecondaryReferences(config: ApplianceConfig, source: string): void {
  const check = (reference: ReferenceConfig, field: string) => {
    const secondary = reference.secondary;
    if (!secondary) return;
    const span = Math.abs(secondary.setpointC - reference.setpointC);
    if (span < MIN_SECONDARY_SPAN_C) {
      throw new CanthusError(
        `invalid configuration (${source}):\n  ${field}: ${secondary.setpointC} °C is ${span.toFixed(1)} °C from the primary set point ${reference.setpointC} °C (allowed: at least ${MIN_SECONDARY_SPAN_C} °C apart, otherwise the gain is mostly noise)`,
      );
    }
  };
  check(config.reference, '/reference/secondary/setpointC');
  for (const [index, camera] of config.cameras.entries()) {
    const own = camera.reference ?? {};
    const field =
      own.secondary != null
        ? `/cameras/${index}/reference/secondary/setpointC`
        : own.setpointC !== undefined
          ? `/cameras/${index}/reference/setpointC`
          : '/reference/secondary/setpointC';
    check(cameraReference(config, camera), field);
  }
}

/** The configured uplink transports as a list (`transport` is one name or several). */
export function uplinkTransports(uplink: Pick<UplinkConfig, 'transport'>): UplinkTransportName[] {
  return Array.isArray(uplink.transport) ? [...uplink.transport] : [uplink.transport];
}

/** An enabled uplink needs where to send, and a webhook its secret: said before anything starts. */
function checkUplink(config: ApplianceConfig, source: string): void {
  const uplink = config.uplink;
  if (!uplink?.enabled) return;
  const fail = (field: string, message: string) => {
    throw new CanthusError(`invalid configuration (${source}):\n  ${field}: ${message}`);
  };
  const transports = uplinkTransports(uplink);
  if (transports.length === 0)
    fail('/uplink/transport', 'empty: name "mqtt", "webhook", or both as ["mqtt", "webhook"]');
  if (transports.includes('mqtt')) {
    if (!uplink.mqtt?.url) fail('/uplink/mqtt/url', 'missing: the uplink is enabled with transport "mqtt"');
    if (uplink.mqtt.password && uplink.mqtt.passwordFile)
      fail('/uplink/mqtt/password', 'give password or passwordFile, not both');
    if (Boolean(uplink.mqtt.certFile) !== Boolean(uplink.mqtt.keyFile))
      fail('/uplink/mqtt/certFile', 'a client certificate needs its key (certFile and keyFile together)');
  }
  if (transports.includes('webhook')) {
    if (!uplink.webhook?.url)
      fail('/uplink/webhook/url', 'missing: the uplink is enabled with transport "webhook"');
    if (!uplink.webhook.secret && !uplink.webhook.secretFile)
      fail('/uplink/webhook/secret', 'missing: webhooks are signed; set secret or secretFile');
  }
  if (uplink.retryMaxMs < uplink.retryInitialMs)
    fail('/uplink/retryMaxMs', `${uplink.retryMaxMs} is below retryInitialMs ${uplink.retryInitialMs}`);
}

/** A reference configuration with a committed calibration's values on top. */
export function referenceWithCalibration(
  reference: ReferenceConfig,
  record: CalibrationRecord | null | undefined,
): ReferenceConfig {
  if (!record) return reference;
  const { region, setpointC, emissivity } = record.values;
  // A committed calibration names the region it measured: that rectangle is read from then on, in
  // place of a configured disc.
  return { ...reference, region: { ...region }, disc: null, setpointC, emissivity };
}
