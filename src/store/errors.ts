/** SQLite's errors about the database file, as one-line errors users can act on. */
import { ConfigError } from '../errors.js';

/** Turns SQLite's errors about the file itself into one-line ConfigErrors; passes others through. */
export function translateSqliteError(err: unknown, path = 'the database'): unknown {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return new ConfigError(`${path} is locked by another process: try again, or stop the process holding it`);
  if (code === 'SQLITE_READONLY' || code.startsWith('SQLITE_READONLY')) return new ConfigError(`${path} is read-only: check the file's permissions and owner`);
  if (code === 'SQLITE_NOTADB') return new ConfigError(`${path} is not a SQLite database: point "database" in config.json at the right file`);
  if (code === 'SQLITE_CANTOPEN') return new ConfigError(`cannot open ${path}: check that its directory exists and is writable`);
  if (code === 'SQLITE_CORRUPT') return new ConfigError(`${path} is corrupt: restore it from a backup`);
  return err;
}
