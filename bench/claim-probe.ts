/**
 * A stand-in for a daemon during the fan-out benchmark: a separate process that runs the real claim
 * statement every ~10 ms on a provider with no work (it still takes the write lock) and records how
 * long each claim took — how long a daemon's claims wait behind fan-out transactions.
 *
 *   node dist/bench/claim-probe.js <database> <out.json>      (stops on SIGTERM, then writes out.json)
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { openStore } from '../src/store/index.js';
import { systemClock } from '../src/core/time.js';

const [database, out] = process.argv.slice(2);
if (!database || !out) {
  process.stderr.write('usage: claim-probe <database> <out.json>\n');
  process.exit(2);
}
const store = await openStore(database, systemClock);
const waits: number[] = [];
let running = true;
process.on('SIGTERM', () => (running = false));
process.stdout.write('ready\n');
while (running) {
  const t = performance.now();
  await store.outbox.claim('sms', 'claim-probe', 10, 60_000);
  waits.push(performance.now() - t);
  await new Promise((r) => setTimeout(r, 10));
}
await store.close();
writeFileSync(out, JSON.stringify(waits));
