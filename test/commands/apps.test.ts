import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRate } from '../../src/commands/apps/create.js';
import { hashSecret, secretMatches } from '../../src/store/apps.js';
import { initHome, notify, type CliResult } from '../helpers.js';

/** `notify apps ...` through the real program. */
const apps = (home: string, argv: string[], options: { tty?: boolean } = {}) => notify(home, ['apps', ...argv], options);

function json(r: CliResult): any {
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('apps create prints the key and secret once, and stores only the secret\'s hash', async (t) => {
  const home = await initHome(t);
  const created = json(await apps(home, ['create', 'checkout', '--scopes', 'send,events', '--rate', '500/s', '--json']));
  assert.match(created.key, /^ak_[A-Za-z0-9_-]{22}$/);
  assert.match(created.secret, /^sk_[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(created.scopes, ['send', 'events']);
  assert.equal(created.ratePerSec, 500);
  assert.equal(created.status, 'active');

  const database = ['notify.db', 'notify.db-wal'].map((f) => join(home, f)).filter(existsSync).map((f) => readFileSync(f).toString('latin1')).join('');
  assert.equal(database.includes(created.secret), false, 'the secret is not in the database');
  assert.ok(database.includes(hashSecret(created.secret).toString('hex')), 'its SHA-256 is');

  const listed = json(await apps(home, ['list', '--json']));
  assert.equal(listed.length, 1);
  assert.equal(listed[0].key, created.key);
  assert.equal('secret' in listed[0], false, 'list never shows a secret');
  assert.equal(JSON.stringify(listed).includes(created.secret), false);
});

test('apps create piped prints tab-separated fields and defaults to every scope at 200/s', async (t) => {
  const home = await initHome(t);
  const r = await apps(home, ['create', 'mobile']);
  assert.equal(r.code, 0, r.stderr);
  const fields = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split('\t') as [string, string]));
  assert.match(fields.key!, /^ak_/);
  assert.match(fields.secret!, /^sk_/);
  assert.equal(fields.scopes, 'send,contacts,preferences,events');
  assert.equal(fields.rate, '200/s');
  assert.equal(r.stderr, '', 'no notices when not on a terminal');
});

test('apps create refuses bad names, scopes, rates and taken names with one line, and writes nothing', async (t) => {
  const home = await initHome(t);
  await apps(home, ['create', 'taken']);
  const cases: [string[], number, RegExp][] = [
    [['create', 'bad name'], 1, /"bad name" is not an app name/],
    [['create', 'x', '--scopes', 'send,admin'], 2, /--scopes "admin" is not a scope: use send, contacts, preferences, events/],
    [['create', 'x', '--rate', 'fast'], 2, /--rate "fast" is not a rate/],
    [['create', 'x', '--rate', '0/s'], 2, /--rate "0\/s" is not a rate/],
    [['create', 'taken'], 1, /an app named "taken" already exists/],
  ];
  for (const [argv, code, message] of cases) {
    const r = await apps(home, argv);
    assert.equal(r.code, code, argv.join(' '));
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  assert.equal(json(await apps(home, ['list', '--json'])).length, 1);
});

test('rates are read per second, minute or hour', () => {
  assert.equal(parseRate('200/s'), 200);
  assert.equal(parseRate('200'), 200);
  assert.equal(parseRate('6000/m'), 100);
  assert.equal(parseRate('3600/h'), 1);
  assert.equal(parseRate('0.5/s'), 0.5);
});

test('apps revoke refuses without --yes when piped, then marks the app revoked', async (t) => {
  const home = await initHome(t);
  const created = json(await apps(home, ['create', 'mobile', '--json']));
  const refused = await apps(home, ['revoke', 'mobile']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /refusing without --yes/);
  assert.equal(json(await apps(home, ['list', '--json']))[0].status, 'active');
  const revoked = json(await apps(home, ['revoke', 'mobile', '--yes', '--json']));
  assert.equal(revoked.status, 'revoked');
  assert.ok(revoked.revokedAt);
  assert.deepEqual(json(await apps(home, ['list', '--active', '--json'])), []);
  const byKey = await apps(home, ['revoke', created.key, '--yes']);
  assert.equal(byKey.code, 0, 'revoking twice is fine, and the key names the app too');
  const unknown = await apps(home, ['revoke', 'ghost', '--yes']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^error: no app "ghost": see "notify apps list"\n$/);
});

test('apps rotate prints a new secret once; only the new one matches the stored hash', async (t) => {
  const home = await initHome(t);
  const created = json(await apps(home, ['create', 'checkout', '--json']));
  const rotated = json(await apps(home, ['rotate', 'checkout', '--yes', '--json']));
  assert.equal(rotated.key, created.key, 'the key stays');
  assert.notEqual(rotated.secret, created.secret);
  assert.ok(rotated.rotatedAt);
  const { openStore } = await import('../../src/store/index.js');
  const store = await openStore(join(home, 'notify.db'), { now: () => Date.now() });
  t.after(() => store.close());
  const stored = (await store.apps.findByKey(created.key))!;
  assert.equal(secretMatches(rotated.secret, stored.secretHash), true);
  assert.equal(secretMatches(created.secret, stored.secretHash), false);

  await apps(home, ['revoke', 'checkout', '--yes']);
  const r = await apps(home, ['rotate', 'checkout', '--yes']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /is revoked: create a new one/);
});
