/** Small helpers every verb uses to read flags and confirm destructive work. */
import type { Deps } from '../deps.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { InputError, UsageError } from '../errors.js';

/** For repeatable flags: `--data a=1 --data b=2`. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * A flag value commander should reject with its "option '--x <n>' argument 'y' is invalid." line. Its
 * own InvalidArgumentError would do, but importing commander here loads a second copy of it beside the
 * one bundled into the CLI's entry (scripts/bundle-cli.js); commander only reads the code and exit code.
 */
export class InvalidArgumentError extends Error {
  readonly code = 'commander.invalidArgument';
  readonly exitCode = 1;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive whole number up to ${Number.MAX_SAFE_INTEGER}.`);
  return n;
}

/** Parses repeated `k=v` pairs into an object; values are JSON when they parse as JSON. */
export function parsePairs(pairs: string[], flag = '--data'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`${flag} "${pair}" is not key=value (for example ${flag} product=shoes)`);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    if (/^(-?\d+(\.\d+)?|true|false|null|\[.*\]|\{.*\})$/s.test(raw)) {
      try {
        value = JSON.parse(raw);
      } catch {
        value = raw;
      }
    }
    out[key] = value;
  }
  return out;
}

/**
 * Destructive commands confirm on a terminal and refuse without --yes otherwise.
 * Returns false when the person said no.
 */
export async function confirmDestructive(deps: Deps, yes: boolean | undefined, question: string): Promise<boolean> {
  if (yes) return true;
  if (!deps.io.inIsTTY || !deps.io.isTTY) throw new UsageError(`${question.replace(/\?$/, '')}: refusing without --yes when not on a terminal`);
  return deps.prompter.confirm(question, false);
}

/** A file's text, or standard input's for "-". */
export async function readInput(file: string, deps: Deps): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of deps.io.stdin) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  }
  checkReadable(file);
  return readFileSync(file, 'utf8');
}

/** Template data from `--data-file` (a JSON object) overlaid with `--data k=v` pairs. */
export async function readTemplateData(options: { dataFile?: string; data?: string[] }, deps: Deps): Promise<Record<string, unknown>> {
  let data: Record<string, unknown> = {};
  if (options.dataFile !== undefined) {
    const text = await readInput(options.dataFile, deps);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new InputError(`${options.dataFile} is not valid JSON (${(err as Error).message})`, { field: '--data-file' });
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new InputError(`${options.dataFile} must hold a JSON object`, { field: '--data-file' });
    data = value as Record<string, unknown>;
  }
  return { ...data, ...parsePairs(options.data ?? []) };
}

/** Throws InputError naming what is wrong when `file` cannot be read as a file: missing, a directory, a device. */
export function checkReadable(file: string, field?: string): void {
  const where = field ? { field } : undefined;
  if (!existsSync(file)) throw new InputError(`cannot read "${file}": no such file`, where);
  const st = statSync(file);
  if (st.isDirectory()) throw new InputError(`cannot read "${file}": it is a directory; name a file in it`, where);
  if (!st.isFile()) throw new InputError(`cannot read "${file}": not a regular file`, where);
}
