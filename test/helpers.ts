/** Test helpers: temp homes and the real CLI run in-process with captured output. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { main } from '../src/cli.js';
import type { IO } from '../src/io.js';
import type { Clock } from '../src/core/time.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  stdin?: string;
  /** Pretend stdout, stderr and stdin are terminals. */
  tty?: boolean;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
}

/** A fresh temp directory removed when the test ends. */
export function tempDir(t: { after(fn: () => void): void }, prefix = 'notify-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs `notify --home HOME ...argv` through the real commander program. */
export async function notify(home: string, argv: string[], options: RunOptions = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: IO = {
    stdout: { write: (s: string) => { stdout += s; return true; }, columns: 120 },
    stderr: { write: (s: string) => { stderr += s; return true; } },
    stdin: Readable.from(options.stdin !== undefined ? [Buffer.from(options.stdin)] : []),
    isTTY: options.tty ?? false,
    errIsTTY: options.tty ?? false,
    inIsTTY: options.tty ?? false,
    color: false,
    env: { ...options.env },
  };
  const code = await main(['--home', home, ...argv], { io, clock: options.clock });
  return { code, stdout, stderr };
}

/** A temp home after `notify init --yes`. */
export async function initHome(t: { after(fn: () => void): void }, extra: string[] = []): Promise<string> {
  const home = join(tempDir(t), 'home');
  const r = await notify(home, ['init', '--yes', ...extra]);
  if (r.code !== 0) throw new Error(`init failed: ${r.stderr}`);
  return home;
}

/** Parses stdout as JSON, failing with the output when it is not. */
export function json<T = any>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}
