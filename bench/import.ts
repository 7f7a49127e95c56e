/**
 * `notify users import` of a generated CSV through the real CLI (a child process), as an operator runs
 * it. When the time misses the target, a second, smaller import runs under `--cpu-prof` and the top
 * self-time functions are reported.
 */
import { createWriteStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { BIN, USERS, atMost, initHome, openHomeStore, round, tempDir, timeNode, topSelfTime, userId, type Metrics, type Target } from './common.js';

export const name = 'import';

const TARGET_S = 20;
/** Rows in the profiled import (a fraction of the full one, to keep the bench short). */
const PROFILE_ROWS = Math.min(200_000, USERS);

export const targets: Record<string, Target> = {
  seconds: atMost(TARGET_S, 's'),
  rows: { text: `= ${USERS.toLocaleString('en-US')}`, met: (v) => v === USERS },
};

/** The home the full import wrote: segment-count can read it. */
export let importedHome: string | undefined;

const PLANS = ['free', 'free', 'free', 'pro', 'team'];
const TAGS = ['[]', '"[""beta""]"', '"[""beta"",""ios""]"', '[]', '"[""vip""]"'];

/** id,name,email,phone,plan,age,tags — `rows` users, written in large chunks. */
async function writeCsv(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  out.write('id,name,email,phone,plan,age,tags\n');
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    const id = userId(i);
    chunk += `${id},User ${i},${id}@example.com,+1415555${String(i % 10_000).padStart(4, '0')},${PLANS[i % 5]},${18 + (i % 60)},${TAGS[i % 5]}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

export async function run(): Promise<Metrics> {
  const dir = tempDir('import');
  const csv = join(dir, 'users.csv');
  await writeCsv(csv, USERS);
  const home = await initHome('import-home');

  const r = await timeNode([BIN, '--home', home, 'users', 'import', csv], 600_000);
  if (r.code !== 0) throw new Error(`notify users import exited ${r.code}: ${r.output.slice(-2000)}`);
  const store = await openHomeStore(home);
  let rows: number;
  try {
    rows = store.db.prepare('SELECT count(*) FROM users').pluck().get() as number;
  } finally {
    await store.close();
  }
  importedHome = home;
  const seconds = round(r.ms / 1000, 2);
  const metrics: Metrics = {
    seconds,
    rows,
    rowsPerSec: Math.round(rows / (r.ms / 1000)),
    csvMb: round(statSync(csv).size / 1048576),
  };

  if (seconds > TARGET_S) {
    // Where the time goes: a smaller import of the same shape under the CPU profiler.
    const small = join(dir, 'users-small.csv');
    await writeCsv(small, PROFILE_ROWS);
    const profHome = await initHome('import-prof');
    const profDir = join(dir, 'prof');
    const p = await timeNode(['--cpu-prof', '--cpu-prof-dir', profDir, BIN, '--home', profHome, 'users', 'import', small], 300_000);
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (p.code === 0 && file) {
      const top = topSelfTime(join(profDir, file), 12);
      metrics.profiledRows = PROFILE_ROWS;
      metrics.profiledSeconds = round(p.ms / 1000, 2);
      metrics.profileByPackage = top.packages.join('; ');
      top.functions.forEach((f, i) => (metrics[`profileTop${String(i + 1).padStart(2, '0')}`] = f));
    }
  }
  return metrics;
}
