/**
 * Camera profiles for files that do not describe themselves (.y16 raw frames): by id from
 * firmware-config/cameras/, or from a JSON file path.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CameraProfile } from '../config/cameraProfile.ts';
import { ThermalFileError } from './types.ts';

export const CAMERA_PROFILE_DIR = fileURLToPath(new URL('../../firmware-config/cameras/', import.meta.url));

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

/** `idOrPath` is a profile id (`lepton35`) or a path to a profile JSON file. Errors are ThermalFileErrors. */
export async function loadCameraProfile(idOrPath: string): Promise<CameraProfile> {
  const isPath = idOrPath.endsWith('.json') || idOrPath.includes('/') || idOrPath.includes(path.sep);
  if (!isPath && !/^[A-Za-z0-9._-]+$/.test(idOrPath)) {
    throw new ThermalFileError(
      idOrPath,
      `camera profile id may only contain letters, digits, '.', '_' and '-' (or give a path to a .json file)`,
    );
  }
  const file = isPath ? idOrPath : path.join(CAMERA_PROFILE_DIR, `${idOrPath}.json`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !isPath) {
      throw new ThermalFileError(
        idOrPath,
        `no such camera profile: profiles are the JSON files in ${CAMERA_PROFILE_DIR} (give the name without .json), or give a path to one`,
      );
    }
    throw new ThermalFileError(file, `camera profile cannot be read (${code ?? (err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ThermalFileError(file, `camera profile is not valid JSON (${(err as Error).message})`);
  }
  return checkCameraProfile(json, file);
}
