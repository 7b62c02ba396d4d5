/**
 * Several appliances in one process, for the fleet test: `node --import tsx fleetHost.ts DATA…`
 * starts one full appliance (its own configuration, id, SQLite store, bus, features and uplink
 * connection) per data folder, all at once, waits until every recording has ended, stops them
 * cleanly (each flushes its outbox and says `offline`) and exits 0 — or 1 naming the failure.
 * One Node process per box costs ≈ 2 s of CPU just to load; a few boxes per process keep twenty
 * of them affordable on a small test machine without sharing anything a box owns.
 */
import { loadConfig } from '../../appliance/config/load.ts';
import { type Appliance, startAppliance } from '../../appliance/main.ts';

const dataDirs = process.argv.slice(2);
if (dataDirs.length === 0) {
  process.stderr.write('usage: fleetHost.ts DATA_DIR…\n');
  process.exit(2);
}

const appliances: Appliance[] = [];
try {
  appliances.push(
    ...(await Promise.all(
      dataDirs.map((dataDir) => startAppliance({ loaded: loadConfig({ dataDir }), headless: true })),
    )),
  );
  await Promise.all(appliances.map((appliance) => appliance.finished));
  const failures = appliances.flatMap((appliance) =>
    appliance.failures().map((failure) => `${appliance.config.applianceId}: ${failure}`),
  );
  await Promise.all(appliances.map((appliance) => appliance.stop()));
  if (failures.length > 0) throw new Error(failures.join('; '));
  process.exit(0);
} catch (error) {
  process.stderr.write(`fleet host failed: ${(error as Error).stack ?? error}\n`);
  await Promise.allSettled(appliances.map((appliance) => appliance.stop()));
  process.exit(1);
}
