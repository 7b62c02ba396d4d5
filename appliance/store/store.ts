/**
 * The appliance's stored data in the data folder (0700): small documents as JSON files (users,
 * calibration history, registrations; each 0600, written atomically) and the event store (SQLite).
 * Opening refuses a file it cannot read and leaves it as it is.
 */
import path from 'node:path';
import { CalibrationHistory } from './calibrations.ts';
import { EventStore, SNAPSHOTS_DIR } from './eventStore.ts';
import { ensurePrivateDir, removeStaleTempFiles } from './jsonFile.ts';
import { RegistrationHistory } from './registrations.ts';
import { Users } from './users.ts';

export interface Stores {
  readonly dataDir: string;
  readonly users: Users;
  readonly calibrations: CalibrationHistory;
  readonly registrations: RegistrationHistory;
  readonly events: EventStore;
  close(): void;
}

export async function openStores(dataDir: string): Promise<Stores> {
  const dir = path.resolve(dataDir);
  ensurePrivateDir(dir);
  // Leftovers of writes a crash interrupted: the documents' `.NAME.<hex>.tmp` and the snapshots'
  // `NAME.tmp`. The real files are whole (the rename never happened), so these are only litter.
  removeStaleTempFiles(dir);
  removeStaleTempFiles(path.join(dir, SNAPSHOTS_DIR), /\.tmp$/);
  const users = await Users.open(path.join(dir, 'users.json'));
  const calibrations = await CalibrationHistory.open(path.join(dir, 'calibrations.json'));
  const registrations = await RegistrationHistory.open(dir);
  const events = EventStore.open(dir);
  return { dataDir: dir, users, calibrations, registrations, events, close: () => events.close() };
}
