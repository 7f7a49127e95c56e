import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Command, CommanderError } from 'commander';
import type { Ctx } from '../../src/cli.js';
import { createDeps } from '../../src/deps.js';
import type { IO } from '../../src/io.js';
import { register } from '../../src/commands/db/index.js';
import { run as backup, type BackupOptions } from '../../src/commands/db/backup.js';
import { openStore } from '../../src/store/index.js';
import { systemClock } from '../../src/core/time.js';
import { initHome, notify, tempDir } from '../helpers.js';

/** `notify db ...` through the real program. */
const db = (home: string, argv: string[]) => notify(home, ['db', ...argv]);

/** The options `db backup` hands to run(), from argv alone. */
function parseBackup(argv: string[]): BackupOptions {
  let seen: BackupOptions | undefined;
  const ctx: Ctx = { action: () => async (...args: unknown[]) => { seen = { file: args[0] as string, ...(args[1] as object) }; } };
  const program = new Command('notify').exitOverride().configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  register(program, ctx);
  program.parse(['db', 'backup', ...argv], { from: 'user' });
  assert.ok(seen, 'the action ran');
  return seen;
}

async function homeWithUsers(t: { after(fn: () => void): void }, n: number): Promise<string> {
  const home = await initHome(t);
  const store = await openStore(join(home, 'notify.db'), systemClock);
  try {
    await store.users.upsertMany(Array.from({ length: n }, (_, i) => ({ id: `u${i}`, name: `User ${i}`, email: `u${i}@example.com` })));
  } finally {
    await store.close();
  }
  return home;
}

test('db backup argv: FILE, --force and --json become options', () => {
  assert.deepEqual(parseBackup(['out.db']), { file: 'out.db' });
  assert.deepEqual(parseBackup(['out.db', '--force', '--json']), { file: 'out.db', force: true, json: true });
  assert.throws(() => parseBackup([]), (err: CommanderError) => err.code === 'commander.missingArgument');
});

test('db backup writes a complete, private, single-file copy that notify can open', async (t) => {
  const home = await homeWithUsers(t, 1500);
  const dir = tempDir(t);
  const file = join(dir, 'backup.db');
  const r = await db(home, ['backup', file, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.file, file);
  assert.equal(result.database, join(home, 'notify.db'));
  assert.equal(result.bytes, statSync(file).size);
  assert.ok(result.pages > 0);
  assert.ok(result.schema >= 1, 'the copy carries the schema version');
  assert.equal(statSync(file).mode & 0o777, 0o600, 'readable by its owner only');
  assert.deepEqual(readdirSync(dir), ['backup.db'], 'no partial, -wal or -shm files left beside it');

  // The copy is a notify database: open it as one and read the users back.
  const store = await openStore(file, systemClock);
  try {
    assert.equal(store.db.prepare('SELECT count(*) FROM users').pluck().get(), 1500);
    assert.equal(store.db.pragma('user_version', { simple: true }), result.schema);
  } finally {
    await store.close();
  }
});

test('db backup copies the database while another connection keeps writing', async (t) => {
  const home = await homeWithUsers(t, 200);
  const writer = await openStore(join(home, 'notify.db'), systemClock);
  t.after(() => writer.close());
  const file = join(tempDir(t), 'live.db');
  const io: IO = {
    stdout: { write: () => true }, stderr: { write: () => true }, stdin: Readable.from([]),
    isTTY: false, errIsTTY: false, inIsTTY: false, color: false, env: {},
  };
  const deps = createDeps({ io, clock: systemClock, home });
  t.after(() => deps.close());
  const pending = backup({ file }, deps);
  await writer.users.upsertMany([{ id: 'late', name: 'Late', email: 'late@example.com' }]);
  const result = await pending;
  const copy = await openStore(result.file, systemClock);
  try {
    const users = copy.db.prepare('SELECT count(*) FROM users').pluck().get() as number;
    assert.ok(users === 200 || users === 201, `a consistent snapshot (${users} users)`);
    assert.equal(copy.db.pragma('quick_check', { simple: true }), 'ok');
  } finally {
    await copy.close();
  }
});

test('db backup refuses to replace a file without --force, and replaces it with --force', async (t) => {
  const home = await homeWithUsers(t, 3);
  const file = join(tempDir(t), 'exists.db');
  writeFileSync(file, 'old backup');
  const refused = await db(home, ['backup', file]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /exists: choose another name or pass --force/);
  assert.equal(statSync(file).size, 'old backup'.length, 'the old file is untouched');

  const forced = await db(home, ['backup', file, '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  const fields = Object.fromEntries(forced.stdout.trim().split('\n').map((l) => l.split('\t') as [string, string]));
  assert.equal(fields.file, file);
  assert.ok(Number(fields.bytes) > 'old backup'.length);
});

test('db backup refuses the database itself, a directory, and a missing directory', async (t) => {
  const home = await homeWithUsers(t, 1);
  const self = await db(home, ['backup', join(home, 'notify.db'), '--force']);
  assert.equal(self.code, 2);
  assert.match(self.stderr, /is the database itself/);

  const dir = tempDir(t);
  const isDir = await db(home, ['backup', dir]);
  assert.equal(isDir.code, 1);
  assert.match(isDir.stderr, /is a directory/);

  const missing = await db(home, ['backup', join(dir, 'no', 'such', 'x.db')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /does not exist: create it first/);
  assert.deepEqual(readdirSync(dir), [], 'nothing written');
});

test('db --help lists backup', async (t) => {
  const home = await initHome(t);
  const r = await db(home, ['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /backup \[options\] <file>/);
  // Through the real program too, once src/cli.ts registers the group.
  const viaCli = await notify(home, ['db', 'backup', '--help']);
  assert.equal(viaCli.code, 0, viaCli.stderr);
  assert.match(viaCli.stdout, /online backup/);
});
