/**
 * `npm run bench`: runs the benchmark modules (all, or those named on the command line), prints a table
 * of metric, value, target and whether it is met, and writes the figures to bench/results/<ISO time>.json.
 *
 *   node dist/bench/run.js                  # everything
 *   node dist/bench/run.js fanout daemon    # just these
 *
 * Each module is a file exporting `name` and `run(): Promise<Record<string, number | string>>`, and
 * optionally `targets` (per metric: text and a check).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT, USERS, cleanup, round, type BenchModule, type Metrics } from './common.js';

/** In run order: later ones reuse homes the earlier ones built (the seeded users, the fanned-out outbox). */
const MODULES = ['cli-startup', 'import', 'segment-count', 'fanout', 'daemon', 'latency', 'api', 'channels'];
/** Modules another helper is still writing: skipped with a note when their file is not there. */
const OPTIONAL = new Set(['api']);

interface Row { benchmark: string; metric: string; value: string; target: string; met: string }

function format(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : String(v);
  return typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
}

function printTable(rows: Row[]): void {
  const cols: (keyof Row)[] = ['benchmark', 'metric', 'value', 'target', 'met'];
  const max = 60;
  const cut = (s: string) => (s.length > max ? s.slice(0, max - 1) + '…' : s);
  const width = Object.fromEntries(cols.map((c) => [c, Math.max(c.length, ...rows.map((r) => cut(r[c]).length))])) as Record<keyof Row, number>;
  const line = (r: Record<keyof Row, string>) => cols.map((c) => cut(r[c]).padEnd(width[c])).join('  ').trimEnd();
  process.stdout.write(line({ benchmark: 'benchmark', metric: 'metric', value: 'value', target: 'target', met: 'met?' }) + '\n');
  process.stdout.write(cols.map((c) => '-'.repeat(width[c])).join('  ') + '\n');
  for (const r of rows) process.stdout.write(line(r) + '\n');
}

async function load(file: string): Promise<BenchModule | string> {
  try {
    return (await import(`./${file}.js`)) as BenchModule;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (OPTIONAL.has(file) && e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes(`${file}.js`)) {
      return `skipped: bench/${file}.ts does not exist yet`;
    }
    throw err;
  }
}

async function main(argv: string[]): Promise<number> {
  const unknown = argv.filter((a) => !MODULES.includes(a));
  if (unknown.length) {
    process.stderr.write(`unknown benchmark "${unknown[0]}": choose from ${MODULES.join(', ')}\n`);
    return 2;
  }
  const selected = argv.length ? MODULES.filter((m) => argv.includes(m)) : MODULES;
  const started = new Date();
  const results: Record<string, { metrics?: Metrics; seconds?: number; error?: string; note?: string; targets?: Record<string, { target: string; met: boolean }>; loadAvg?: number[] }> = {};
  const rows: Row[] = [];
  let missed = 0;

  for (const file of selected) {
    let mod: BenchModule | string;
    try {
      mod = await load(file);
    } catch (err) {
      results[file] = { error: `cannot load: ${(err as Error).message}` };
      rows.push({ benchmark: file, metric: '(error)', value: results[file].error!, target: '', met: 'no' });
      missed++;
      continue;
    }
    if (typeof mod === 'string') {
      results[file] = { note: mod };
      rows.push({ benchmark: file, metric: '(skipped)', value: mod, target: '', met: '' });
      process.stderr.write(`${file}: ${mod}\n`);
      continue;
    }
    const name = mod.name ?? file;
    process.stderr.write(`${name}: running…\n`);
    const t0 = performance.now();
    const loadBefore = loadavg()[0]!;
    try {
      const metrics = await mod.run();
      // Other work on the machine skews every figure: keep the 1-minute load average beside them.
      metrics.loadAvg1m = `${round(loadBefore, 2)} -> ${round(loadavg()[0]!, 2)} (${cpus().length} cpus)`;
      const seconds = round((performance.now() - t0) / 1000);
      const checked: Record<string, { target: string; met: boolean }> = {};
      for (const [metric, value] of Object.entries(metrics)) {
        const target = mod.targets?.[metric];
        let met = '';
        if (target) {
          const ok = target.met(value, metrics);
          checked[metric] = { target: target.text, met: ok };
          met = ok ? 'yes' : 'NO';
          if (!ok) missed++;
        }
        rows.push({ benchmark: name, metric, value: format(value), target: target?.text ?? '', met });
      }
      results[name] = { metrics, seconds, targets: checked, loadAvg: [round(loadBefore, 2), round(loadavg()[0]!, 2)] };
      process.stderr.write(`${name}: done in ${seconds} s\n`);
    } catch (err) {
      const seconds = round((performance.now() - t0) / 1000);
      const message = (err as Error)?.stack ?? String(err);
      results[name] = { error: message, seconds };
      rows.push({ benchmark: name, metric: '(error)', value: (err as Error)?.message ?? String(err), target: '', met: 'no' });
      process.stderr.write(`${name}: failed after ${seconds} s\n${message}\n`);
      missed++;
    }
  }

  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${started.toISOString().replace(/:/g, '-')}.json`);
  const machine = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, memoryGb: round(totalmem() / 2 ** 30), users: USERS };
  writeFileSync(file, JSON.stringify({ startedAt: started.toISOString(), finishedAt: new Date().toISOString(), machine, selected, results }, null, 2) + '\n');
  printTable(rows);
  process.stdout.write(`\n${missed ? `${missed} target(s) missed or failed` : 'all targets met'}; results in ${file}\n`);
  return 0;
}

let code = 1;
const stop = (sig: NodeJS.Signals) => {
  cleanup();
  process.stderr.write(`${sig}: stopped; temp homes removed\n`);
  process.exit(130);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
try {
  code = await main(process.argv.slice(2));
} finally {
  cleanup();
}
process.exitCode = code;
