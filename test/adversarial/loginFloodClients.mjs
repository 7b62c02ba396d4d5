// Attack load for test/adversarial/loginFlood.test.ts, in its own process (as an attacker's would
// be): CLIENTS loops, each posting wrong passwords for fresh usernames to 127.0.0.1:PORT as fast as
// answers come back, for DURATION_MS. Prints one JSON line: counts per status, 429s without
// Retry-After, and transport errors.
import http from 'node:http';

const [port, clients, durationMs] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
const statuses = {};
let missingRetryAfter = 0;
let errors = 0;
let sample500 = null;
const deadline = Date.now() + durationMs;

function post(body) {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/api/login',
        method: 'POST',
        agent,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => {
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
          if (res.statusCode === 429 && !res.headers['retry-after']) missingRetryAfter++;
          if (res.statusCode >= 500 && sample500 === null) sample500 = Buffer.concat(chunks).toString();
          resolve();
        });
      },
    );
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end(body);
  });
}

async function client(n) {
  for (let i = 0; Date.now() < deadline; i++) {
    await post(JSON.stringify({ username: `spray-${n}-${i}`, password: 'not the password 1' }));
  }
}

await Promise.all(Array.from({ length: clients }, (_, n) => client(n)));
agent.destroy();
process.stdout.write(`${JSON.stringify({ statuses, missingRetryAfter, errors, sample500 })}\n`);
