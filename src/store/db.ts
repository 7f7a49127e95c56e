/**
 * Opens the SQLite database: WAL, foreign keys, busy timeout, and the numbered migrations in
 * ./migrations applied forward-only inside a transaction. A database written by a newer notify is refused.
 */
import { chmodSync, existsSync, readdirSync, readFileSync, closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type BetterSqlite3 from 'better-sqlite3';
import { ConfigError } from '../errors.js';
import { embeddedMigrations, sqliteBinding } from '../sea.js';
import { translateSqliteError } from './errors.js';

export type Database = BetterSqlite3.Database;

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The migrations in `dir`; by default those next to this module, or those carried in the bundle (src/sea.ts). */
export function readMigrations(dir?: string): Migration[] {
  const files = (dir === undefined ? embeddedMigrations() : undefined) ?? sqlFiles(dir ?? MIGRATIONS_DIR);
  return files
    .filter((f) => /^\d+_.+\.sql$/.test(f.name))
    .map((f) => ({ version: Number(f.name.split('_')[0]), name: f.name, sql: f.sql }))
    .sort((a, b) => a.version - b.version);
}

function sqlFiles(dir: string): { name: string; sql: string }[] {
  return readdirSync(dir)
    .filter((name) => /^\d+_.+\.sql$/.test(name))
    .map((name) => ({ name, sql: readFileSync(join(dir, name), 'utf8') }));
}

function looksLikeSqlite(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(16);
    const n = readSync(fd, header, 0, 16, 0);
    return n === 0 || header.toString('latin1', 0, 15) === 'SQLite format 3';
  } finally {
    closeSync(fd);
  }
}

export interface OpenOptions {
  /** Open without applying migrations and without creating the file. */
  readonly?: boolean;
  /** Milliseconds to wait for a lock before failing. Default 5000. */
  busyTimeoutMs?: number;
}

export function openDatabase(path: string, options: OpenOptions = {}): Database {
  // createRequire(import.meta.url)(literal) is bundled by scripts/package.js as a plain require.
  const Sqlite = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  const existed = existsSync(path);
  if (existed && !looksLikeSqlite(path)) throw new ConfigError(`${path} is not a SQLite database: point "database" in config.json at the right file`);
  let db: Database;
  try {
    // nativeBinding is undefined (better-sqlite3 finds its own build) except in the bundle (src/sea.ts),
    // where it is the loaded addon: better-sqlite3 takes that too, though its types only say string.
    const nativeBinding = sqliteBinding() as string | undefined;
    db = new Sqlite(path, { readonly: options.readonly ?? false, timeout: options.busyTimeoutMs ?? 5000, nativeBinding });
    busyTimeouts.set(db, options.busyTimeoutMs ?? 5000);
  } catch (err) {
    throw new ConfigError(`cannot open ${path}: ${(err as Error).message}`);
  }
  if (!existed) chmodSync(path, 0o600);
  cacheStatements(db);
  try {
    if (!options.readonly) db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    db.pragma('cache_size = -16384');
    db.pragma('temp_store = MEMORY');
    if (!options.readonly) migrate(db, path);
  } catch (err) {
    db.close();
    throw translateSqliteError(err, path);
  }
  return db;
}

/**
 * Prepared statements are reused by SQL text: preparing costs more than running a small statement, and
 * the stores prepare at each call for readability. Callers that set a mode (`pluck()`) set it at every
 * use, so sharing is safe. Bounded, for the SQL that embeds compiled segment filters.
 */
function cacheStatements(db: Database): void {
  const prepare = db.prepare.bind(db);
  const cache = new Map<string, BetterSqlite3.Statement>();
  db.prepare = ((sql: string) => {
    let statement = cache.get(sql);
    if (!statement) {
      statement = prepare(sql);
      if (cache.size < 5000) cache.set(sql, statement);
    }
    return statement;
  }) as Database['prepare'];
}

/** Each connection's busy timeout, restored after a write that does not block. */
const busyTimeouts = new WeakMap<Database, number>();

/**
 * Runs a write without blocking the thread while another process holds the write lock: each try
 * fails at once when the database is busy, and the next comes a millisecond later, with the event
 * loop free in between. SQLite's own busy handler sleeps in growing steps (up to 100 ms) with the
 * thread blocked, and a waiter asleep misses the short gaps a long writer (a fan-out) leaves between
 * its transactions. Also waits while this connection is inside a transaction someone else opened
 * (a group commit), rather than joining it. Gives up with SQLITE_BUSY after the busy timeout.
 */
export async function writeWithoutBlocking<T>(db: Database, write: () => T): Promise<T> {
  const timeout = busyTimeouts.get(db) ?? 5000;
  const started = Date.now();
  for (;;) {
    // Inside a transaction another caller opened (a group commit awaiting its writes): not ours to join.
    if (db.inTransaction) {
      if (Date.now() - started >= timeout) throw Object.assign(new Error('database is busy: a transaction stayed open'), { code: 'SQLITE_BUSY' });
      await new Promise((resolve) => setTimeout(resolve, 1));
      continue;
    }
    db.pragma('busy_timeout = 0');
    try {
      return write();
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() - started >= timeout) throw err;
    } finally {
      db.pragma(`busy_timeout = ${timeout}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

export function migrate(db: Database, path: string, migrations = readMigrations()): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new ConfigError(`${path} was written by a newer notify (schema ${current}, this one knows ${latest}): upgrade notify`);
  }
  const pending = migrations.filter((m) => m.version > current);
  if (pending.length === 0) return;
  db.transaction(() => {
    for (const m of pending) {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }
  }).immediate();
}

export { translateSqliteError } from './errors.js';
