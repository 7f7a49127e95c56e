/**
 * Shared by the benchmarks: temp directories removed at the end, child processes killed at the end,
 * statistics, and seeded homes. Homes are built once per `npm run bench` and copied for each benchmark
 * that changes them (a file copy takes seconds; seeding a million users takes much longer).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, cpSync, existsSync, fstatSync, fsyncSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { loadConfig, readRawConfig, setPath, writeRawConfig } from '../src/config.js';
import { openStore, type Store } from '../src/store/index.js';
import { validateTemplate } from '../src/core/template.js';
import { systemClock } from '../src/core/time.js';
import { readStatus, wakeDaemon } from '../src/daemon/client.js';
import type { UserInput } from '../src/store/users.js';

/** The repository root (this file runs from dist/bench/). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'notify.js');

/** Users in the shared seeded home. NOTIFY_BENCH_USERS overrides it for a quick trial run. */
export const USERS = Number(process.env.NOTIFY_BENCH_USERS ?? 1_000_000);

export type Metrics = Record<string, number | string>;

export interface Target {
  /** Shown in the table, e.g. "<= 20 s". */
  text: string;
  met(value: number | string, all: Metrics): boolean;
}

export interface BenchModule {
  name: string;
  run(): Promise<Metrics>;
  /** Per metric; metrics without one are shown for information. */
  targets?: Record<string, Target>;
}

export const atMost = (limit: number, unit = ''): Target => ({ text: `<= ${limit}${unit ? ' ' + unit : ''}`, met: (v) => typeof v === 'number' && v <= limit });
export const atLeast = (limit: number, unit = ''): Target => ({ text: `>= ${limit}${unit ? ' ' + unit : ''}`, met: (v) => typeof v === 'number' && v >= limit });

// ---- cleanup ----------------------------------------------------------------------------------

const dirs: string[] = [];
const children = new Set<ChildProcess>();

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `notify-bench-${prefix}-`));
  dirs.push(dir);
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  const i = dirs.indexOf(dir);
  if (i >= 0) dirs.splice(i, 1);
}

/** Kills children we started (by pid) and removes temp directories. Safe to call twice. */
export function cleanup(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Spawns `node ...args`, tracked so it is killed if the bench stops early. */
export function spawnNode(args: string[], options: { env?: NodeJS.ProcessEnv; stdout?: number | 'ignore' | 'pipe'; cwd?: string } = {}): ChildProcess {
  const out = options.stdout ?? 'ignore';
  const child = spawn(process.execPath, args, { stdio: ['ignore', out, out], env: options.env ?? process.env, cwd: options.cwd ?? ROOT });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** Waits for a child to exit; SIGKILLs it after `limitMs`. Resolves with the code or signal. */
export function waitExit(child: ChildProcess, limitMs: number): Promise<number | string> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode ?? 'unknown');
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal ?? 'unknown');
    });
  });
}

/** Runs `node ...args` to completion and returns its wall time in ms (bounded by `limitMs`). */
export async function timeNode(args: string[], limitMs: number, env?: NodeJS.ProcessEnv): Promise<{ ms: number; code: number | string; output: string }> {
  const start = performance.now();
  const child = spawnNode(args, { env, stdout: 'pipe' });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => { if (output.length < 10_000) output += c.toString(); });
  child.stderr?.on('data', (c: Buffer) => { if (output.length < 10_000) output += c.toString(); });
  const code = await waitExit(child, limitMs);
  return { ms: performance.now() - start, code, output };
}

// ---- statistics -------------------------------------------------------------------------------

export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export const median = (values: number[]): number => quantile(values, 0.5);

export const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits;

/** CPU time in a `process.cpuUsage()` reading (user + system), in microseconds. */
export function cpuMicros(u: NodeJS.CpuUsage): number {
  return u.user + u.system;
}

/** Peak VmRSS of a process, sampled every `everyMs` until stopped. */
export function sampleRss(pid: number, everyMs = 250): { stop(): { peakMb: number; lastMb: number; samples: number } } {
  let peak = 0;
  let last = 0;
  let samples = 0;
  const read = () => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) {
        last = Number(m[1]) / 1024;
        peak = Math.max(peak, last);
        samples++;
      }
    } catch {
      // The process is gone.
    }
  };
  read();
  const timer = setInterval(read, everyMs);
  return {
    stop() {
      clearInterval(timer);
      read();
      return { peakMb: round(peak), lastMb: round(last), samples };
    },
  };
}

// ---- homes ------------------------------------------------------------------------------------

export function userId(i: number): string {
  return `u${String(i).padStart(7, '0')}`;
}

const PLANS = ['free', 'free', 'free', 'pro', 'team'];
const LOCALES = ['en', 'en', 'en', 'en', 'en', 'ko', 'ja', 'de', 'fr', 'es'];

/** The i-th bench user, as seeded through the store (10% locale ko, 20% plan pro). */
export function benchUser(i: number): UserInput {
  const id = userId(i);
  return {
    id, name: `User ${i}`, email: `${id}@example.com`, phone: `+1415${String(i % 10_000_000).padStart(7, '0')}`,
    locale: LOCALES[i % LOCALES.length]!, attributes: { plan: PLANS[Math.floor(i / 10) % PLANS.length]!, age: 18 + (i % 60), tags: i % 7 === 0 ? ['beta'] : [] },
  };
}

/** Sets config keys (dot paths) in a home's config.json. */
export function configure(home: string, values: Record<string, unknown>): void {
  const raw = readRawConfig(home);
  for (const [key, value] of Object.entries(values)) setPath(raw, key.split('.'), value);
  writeRawConfig(home, raw);
}

/** `notify init --yes` in a new home under a new temp dir. */
export async function initHome(prefix: string, config: Record<string, unknown> = {}): Promise<string> {
  const home = join(tempDir(prefix), 'home');
  const r = await timeNode([BIN, '--home', home, 'init', '--yes'], 30_000);
  if (r.code !== 0) throw new Error(`notify init failed (${r.code}): ${r.output}`);
  configure(home, config);
  return home;
}

export async function openHomeStore(home: string): Promise<Store> {
  const config = loadConfig(home);
  return openStore(config.database.startsWith('/') ? config.database : join(home, config.database), systemClock);
}

let seeded: Promise<{ home: string; seedMs: number }> | undefined;

/**
 * A home with USERS users seeded through the store in batches of 10,000, marketing opt-in by default,
 * and two templates: `note` (transactional: sms + email) and `bulk` (marketing: email). Built once.
 */
export function seededHome(): Promise<{ home: string; seedMs: number }> {
  seeded ??= (async () => {
    const home = await initHome('seeded', { 'defaults.marketingOptIn': true });
    const start = performance.now();
    const store = await openHomeStore(home);
    try {
      let batch: UserInput[] = [];
      for (let i = 0; i < USERS; i++) {
        batch.push(benchUser(i));
        if (batch.length === 10_000) {
          await store.users.upsertMany(batch);
          batch = [];
        }
      }
      if (batch.length) await store.users.upsertMany(batch);
      const cfg = loadConfig(home);
      await store.templates.create('note', validateTemplate({
        category: 'transactional',
        sms: { body: 'Hi {{ user.name }}: {{ data.text }}' },
        email: { subject: 'Note for {{ user.name }}', text: '{{ data.text }}' },
      }, cfg));
      await store.templates.create('bulk', validateTemplate({ category: 'marketing', email: { subject: 'Sale', text: 'Hi {{ user.name }}, 20% off this week.' } }, cfg));
      store.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      await store.close();
    }
    return { home, seedMs: performance.now() - start };
  })();
  return seeded;
}

/** A copy of a home (config and database) in a new temp dir. The source must not be open for writing. */
export function copyHome(home: string, prefix: string): string {
  const copy = join(tempDir(prefix), 'home');
  cpSync(home, copy, { recursive: true, filter: (src) => !/daemon\.(sock|pid)$/.test(src) && !src.endsWith('/log') });
  // Flush the copy to disk now: otherwise the first fsync of the measured run (SQLite syncs a new WAL
  // header) also writes out hundreds of megabytes of copied pages, and the setup is timed as the system.
  syncTree(copy);
  return copy;
}

function syncTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) syncTree(path);
    else if (entry.isFile()) {
      const fd = openSync(path, 'r+');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }
}

export function fileMb(path: string): number {
  return existsSync(path) ? round(statSync(path).size / 1048576) : 0;
}

let fanned: Promise<{ home: string; notificationId: string; deliveries: number }> | undefined;

/**
 * A home whose outbox holds one queued `bulk` (marketing, email) delivery per seeded user: the
 * fan-out benchmark's result when it ran, else made here with the same submit().
 */
export function fannedHome(make?: () => Promise<{ home: string; notificationId: string; deliveries: number }>): Promise<{ home: string; notificationId: string; deliveries: number }> {
  fanned ??= (make ?? (async () => {
    const { submit } = await import('../src/submit.js');
    const home = copyHome((await seededHome()).home, 'fanned');
    const store = await openHomeStore(home);
    try {
      const { notification } = await submit({ template: 'bulk', segment: 'all', channels: ['email'], source: 'bench' }, store, loadConfig(home), systemClock);
      store.db.pragma('wal_checkpoint(TRUNCATE)');
      const deliveries = store.db.prepare(`SELECT count(*) FROM deliveries WHERE status = 'queued'`).pluck().get() as number;
      return { home, notificationId: notification.id, deliveries };
    } finally {
      await store.close();
    }
  }))();
  return fanned;
}

/**
 * Starts `notify daemon start` for a home and waits until its socket answers POST /wake. (Not GET /status:
 * with a large outbox /status takes longer than a readiness poll should wait; see `statusMs`.)
 */
export async function startDaemon(home: string, limitMs = 30_000, nodeArgs: string[] = []): Promise<{ child: ChildProcess; startedAt: number; logFile: string }> {
  const out = join(tempDir('daemon-out'), 'daemon.out');
  const fd = openSync(out, 'a');
  const startedAt = Date.now();
  const child = spawnNode([...nodeArgs, BIN, '--home', home, 'daemon', 'start', '--log-level', 'warn'], { stdout: fd });
  closeSync(fd);
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (await wakeDaemon(home)) return { child, startedAt, logFile: out };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  child.kill('SIGKILL');
  throw new Error(`the daemon did not start: ${existsSync(out) ? readFileSync(out, 'utf8').slice(-2000) : ''}`);
}

/** Milliseconds one GET /status takes (bounded by `limitMs`; -1 when it does not answer). */
export async function timeStatus(home: string, limitMs = 20_000): Promise<number> {
  const t = performance.now();
  const status = await readStatus(home, limitMs);
  return status ? round(performance.now() - t) : -1;
}

/** SIGTERM, then wait for the drain (SIGKILL after `limitMs`). */
export async function stopDaemon(child: ChildProcess, limitMs = 30_000): Promise<number | string> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  return waitExit(child, limitMs);
}

// ---- profiles ---------------------------------------------------------------------------------

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

function shortUrl(url: string): string {
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url);
  if (nm) return `${nm[1]}/${nm[2]}`;
  const app = /\/dist\/(.*)$/.exec(url);
  if (app) return app[1]!;
  return url.replace(/^file:\/\//, '') || '(native)';
}

/** The functions with the most self time in a .cpuprofile, as "name (file:line) 12.3%". */
export function topSelfTime(path: string, n = 10): { functions: string[]; packages: string[]; totalMs: number } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    total += dt;
    const f = node.callFrame;
    const key = `${f.functionName || '(anonymous)'} (${shortUrl(f.url)}${f.url ? ':' + (f.lineNumber + 1) : ''})`;
    self.set(key, (self.get(key) ?? 0) + dt);
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f.url)?.[1] ?? (f.url.includes('/dist/') ? 'notify' : f.url.startsWith('node:') ? 'node' : f.functionName.startsWith('(') ? f.functionName : 'native/other');
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + dt);
  });
  const pct = (v: number) => `${round((100 * v) / total)}%`;
  const sorted = [...self].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${k} ${pct(v)}`);
  const pkgs = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, v]) => `${k} ${pct(v)}`);
  return { functions: sorted, packages: pkgs, totalMs: round(total / 1000) };
}

// ---- the log provider's file ------------------------------------------------------------------

/**
 * Follows a log provider file (<home>/log/<provider>.jsonl) as it grows: counts lines and keeps each
 * line's `at` (epoch ms). Lines start with {"at":"<ISO time>", so the time is sliced, not parsed as JSON.
 * Lines containing `keep` are also kept whole.
 */
export class LogTail {
  readonly at: number[] = [];
  readonly kept: string[] = [];
  private position = 0;
  private rest = '';
  private fd: number | undefined;

  constructor(readonly file: string, private keep?: string) {}

  get lines(): number {
    return this.at.length;
  }

  /** Reads what was appended since the last call. */
  poll(): number {
    if (this.fd === undefined) {
      if (!existsSync(this.file)) return 0;
      this.fd = openSync(this.file, 'r');
    }
    const size = fstatSync(this.fd).size;
    let added = 0;
    const buf = Buffer.allocUnsafe(1 << 22);
    while (this.position < size) {
      const n = readSync(this.fd, buf, 0, Math.min(buf.length, size - this.position), this.position);
      if (n <= 0) break;
      this.position += n;
      const text = this.rest + buf.toString('utf8', 0, n);
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        this.at.push(Date.parse(text.slice(start + 7, start + 31)));
        if (this.keep && text.slice(start, nl).includes(this.keep)) this.kept.push(text.slice(start, nl));
        start = nl + 1;
        added++;
      }
      this.rest = text.slice(start);
    }
    return added;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
