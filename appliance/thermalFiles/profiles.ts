/**
 * Camera profiles for files that do not describe themselves (.y16 raw frames): by id from
 * firmware-config/cameras/, or from a JSON file path. `checkCameraProfile` checks the few fields a
 * reader needs where a recording describes its own geometry inline (not a whole profile).
 */
import path from 'node:path';
import { loadProfiles, readProfileFile } from '../config/load.ts';
import type { CameraProfile } from '../core/cameraProfile.ts';
import { ThermalFileError } from './types.ts';

const RADIOMETRY_KINDS = ['tlinear', 'linear', 'planck'];

/** Checks the fields a file reader needs; says which one is wrong. */
export function checkCameraProfile(value: unknown, source: string): CameraProfile {
  const p = value as Partial<CameraProfile> | null;
  const problems: string[] = [];
  if (!p || typeof p !== 'object') throw new ThermalFileError(source, 'camera profile is not a JSON object');
  if (!Number.isInteger(p.width) || (p.width as number) <= 0)
    problems.push('width must be a positive integer');
  if (!Number.isInteger(p.height) || (p.height as number) <= 0)
    problems.push('height must be a positive integer');
  if (!p.radiometry || !RADIOMETRY_KINDS.includes((p.radiometry as { kind: string }).kind)) {
    problems.push(`radiometry.kind must be one of ${RADIOMETRY_KINDS.join(', ')}`);
  }
  if (p.pixelFormat !== undefined && p.pixelFormat !== 'GRAY16_LE' && p.pixelFormat !== 'GRAY16_BE') {
    problems.push('pixelFormat must be GRAY16_LE or GRAY16_BE');
  }
  if (problems.length > 0) {
    throw new ThermalFileError(source, `camera profile is not usable: ${problems.join('; ')}`);
  }
  return p as CameraProfile;
}

/**
 * `idOrPath` is a profile id (`lepton35`) or a path to a profile JSON file, read and checked by the
 * appliance's configuration loader. Errors are ThermalFileErrors.
 */
export async function loadCameraProfile(idOrPath: string): Promise<CameraProfile> {
  const isPath = idOrPath.endsWith('.json') || idOrPath.includes('/') || idOrPath.includes(path.sep);
  if (isPath) {
    try {
      return readProfileFile(idOrPath);
    } catch (err) {
      throw new ThermalFileError(idOrPath, (err as Error).message);
    }
  }
  if (!/^[A-Za-z0-9._-]+$/.test(idOrPath)) {
    throw new ThermalFileError(
      idOrPath,
      `camera profile id may only contain letters, digits, '.', '_' and '-' (or give a path to a .json file)`,
    );
  }
  const profiles = loadProfiles(null);
  const profile = profiles.get(idOrPath);
  if (!profile) {
    throw new ThermalFileError(
      idOrPath,
      `no such camera profile (allowed: ${[...profiles.keys()].join(', ')}), or give a path to a profile .json file`,
    );
  }
  return profile;
}

/**
 * The camera profile for a self-describing recording (CPTV): the profiles of that exact size whose
 * radiometry puts the first frame's median at a plausible scene temperature; among several, the one whose id
 * or name matches the file's camera model ("lepton3.5" → lepton35). Null when none fits.
 */
export function profileForFrame(
  profiles: Iterable<CameraProfile>,
  width: number,
  height: number,
  medianCount: number,
  model: string | null,
): CameraProfile | null {
  const plausible = (p: CameraProfile): boolean => {
    const r = p.radiometry;
    const c =
      r.kind === 'tlinear'
        ? medianCount * r.resolutionK - 273.15
        : r.kind === 'linear'
          ? medianCount * r.gain + r.offsetC
          : Number.NaN; // Planck cameras need their constants and the scene: never guessed
    return c >= -40 && c <= 80;
  };
  const fitting = [...profiles].filter((p) => p.width === width && p.height === height && plausible(p));
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  const wanted = model ? norm(model) : '';
  const byModel = wanted
    ? (fitting.find((p) => norm(p.id) === wanted) ??
      fitting.find((p) => norm(p.id).startsWith(wanted) || norm(p.name).includes(wanted)))
    : undefined;
  return byModel ?? fitting[0] ?? null;
}
