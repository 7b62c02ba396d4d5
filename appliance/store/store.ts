/**
 * The appliance's stored data: JSON files in the data folder (0700), each 0600 and written
 * atomically. Opening refuses a file it cannot parse and leaves it as it is.
 */
import path from 'node:path';
import { CalibrationHistory } from './calibrations.ts';
import { ensurePrivateDir } from './jsonFile.ts';
import { Users } from './users.ts';

export interface Store {
  readonly dataDir: string;
  readonly users: Users;
  readonly calibrations: CalibrationHistory;
}

export async function openStore(dataDir: string): Promise<Store> {
  const dir = path.resolve(dataDir);
  ensurePrivateDir(dir);
  const users = await Users.open(path.join(dir, 'users.json'));
  const calibrations = await CalibrationHistory.open(path.join(dir, 'calibrations.json'));
  return { dataDir: dir, users, calibrations };
}
