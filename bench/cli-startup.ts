/**
 * `notify --help` start-up: wall time against a bare `node -e 0` (interleaved spawns; the overhead is
 * the median of each pair's difference, which cancels the machine's drift between pairs), and — when
 * `npm run package` has built dist/notify-linux-x64 — the single executable's `--help` against the
 * npm-installed CLI's the same way (the ship-it issue: as fast or faster), and
 * which packages it loaded — it should open no database and load no provider SDK.
 */
import { readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BIN, ROOT, atMost, median, round, tempDir, timeNode, type Metrics, type Target } from './common.js';

export const name = 'cli-startup';

/** Interleaved pairs: start-up time on this machine wanders by tens of milliseconds between runs. */
const RUNS = 40;

/** Packages that must not load for --help: the database driver and every provider SDK. */
const HEAVY = ['better-sqlite3', 'nodemailer', 'twilio', 'firebase-admin', 'web-push', '@parse/node-apn', 'fastify', 'pino', 'liquidjs', '@inquirer/prompts', 'zod', 'libphonenumber-js', 'csv-parse'];

export const targets: Record<string, Target> = {
  overheadMs: atMost(40, 'ms'),
  heavyModulesLoaded: { text: 'none', met: (v) => v === 'none' },
  seaMinusNpmMs: atMost(0, 'ms'),
};

function packageOf(path: string): string | undefined {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return m?.[1];
}

export async function run(): Promise<Metrics> {
  const help = [BIN, '--help'];
  const bare = ['-e', '0'];
  // Warm the page cache once each.
  await timeNode(help, 20_000);
  await timeNode(bare, 20_000);
  const helpMs: number[] = [];
  const bareMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const h = await timeNode(help, 20_000);
    if (h.code !== 0) throw new Error(`notify --help exited ${h.code}: ${h.output}`);
    helpMs.push(h.ms);
    bareMs.push((await timeNode(bare, 20_000)).ms);
  }

  const out = join(tempDir('probe'), 'modules.json');
  const probe = join(ROOT, 'bench', 'module-probe.cjs');
  await timeNode(['--require', probe, ...help], 20_000, { ...process.env, NOTIFY_BENCH_PROBE_OUT: out });
  const cjs = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as { cjs: string[] }).cjs : [];
  const esm = existsSync(out + '.esm') ? readFileSync(out + '.esm', 'utf8').split('\n').filter(Boolean) : [];
  const packages = new Set<string>();
  for (const p of [...cjs, ...esm.map((u) => decodeURIComponent(u))]) {
    const pkg = packageOf(p);
    if (pkg) packages.add(pkg);
  }
  const heavy = HEAVY.filter((p) => packages.has(p));
  const appModules = new Set(esm.filter((u) => u.includes('/dist/src/'))).size;

  const h = median(helpMs);
  const b = median(bareMs);
  const sea = seaAgainstNpm();
  return {
    helpMedianMs: round(h),
    bareNodeMedianMs: round(b),
    overheadMs: round(median(helpMs.map((ms, i) => ms - bareMs[i]!))),
    differenceOfMediansMs: round(h - b),
    heavyModulesLoaded: heavy.length ? heavy.join(', ') : 'none',
    packagesLoaded: [...packages].sort().join(', ') || 'none',
    requireCacheEntries: cjs.length,
    appModulesLoaded: appModules,
    ...sea,
  };
}

/** The executable's `--help` and the npm CLI's, interleaved; nothing when it was not built. */
function seaAgainstNpm(): Metrics {
  const exe = join(ROOT, 'dist', `notify-${process.platform}-${process.arch}`);
  if (!existsSync(exe)) return { seaHelp: 'not built (npm run package)' };
  const time = (cmd: string, args: string[]) => {
    const t = performance.now();
    const r = spawnSync(cmd, args, { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
    return performance.now() - t;
  };
  const seaMs: number[] = [];
  const npmMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    seaMs.push(time(exe, ['--help']));
    npmMs.push(time(process.execPath, [BIN, '--help']));
  }
  return {
    seaHelpMedianMs: round(median(seaMs)),
    npmHelpMedianMs: round(median(npmMs)),
    seaMinusNpmMs: round(median(seaMs.map((ms, i) => ms - npmMs[i]!))),
  };
}
