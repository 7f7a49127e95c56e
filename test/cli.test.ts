import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { buildProgram } from '../src/cli.js';
import { initHome, json, notify, tempDir } from './helpers.js';
import type { IO } from '../src/io.js';
import { openHomeStore } from './daemon/harness.js';

test('notify --help loads no database driver, template engine or provider SDK', () => {
  const r = spawnSync(process.execPath, ['--import', resolve('test/fixtures/module-trace/register.mjs'), 'bin/notify.js', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Usage: notify/);
  const line = r.stderr.split('\n').find((l) => l.startsWith('MODULES '));
  assert.ok(line, 'the module trace printed its list');
  const modules = JSON.parse(line.slice('MODULES '.length)) as string[];
  assert.ok(modules.some((m) => m.endsWith('/dist/src/cli.bundle.js')), 'the trace sees the modules --help loads');
  for (const heavy of ['better-sqlite3', 'liquidjs', 'firebase-admin', 'node-apn', 'twilio', 'nodemailer', 'web-push', 'fastify', 'pino', 'csv-parse', 'libphonenumber-js', 'zod', 'yaml']) {
    assert.ok(!modules.some((m) => m.includes(`/node_modules/${heavy}/`) || m.includes(`/node_modules/@parse/${heavy}`)), `${heavy} was loaded by --help`);
  }
});

function walk(cmd: Command, path: string[] = []): string[][] {
  return cmd.commands.filter((c) => c.name() !== 'help').flatMap((c) => [[...path, c.name()], ...walk(c, [...path, c.name()])]);
}

test('every command and subcommand has help with examples', async (t) => {
  const io = { stdout: { write: () => true }, stderr: { write: () => true } } as unknown as IO;
  const program = await buildProgram({ action: () => async () => undefined }, io);
  const home = tempDir(t);
  const paths = walk(program);
  assert.ok(paths.length > 30, `found ${paths.length} commands`);
  for (const path of paths) {
    const cmd = path.reduce((c: Command, name) => c.commands.find((x) => x.name() === name)!, program);
    if (cmd.commands.length > 0) continue;
    const r = await notify(home, [...path, '--help']);
    assert.equal(r.code, 0, path.join(' '));
    assert.match(r.stdout, /Examples?:[\s\S]*\$ notify/, `notify ${path.join(' ')} --help shows examples`);
  }
});

test('init creates a private home and refuses to overwrite it without --force', async (t) => {
  const home = join(tempDir(t), 'home');
  const r = await notify(home, ['init', '--yes', '--country', 'KR', '--timezone', 'Asia/Seoul', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(statSync(join(home, 'config.json')).mode & 0o777, 0o600);
  assert.equal(statSync(join(home, 'notify.db')).mode & 0o777, 0o600);
  const config = JSON.parse(readFileSync(join(home, 'config.json'), 'utf8'));
  assert.equal(config.defaults.country, 'KR');
  assert.deepEqual(Object.values(config.channels).map((c) => (c as { provider: string }).provider), ['log', 'log', 'log', 'log', 'log']);
  assert.equal(config.limits.marketing.perDay, 5);
  const again = await notify(home, ['init', '--yes']);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already a notify home: pass --force/);
  assert.equal((await notify(home, ['init', '--yes', '--force'])).code, 0);
  const bad = await notify(join(tempDir(t), 'x'), ['init', '--yes', '--timezone', 'Nowhere/Land']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /not an IANA timezone/);
});

test('config set validates before writing; show redacts secrets', async (t) => {
  const home = await initHome(t);
  const before = readFileSync(join(home, 'config.json'), 'utf8');
  for (const [key, value, message] of [
    ['limits.marketing.perDay', 'lots', /Expected number/],
    ['defaults.country', 'Korea', /two-letter ISO country code/],
    ['channels.sms.provider', 'carrier-pigeon', /channels\.sms\.provider/],
    ['nonsense.key', '1', /Unrecognized key/],
    ['bad key!', '1', /not a config key/],
    ['defaults.__proto__', '1', /not a config key/],
    // Values that parse but would break later commands are refused when written.
    ['defaults.country', 'ZZ', /not a country code/],
    ['defaults.timezone', 'Mars/Base', /must be an IANA timezone/],
    ['defaults.locale', '!!', /must be a BCP 47 locale/],
    ['quietHours', '25:00-08:00', /HH:MM-HH:MM \(24-hour\)/],
    ['quietHours', '23:99-08:00', /HH:MM-HH:MM/],
    ['server.listen', 'not a host', /must be host:port/],
    ['server.publicUrl', 'ftp://notify.example.com', /http:\/\/ or https:\/\//],
    ['database', '', /SQLite file path/],
    ['channels.email.smtpUrl', 'not a url', /smtp:\/\/ or smtps:\/\//],
    ['channels.email.from', 'not an address', /must be an email address/],
    ['channels.apns.endpoint', 'http://127.0.0.1:8443', /https:\/\//],
    ['alerts.webhookUrl', 'ftp://x', /http:\/\/ or https:\/\//],
  ] as const) {
    const r = await notify(home, ['config', 'set', key, value]);
    assert.equal(r.code, 1, key);
    assert.match(r.stderr, message);
  }
  assert.equal(readFileSync(join(home, 'config.json'), 'utf8'), before, 'nothing written');
  assert.equal((await notify(home, ['config', 'set', 'channels.sms.authToken', 'tok-secret-123'])).code, 0);
  assert.equal((await notify(home, ['config', 'set', 'limits.marketing.perDay', '3'])).code, 0);
  for (const [key, value] of [['defaults.timezone', 'Asia/Seoul'], ['defaults.locale', 'pt-BR'], ['quietHours', '22:00-08:00'], ['server.listen', '[::1]:7878'], ['channels.email.from', 'Acme <notify@acme.example>']]) {
    const r = await notify(home, ['config', 'set', key!, value!]);
    assert.equal(r.code, 0, `${key}: ${r.stderr}`);
  }
  assert.equal((await notify(home, ['config', 'get', 'limits.marketing.perDay'])).stdout, '3\n');
  const shown = await notify(home, ['config', 'show']);
  assert.doesNotMatch(shown.stdout, /tok-secret-123/);
  assert.equal(json(shown).channels.sms.authToken, '********');
  assert.equal(statSync(join(home, 'config.json')).mode & 0o777, 0o600);
  assert.equal((await notify(home, ['config', 'unset', 'limits.marketing.perDay'])).code, 0);
  assert.equal((await notify(home, ['config', 'get', 'limits.marketing.perDay'])).code, 1);
});

test('a broken home is a one-line error that names the fix', async (t) => {
  const missing = await notify(join(tempDir(t), 'none'), ['users', 'list']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error: no notify home at .*: run "notify init"/);

  const home = await initHome(t);
  writeFileSync(join(home, 'config.json'), '{ not json');
  const badJson = await notify(home, ['users', 'list']);
  assert.match(badJson.stderr, /config\.json is not valid JSON/);
  assert.equal(badJson.stderr.trim().split('\n').length, 1);

  writeFileSync(join(home, 'config.json'), JSON.stringify({ defaults: { marketingOptIn: 'yes' } }));
  assert.match((await notify(home, ['users', 'list'])).stderr, /defaults\.marketingOptIn: Expected boolean/);

  const home2 = await initHome(t);
  writeFileSync(join(home2, 'notify.db'), 'this is not a database at all');
  chmodSync(join(home2, 'notify.db'), 0o600);
  for (const suffix of ['-wal', '-shm']) if (existsSync(join(home2, 'notify.db' + suffix))) writeFileSync(join(home2, 'notify.db' + suffix), '');
  const notDb = await notify(home2, ['users', 'list']);
  assert.equal(notDb.code, 1);
  assert.match(notDb.stderr, /is not a SQLite database/);
});

test('a database written by a newer notify is refused', async (t) => {
  const home = await initHome(t);
  const store = await openHomeStore(t, home);
  store.db.pragma('user_version = 999');
  await store.close();
  const r = await notify(home, ['users', 'list']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /written by a newer notify \(schema 999/);
});

test('a locked database fails with a clear message instead of hanging', async (t) => {
  const home = await initHome(t);
  const store = await openHomeStore(t, home);
  store.db.exec('BEGIN EXCLUSIVE');
  t.after(() => { try { store.db.exec('ROLLBACK'); } catch { /* closed */ } });
  const r = spawnSync(process.execPath, ['bin/notify.js', '--home', home, 'users', 'add', 'x'], { encoding: 'utf8', env: { ...process.env } });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /is locked by another process/);
  store.db.exec('ROLLBACK');
  assert.deepEqual(json(await notify(home, ['users', 'list', '--json'])), []);
});

test('unknown commands and flags exit 2', async (t) => {
  const home = await initHome(t);
  assert.equal((await notify(home, ['frobnicate'])).code, 2);
  assert.equal((await notify(home, ['users', 'list', '--bogus'])).code, 2);
  // One line each, commander's suggestion included.
  const typo = await notify(home, ['users', 'lst']);
  assert.deepEqual([typo.code, typo.stderr], [2, "error: unknown command 'lst' (did you mean list?)\n"]);
  const flag = await notify(home, ['users', 'list', '--jsn']);
  assert.deepEqual([flag.code, flag.stderr], [2, "error: unknown option '--jsn' (did you mean --json?)\n"]);
  const huge = await notify(home, ['users', 'list', '--limit', '99999999999999999999']);
  assert.equal(huge.code, 2);
  assert.match(huge.stderr, /^error: option '--limit <n>' argument '99999999999999999999' is invalid\. expected a positive whole number up to 9007199254740991\.\n$/);
  const dir = tempDir(t);
  for (const argv of [['templates', 'create', 'x', '--file', dir], ['users', 'import', dir, '--format', 'csv']]) {
    const r = await notify(home, argv);
    assert.deepEqual([r.code, r.stderr], [1, `error: cannot read "${dir}": it is a directory; name a file in it\n`], argv.join(' '));
  }
});

test('credentials may come from NOTIFY_* environment variables, which win over config.json', async (t) => {
  const home = await initHome(t);
  assert.equal((await notify(home, ['config', 'set', 'channels.sms.from', '+15550001111'])).code, 0);
  const env = { NOTIFY_CHANNELS_SMS_AUTH_TOKEN: 'env-token', NOTIFY_CHANNELS_SMS_FROM: '+15550002222', NOTIFY_SERVER_PUBLIC_URL: 'https://notify.example.com' };
  const shown = json(await notify(home, ['config', 'show'], { env }));
  assert.equal(shown.channels.sms.from, '+15550002222');
  assert.equal(shown.channels.sms.authToken, '********', 'still redacted');
  assert.equal(shown.server.publicUrl, 'https://notify.example.com');
  assert.equal((await notify(home, ['config', 'get', 'channels.sms.authToken', '--show-secret'], { env })).stdout, 'env-token\n');
  const bad = await notify(home, ['users', 'list'], { env: { NOTIFY_SERVER_PUBLIC_URL: 'not a url' } });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /NOTIFY_SERVER_PUBLIC_URL: server\.publicUrl/);
});

test('errors from another copy of errors.js are NotifyErrors too: the bundled entry carries its own', async () => {
  const { NotifyError, InputError } = await import('../src/errors.js');
  const copy = (await import(new URL('../src/errors.js?second-copy', import.meta.url).href)) as typeof import('../src/errors.js');
  assert.notEqual(copy.NotifyError, NotifyError, 'a separate module instance');
  assert.ok(new copy.InputError('x') instanceof NotifyError);
  assert.ok(new InputError('x') instanceof copy.NotifyError);
  assert.ok(!(new copy.InputError('x') instanceof InputError), 'subclasses keep the ordinary check');
  assert.ok(!(new Error('x') instanceof NotifyError));
});

test('the installed entry reports a notify error as one line with its exit code', async (t) => {
  const home = await initHome(t);
  const r = spawnSync(process.execPath, ['bin/notify.js', '--home', home, 'users', 'show', 'nobody'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'error: no user "nobody": check the id with "notify users list"\n', 'no stack, no --debug hint: it is a NotifyError');
  const usage = spawnSync(process.execPath, ['bin/notify.js', '--home', home, 'send', '--template', 'x', '--segment', 'all', '--priority', 'urgent'], { encoding: 'utf8' });
  assert.equal(usage.status, 2, usage.stderr);
  const debug = spawnSync(process.execPath, ['bin/notify.js', '--home', home, '--debug', 'users', 'show', 'nobody'], { encoding: 'utf8' });
  assert.equal(debug.status, 1);
  const [line, ...stack] = debug.stderr.trimEnd().split('\n');
  assert.equal(line, 'error: no user "nobody": check the id with "notify users list"', '--debug keeps the one line first');
  assert.match(stack.join('\n'), /^NotFoundError: .*\n\s+at /, '--debug adds the stack');
});
