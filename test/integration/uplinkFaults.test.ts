/**
 * Brokers the appliance cannot use, against a real Mosquitto: one that refuses its credentials and
 * one whose TLS certificate does not verify against the configured CA (certificates made here with
 * openssl). Each must be logged with a clear message, shown in health (`problem`), keep every
 * event in the outbox, and deliver all of them once the fault is fixed on the broker's side —
 * without restarting the appliance.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../../appliance/cli/receive.ts';
import { simulateRecording } from '../../appliance/cli/simulate.ts';
import { loadConfig } from '../../appliance/config/load.ts';
import type { Envelope } from '../../appliance/core/uplink.ts';
import { startAppliance } from '../../appliance/main.ts';
import { tempDir, waitFor } from '../helpers/tempDir.ts';
import { Broker, runAppliance, storedEvents, writeConfig } from '../helpers/uplink.ts';

let dir: string;
let recording: string;

beforeAll(() => {
  dir = tempDir('canthus-uplink-faults-');
  recording = path.join(dir, 'rec');
  simulateRecording({ out: recording, profile: 'simulator', seed: 5, people: 3, feverRate: 0.5 });
});

interface UplinkDetail {
  backlog: number;
  problem: string | null;
  connection: { state: string; lastConnectError: string | null };
}

const screeningIds = (receiver: Receiver, applianceId: string) =>
  receiver.lines
    .filter((l) => l.applianceId === applianceId && l.envelope?.type.startsWith('canthus.screening.'))
    .map((l) => (l.envelope as Envelope).id);
const alertIds = (receiver: Receiver, applianceId: string) =>
  receiver.lines
    .filter((l) => l.applianceId === applianceId && l.envelope?.type === 'canthus.alert')
    .map((l) => (l.envelope as { data: { screeningEventId: string } }).data.screeningEventId);

/**
 * Run 1 (a process, to read its log): the broker is unusable → the clear message, events kept.
 * Run 2 (in this process, same data folder): health names the problem; then `fix()` repairs the
 * broker and everything stored in both runs arrives.
 */
async function faultThenFix(args: {
  applianceId: string;
  uplink: Record<string, unknown>;
  receiver: Receiver;
  message: RegExp;
  fix: () => Promise<void>;
}): Promise<void> {
  const data = path.join(dir, args.applianceId);
  writeConfig(data, {
    applianceId: args.applianceId,
    uplink: { enabled: true, transport: 'mqtt', flushOnStopMs: 2000, ...args.uplink },
  });
  const run = runAppliance({ data, source: `recording:${recording}?pace=fast` });
  expect(await run.exited, run.output()).toBe(0);
  const logged = run
    .output()
    .split('\n')
    .filter((line) => line.includes('uplink cannot connect to the broker'));
  expect(logged.length, `no connection error logged:\n${run.output()}`).toBeGreaterThan(0);
  expect(logged[0]).toMatch(args.message);
  const afterFirst = storedEvents(data);
  expect(afterFirst.screening.length).toBeGreaterThan(0);
  expect(afterFirst.unsent, 'events of the refused run must wait in the outbox').toBe(
    afterFirst.screening.length + afterFirst.alerts.length + afterFirst.alerts.length,
  );
  expect(screeningIds(args.receiver, args.applianceId)).toEqual([]);

  const appliance = await startAppliance({
    loaded: loadConfig({ dataDir: data, source: `recording:${recording}?pace=fast` }),
    headless: true,
  });
  try {
    await appliance.finished;
    await appliance.bus.drain();
    // The controller lifts a feature's `problem` into its `reason` (what /api/health shows).
    const uplink = () => {
      const state = appliance.featureStates().find((f) => f.name === 'uplink');
      return { ...(state?.detail as unknown as UplinkDetail), problem: state?.reason ?? null };
    };
    const broken = await waitFor(
      () => (uplink().problem ? uplink() : null),
      10_000,
      'a health problem',
    ).catch((error: Error) => {
      throw new Error(`${error.message}; uplink health: ${JSON.stringify(appliance.featureStates())}`);
    });
    expect(broken.connection.state).toBe('refused');
    expect(broken.problem).toMatch(args.message);
    expect(broken.backlog).toBeGreaterThan(afterFirst.unsent);

    await args.fix();
    await waitFor(
      () => uplink().backlog === 0 && uplink().problem === null,
      20_000,
      'the backlog sent after the fix',
    );
    const stored = storedEvents(data);
    await waitFor(
      () => new Set(screeningIds(args.receiver, args.applianceId)).size >= stored.screening.length,
      10_000,
      'every screening event at the receiver',
    );
    expect([...new Set(screeningIds(args.receiver, args.applianceId))].sort()).toEqual(stored.screening);
    expect([...new Set(alertIds(args.receiver, args.applianceId))].sort()).toEqual(stored.alerts);
  } finally {
    await appliance.stop();
  }
}

describe('a broker that refuses the credentials', () => {
  let broker: Broker;
  let receiver: Receiver;
  const passwords = () => path.join(dir, 'passwords');

  beforeAll(async () => {
    execFileSync('mosquitto_passwd', ['-b', '-c', passwords(), 'centre', 'centre-password']);
    broker = await Broker.custom(path.join(dir, 'broker-auth'), 0, ([port]) => [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${passwords()}`,
    ]);
    receiver = await startReceiver({
      mqtt: broker.url,
      out: path.join(dir, 'auth.jsonl'),
      username: 'centre',
      password: 'centre-password',
      clientId: 'auth-receiver',
      report: () => {},
    });
  });
  afterAll(async () => {
    await receiver?.stop();
    await broker?.stop();
  });

  it('logs and shows the refusal, keeps every event, and sends them all once the account exists', async () => {
    await faultThenFix({
      applianceId: 'box-auth',
      uplink: { mqtt: { url: broker.url, username: 'box-auth', password: 'box-password', reconnectMs: 300 } },
      receiver,
      message:
        /broker refused (the user name or password|this client: not authorized).*check uplink\.mqtt\.username/,
      fix: async () => {
        // The centre creates the account; mosquitto reloads its password file on SIGHUP.
        execFileSync('mosquitto_passwd', ['-b', passwords(), 'box-auth', 'box-password']);
        broker.reload();
      },
    });
  }, 120_000);
});

describe('a TLS broker whose certificate does not verify', () => {
  let broker: Broker;
  let receiver: Receiver;
  let tlsPort = 0;
  const file = (name: string) => path.join(dir, 'tls', name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  /** The broker's certificate, for 127.0.0.1, signed by `ca`. */
  const serverCertificate = (ca: string) => {
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      file('server.key'),
      '-out',
      file('server.csr'),
      '-subj',
      '/CN=127.0.0.1',
    );
    openssl(
      'x509',
      '-req',
      '-in',
      file('server.csr'),
      '-CA',
      file(`${ca}.pem`),
      '-CAkey',
      file(`${ca}.key`),
      '-CAcreateserial',
      '-out',
      file('server.pem'),
      '-days',
      '2',
      '-extfile',
      file('san.ext'),
    );
  };

  beforeAll(async () => {
    execFileSync('mkdir', ['-p', file('')]);
    writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    for (const ca of ['site-ca', 'other-ca'])
      openssl(
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        file(`${ca}.key`),
        '-out',
        file(`${ca}.pem`),
        '-days',
        '2',
        '-subj',
        `/CN=canthus test ${ca}`,
      );
    // The broker presents a certificate of "other-ca"; the appliance trusts only "site-ca".
    serverCertificate('other-ca');
    broker = await Broker.custom(path.join(dir, 'broker-tls'), 1, ([plain, tls]) => {
      tlsPort = tls;
      return [
        'allow_anonymous true',
        `listener ${plain} 127.0.0.1`,
        `listener ${tls} 127.0.0.1`,
        `certfile ${file('server.pem')}`,
        `keyfile ${file('server.key')}`,
      ];
    });
    // The receiver uses the plain loopback listener, with a session that survives a broker restart.
    receiver = await startReceiver({
      mqtt: broker.url,
      out: path.join(dir, 'tls.jsonl'),
      clientId: 'tls-receiver',
      report: () => {},
    });
  });
  afterAll(async () => {
    await receiver?.stop();
    await broker?.stop();
  });

  it('logs and shows the certificate failure, keeps every event, and sends them all once the broker has a certificate of the right CA', async () => {
    await faultThenFix({
      applianceId: 'box-tls',
      uplink: {
        mqtt: { url: `mqtts://127.0.0.1:${tlsPort}`, caFile: file('site-ca.pem'), reconnectMs: 300 },
      },
      receiver,
      message: /TLS certificate does not verify \([A-Z_]+\): check uplink\.mqtt\.caFile/,
      fix: async () => {
        // The centre installs a certificate signed by the CA the appliance trusts.
        serverCertificate('site-ca');
        await broker.stop();
        await broker.start();
      },
    });
  }, 120_000);
});
