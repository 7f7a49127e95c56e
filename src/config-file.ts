/**
 * The config file on disk: where the home is, reading and writing config.json (mode 0600), dot paths,
 * and redaction. No schema here (that is src/config.ts, with zod), so light commands stay light.
 */
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError, InputError } from './errors.js';
import type { Config } from './config.js';

/** Dot paths whose values are secrets: redacted by `config show`, never logged. */
export const SECRET_KEYS = ['channels.sms.authToken', 'channels.webpush.vapidPrivateKey', 'channels.email.smtpUrl', 'server.tlsKey', 'tracking.key', 'analytics.secret'];

export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const dir = flag ?? env.NOTIFY_HOME ?? join(homedir(), '.notify');
  return resolve(dir);
}

export function configPath(home: string): string {
  return join(home, 'config.json');
}

export function databasePath(home: string, config: Config): string {
  return isAbsolute(config.database) ? config.database : join(home, config.database);
}

/** Reads the raw JSON object of config.json, or throws ConfigError naming the fix. */
export function readRawConfig(home: string): Record<string, unknown> {
  const path = configPath(home);
  if (!existsSync(path)) throw new ConfigError(`no notify home at ${home}: run "notify init" (or pass --home / set NOTIFY_HOME)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${path} is not valid JSON (${(err as Error).message}): fix the file or run "notify init --force"`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${path} must hold a JSON object`);
  return raw as Record<string, unknown>;
}

/** Writes config.json atomically with mode 0600. */
export function writeRawConfig(home: string, raw: Record<string, unknown>): void {
  const path = configPath(home);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(raw, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** Parses a command-line value: JSON when it is valid JSON (numbers, booleans, arrays, objects), else a string. */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const KEY_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export function checkKey(path: string): string[] {
  const parts = path.split('.');
  // JavaScript's own property names would reach the object's prototype, not config.json.
  if (!KEY_RE.test(path) || parts.some((p) => p === '__proto__' || p === 'constructor' || p === 'prototype')) {
    throw new InputError(`"${path}" is not a config key: use dot paths such as limits.marketing.perDay`);
  }
  return parts;
}

export function getPath(obj: unknown, parts: string[]): unknown {
  let cur: unknown = obj;
  for (const p of parts) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

export function setPath(obj: Record<string, unknown>, parts: string[], value: unknown): void {
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    if (!next || typeof next !== 'object' || Array.isArray(next)) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]!] = value;
}

export function unsetPath(obj: Record<string, unknown>, parts: string[]): boolean {
  const parent = getPath(obj, parts.slice(0, -1));
  if (!parent || typeof parent !== 'object') return false;
  const key = parts[parts.length - 1]!;
  if (!(key in parent)) return false;
  delete (parent as Record<string, unknown>)[key];
  return true;
}

/** A deep copy with secret values replaced, for display. */
export function redact(config: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
  for (const key of SECRET_KEYS) {
    const parts = key.split('.');
    if (getPath(copy, parts) !== undefined) setPath(copy, parts, '********');
  }
  return copy;
}

/** Is this key a secret? */
export function isSecretKey(path: string): boolean {
  return SECRET_KEYS.some((k) => path === k || k.startsWith(path + '.'));
}
