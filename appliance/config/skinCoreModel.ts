/** The fitted skin → core model shipped in firmware-config/skin-core-model.json, read and checked. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseSkinCoreModel, type SkinCoreModel } from '../../calibration/skinCore.ts';
import { CanthusError } from '../core/errors.ts';
import { FIRMWARE_CONFIG_DIR } from './load.ts';

export const DEFAULT_MODEL_FILE = path.join(FIRMWARE_CONFIG_DIR, 'skin-core-model.json');

/** Reads the fitted model file (the `model` member of skin-core-model.json). */
export function loadSkinCoreModel(file: string = DEFAULT_MODEL_FILE): SkinCoreModel {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CanthusError(`cannot read the skin-core model ${file}: ${(error as Error).message}`);
  }
  try {
    return parseSkinCoreModel((json as { model?: unknown })?.model);
  } catch (error) {
    throw new CanthusError(`${file}: ${(error as Error).message}`);
  }
}
