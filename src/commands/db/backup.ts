/**
 * `notify db backup FILE`: a consistent copy of the SQLite database while it is in use, with SQLite's
 * online backup API (better-sqlite3's db.backup()). The daemon may keep sending meanwhile.
 */
import { closeSync, existsSync, openSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { ConfigError, InputError, UsageError } from '../../errors.js';
import { notice, printRecord, Progress } from '../../io.js';
import { openDatabase } from '../../store/db.js';

export interface BackupOptions {
  /** Where to write the copy; relative to the current directory. */
  file: string;
  /** Replace FILE if it exists. Default false. */
  force?: boolean;
  json?: boolean;
}

export interface BackupResult {
  /** Absolute path of the copy. */
  file: string;
  /** The database that was copied. */
  database: string;
  bytes: number;
  pages: number;
  /** Schema version (PRAGMA user_version) of the copy. */
  schema: number;
}

export function register(parent: Command, ctx: Ctx): void {
  parent.command('backup <file>')
    .description('write a consistent copy of the database while notify keeps running (SQLite online backup)')
    .option('--force', 'replace FILE if it exists')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `
The copy is written beside FILE, checked with PRAGMA quick_check, then renamed into place, so FILE is
either the previous file or a complete backup. It is one self-contained file (journal mode DELETE),
readable only by its owner (0600). The daemon can keep running; it is not paused.

To restore: stop the daemon, copy the backup over the database file named in config.json, delete its
-wal and -shm files if any, and start again.

Examples:
  $ notify db backup /var/backups/notify/notify-$(date +%F).db
  $ notify db backup backup.db --force --json`)
    .action(ctx.action(async (deps, file: string, opts: Omit<BackupOptions, 'file'>) => {
      const r = await run({ file, ...opts }, deps);
      printRecord(deps.io, { file: r.file, database: r.database, bytes: r.bytes, pages: r.pages, schema: r.schema }, { json: opts.json, jsonValue: r });
    }));
}

export async function run(options: BackupOptions, deps: Deps): Promise<BackupResult> {
  const file = resolve(options.file);
  if (existsSync(file)) {
    if (statSync(file).isDirectory()) throw new InputError(`${file} is a directory: name the backup file, for example ${file}/notify.db`);
    if (!options.force) throw new UsageError(`${file} exists: choose another name or pass --force to replace it`);
  }
  if (!existsSync(dirname(file))) throw new InputError(`the directory ${dirname(file)} does not exist: create it first`);
  const store = await deps.store();
  const database = resolve(store.path);
  if (database === file) throw new UsageError(`${file} is the database itself: write the backup to another file`);

  // Written beside the target and renamed once complete: FILE is never half a backup.
  const partial = `${file}.partial-${process.pid}`;
  // Private from the first byte: the copy holds people's addresses and consent records.
  closeSync(openSync(partial, 'wx', 0o600));
  try {
    const progress = new Progress(deps.io, 'backup', undefined);
    let pages = 0;
    const meta = await store.db.backup(partial, {
      progress: ({ totalPages, remainingPages }) => {
        pages = totalPages;
        progress.update(totalPages - remainingPages);
        return 1000; // pages per step: small steps keep writers (the daemon) from waiting long
      },
    });
    progress.done();
    pages = meta.totalPages || pages;
    const schema = checkCopy(partial);
    renameSync(partial, file);
    notice(deps.io, `Backed up ${database} to ${file}`);
    return { file, database, bytes: statSync(file).size, pages, schema };
  } catch (err) {
    try { unlinkSync(partial); } catch { /* not created or already gone */ }
    for (const suffix of ['-wal', '-shm', '-journal']) {
      try { unlinkSync(partial + suffix); } catch { /* none */ }
    }
    throw err;
  }
}

/** Makes the copy a single file (journal mode DELETE), checks it, and returns its schema version. */
function checkCopy(path: string): number {
  const copy = openDatabase(path);
  try {
    copy.pragma('journal_mode = DELETE');
    const check = copy.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new ConfigError(`the backup failed its integrity check (${String(check)}): the database may be damaged; run PRAGMA integrity_check on it`);
    return copy.pragma('user_version', { simple: true }) as number;
  } finally {
    copy.close();
  }
}
