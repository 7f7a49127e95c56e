import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initHome, json, notify, tempDir } from '../helpers.js';
import { openHomeStore } from '../daemon/harness.js';

test('users add normalises email and phone and stores attributes', async (t) => {
  const home = await initHome(t);
  const r = await notify(home, ['users', 'add', 'u1', '--email', 'Ada@Example.COM', '--phone', '(415) 555-2671', '--attr', 'plan=pro', '--attr', 'age=30', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const user = json(r);
  assert.equal(user.email, 'Ada@example.com');
  assert.equal(user.phone, '+14155552671');
  assert.deepEqual(user.attributes, { plan: 'pro', age: 30 });
});

test('phone numbers without a country code use defaults.country', async (t) => {
  const home = await initHome(t, ['--country', 'KR']);
  const r = await notify(home, ['users', 'add', 'k1', '--phone', '010-1234-5678', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(json(r).phone, '+821012345678');
});

test('users add rejects each bad field with one line and writes nothing', async (t) => {
  const home = await initHome(t);
  const cases: [string[], RegExp][] = [
    [['--email', 'not-an-email'], /email.*not a valid email/],
    [['--phone', '12'], /phone.*not a valid phone number/],
    [['--timezone', 'Mars/Olympus'], /timezone.*not an IANA timezone/],
    [['--locale', 'not a locale!'], /locale.*not a BCP 47 locale/],
    [['--attr', 'novalue'], /--attr "novalue" is not key=value/],
  ];
  for (const [flags, message] of cases) {
    const r = await notify(home, ['users', 'add', 'bad', ...flags]);
    assert.notEqual(r.code, 0, `${flags.join(' ')} should fail`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line for ${flags.join(' ')}: ${r.stderr}`);
  }
  const list = await notify(home, ['users', 'list', '--json']);
  assert.deepEqual(json(list), []);
});

test('adding an existing id fails and keeps the stored user', async (t) => {
  const home = await initHome(t);
  await notify(home, ['users', 'add', 'u1', '--email', 'a@example.com']);
  const r = await notify(home, ['users', 'add', 'u1', '--email', 'b@example.com']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /already exists/);
  assert.equal(json(await notify(home, ['users', 'show', 'u1', '--json'])).email, 'a@example.com');
});

test('users update changes only the given fields and merges attributes', async (t) => {
  const home = await initHome(t);
  await notify(home, ['users', 'add', 'u1', '--name', 'Ada', '--email', 'a@example.com', '--attr', 'plan=pro', '--attr', 'trial=true']);
  const r = await notify(home, ['users', 'update', 'u1', '--email', 'new@example.com', '--attr', 'seats=3', '--unset-attr', 'trial', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const user = json(r);
  assert.equal(user.name, 'Ada');
  assert.equal(user.email, 'new@example.com');
  assert.deepEqual(user.attributes, { plan: 'pro', seats: 3 });
});

test('unknown users are a one-line error naming the fix', async (t) => {
  const home = await initHome(t);
  for (const argv of [['users', 'show', 'ghost'], ['users', 'update', 'ghost', '--name', 'x'], ['users', 'remove', 'ghost', '--yes']]) {
    const r = await notify(home, argv);
    assert.equal(r.code, 1, argv.join(' '));
    assert.match(r.stderr, /^error: no user "ghost": check the id with "notify users list"\n$/);
  }
});

test('users update with nothing to change is a usage error', async (t) => {
  const home = await initHome(t);
  assert.equal((await notify(home, ['users', 'add', 'u1'])).code, 0);
  const before = json(await notify(home, ['users', 'show', 'u1', '--json']));
  const r = await notify(home, ['users', 'update', 'u1']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: nothing to change: give at least one of --name/);
  assert.deepEqual(json(await notify(home, ['users', 'show', 'u1', '--json'])), before, 'updatedAt untouched');
});

test('users remove refuses without --yes when not on a terminal', async (t) => {
  const home = await initHome(t);
  await notify(home, ['users', 'add', 'u1']);
  const r = await notify(home, ['users', 'remove', 'u1']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /refusing without --yes/);
  assert.equal((await notify(home, ['users', 'show', 'u1'])).code, 0);
  assert.equal((await notify(home, ['users', 'remove', 'u1', '--yes'])).code, 0);
  assert.equal((await notify(home, ['users', 'show', 'u1'])).code, 1);
});

test('users remove deletes the user with devices and preferences; delivery history stays', async (t) => {
  const home = await initHome(t);
  const ok = async (argv: string[]) => {
    const r = await notify(home, argv);
    assert.equal(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
    return r;
  };
  const file = join(tempDir(t), 'hello.yaml');
  writeFileSync(file, 'category: transactional\nemail:\n  subject: Hi\n  text: Hello\n');
  await ok(['templates', 'create', 'hello', '--file', file]);
  for (const [u, token] of [['u1', 'a'.repeat(64)], ['u2', 'b'.repeat(64)]] as const) {
    await ok(['users', 'add', u, '--email', `${u}@example.com`]);
    await ok(['devices', 'add', '--user', u, '--platform', 'ios', '--token', token]);
    await ok(['prefs', 'set', '--user', u, '--channel', 'sms', '--opt-out']);
  }
  await ok(['send', '--template', 'hello', '--user', 'u1', '--user', 'u2', '--channel', 'email']);

  await ok(['users', 'remove', 'u1', '--yes']);
  const store = await openHomeStore(t, home);
  const count = (table: string, user: string) => store.db.prepare(`SELECT count(*) FROM ${table} WHERE user_id = ?`).pluck().get(user);
  assert.deepEqual(['devices', 'preferences', 'deliveries'].map((table) => count(table, 'u1')), [0, 0, 1], 'u1: no devices, no preferences, its delivery kept');
  assert.deepEqual(['devices', 'preferences', 'deliveries'].map((table) => count(table, 'u2')), [1, 1, 1], 'u2 untouched');
  assert.deepEqual(json(await ok(['log', '--user', 'u1', '--json'])).map((d: { userId: string }) => d.userId), ['u1'], 'the history still shows it');
});

test('users list pages by id and prints tab-separated rows when piped', async (t) => {
  const home = await initHome(t);
  for (const id of ['a', 'b', 'c', 'd']) await notify(home, ['users', 'add', id, '--email', `${id}@example.com`]);
  const page1 = await notify(home, ['users', 'list', '--limit', '2']);
  assert.equal(page1.stdout, 'a\t\ta@example.com\t\t\t\t\nb\t\tb@example.com\t\t\t\t\n');
  const page2 = json(await notify(home, ['users', 'list', '--limit', '2', '--after', 'b', '--json']));
  assert.deepEqual(page2.map((u: { id: string }) => u.id), ['c', 'd']);
  const table = await notify(home, ['users', 'list'], { tty: true });
  assert.match(table.stdout, /│ ID\s+│ NAME/);
});

test('import: CSV with bad rows imports the good ones and reports each bad one', async (t) => {
  const home = await initHome(t);
  const file = join(tempDir(t), 'users.csv');
  writeFileSync(file, 'id,name,email,phone,plan,age,tags\n' +
    'u1,Ada,ada@example.com,+14155552671,pro,36,"[""beta""]"\n' +
    'u2,Bob,not-an-email,,free,20,\n' +
    'u3,Cy,cy@example.com,12,team,50,\n' +
    'u4,Di,di@example.com,,team,41,\n' +
    'u5,short\n');
  const r = await notify(home, ['users', 'import', file, '--json']);
  assert.equal(r.code, 1);
  const summary = json(r);
  assert.deepEqual({ rows: summary.rows, inserted: summary.inserted, invalid: summary.invalid }, { rows: 5, inserted: 2, invalid: 3 });
  assert.match(r.stderr, /^line 3, field "email": "not-an-email" is not a valid email/m);
  assert.match(r.stderr, /^line 4, field "phone": /m);
  assert.match(r.stderr, /^line 6: has 2 columns, the header has 7/m);
  const u1 = json(await notify(home, ['users', 'show', 'u1', '--json']));
  assert.deepEqual(u1.attributes, { plan: 'pro', age: 36, tags: ['beta'] });
});

test('import --strict and --dry-run write nothing', async (t) => {
  const home = await initHome(t);
  const file = join(tempDir(t), 'users.csv');
  writeFileSync(file, 'id,email\nu1,a@example.com\nu2,bad\n');
  for (const flag of ['--strict', '--dry-run']) {
    const r = await notify(home, ['users', 'import', file, flag]);
    assert.equal(r.code, 1, flag);
    assert.match(r.stderr, /nothing was written/);
    assert.deepEqual(json(await notify(home, ['users', 'list', '--json'])), [], flag);
  }
});

test('import: a malformed file writes nothing', async (t) => {
  const home = await initHome(t);
  const dir = tempDir(t);
  const csv = join(dir, 'broken.csv');
  writeFileSync(csv, 'id,email\nu1,a@example.com\nu2,"unclosed\n');
  const jsonl = join(dir, 'broken.jsonl');
  writeFileSync(jsonl, '{"id":"u1","email":"a@example.com"}\n{"id": "u2", \n');
  for (const file of [csv, jsonl]) {
    const r = await notify(home, ['users', 'import', file]);
    assert.equal(r.code, 1, file);
    assert.match(r.stderr, /nothing was imported/);
    assert.deepEqual(json(await notify(home, ['users', 'list', '--json'])), []);
  }
  const noId = join(dir, 'noid.csv');
  writeFileSync(noId, 'name,email\nAda,a@example.com\n');
  assert.match((await notify(home, ['users', 'import', noId])).stderr, /no "id" column/);
});

test('import JSONL upserts by id and reads from stdin', async (t) => {
  const home = await initHome(t);
  const r1 = await notify(home, ['users', 'import', '-', '--format', 'jsonl'], { stdin: '{"id":"u1","email":"a@example.com","plan":"pro"}\n{"id":"u2","locale":"ko","timezone":"Asia/Seoul"}\n' });
  assert.equal(r1.code, 0, r1.stderr);
  const r2 = await notify(home, ['users', 'import', '-', '--format', 'jsonl', '--json'], { stdin: '{"id":"u1","name":"Ada"}\n' });
  assert.deepEqual({ inserted: json(r2).inserted, updated: json(r2).updated }, { inserted: 0, updated: 1 });
  const u1 = json(await notify(home, ['users', 'show', 'u1', '--json']));
  assert.equal(u1.name, 'Ada');
  assert.equal(u1.email, 'a@example.com');
  assert.deepEqual(u1.attributes, { plan: 'pro' });
});

test('import of 100,000 rows finishes and counts every row', async (t) => {
  const home = await initHome(t);
  const file = join(tempDir(t), 'big.csv');
  const lines = ['id,email,phone,plan'];
  for (let i = 0; i < 100_000; i++) lines.push(`user${i},user${i}@example.com,+1415555${String(i % 10000).padStart(4, '0')},${i % 3 ? 'free' : 'pro'}`);
  writeFileSync(file, lines.join('\n') + '\n');
  const r = await notify(home, ['users', 'import', file, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(json(r).inserted, 100_000);
});

test('a CSV read in slices by several workers keeps file order, line numbers and quoted newlines', async (t) => {
  const home = await initHome(t);
  const file = join(tempDir(t), 'sliced.csv');
  // About 7 MB: several slices. Every row's note spans two lines, so lines and rows differ.
  const lines = ['id,name,email,note'];
  lines.push('dup,first,dup@example.com,"early\nrow"');
  for (let i = 0; i < 60_000; i++) lines.push(`s${i},Name ${i},s${i}@example.com,"note ${'x'.repeat(80)}\n${i}"`);
  lines.push('bad,Bad,not-an-email,"late\nrow"');
  lines.push('dup,last,dup@example.com,"late\nrow"');
  writeFileSync(file, lines.join('\n') + '\n');
  const r = await notify(home, ['users', 'import', file, '--json']);
  assert.equal(r.code, 1, 'a bad row makes the exit code 1');
  const summary = json(r);
  assert.equal(summary.rows, 60_003);
  assert.equal(summary.inserted, 60_001);
  assert.equal(summary.updated, 1);
  // Header line 1, dup lines 2-3, 60,000 rows of two lines each, then the bad row's two lines.
  assert.match(r.stderr, /^line 120005, field "email": "not-an-email" is not a valid email/m);
  const dup = json(await notify(home, ['users', 'show', 'dup', '--json']));
  assert.equal(dup.name, 'last', 'the later row of a repeated id wins');
  assert.equal(dup.attributes.note, 'late\nrow');
  const mid = json(await notify(home, ['users', 'show', 's31337', '--json']));
  assert.equal(mid.attributes.note, `note ${'x'.repeat(80)}\n31337`);
});

test('import refuses a header with a column named twice or not at all, and reads JSONL that starts with a byte-order mark', async (t) => {
  const home = await initHome(t);
  const dir = tempDir(t);
  for (const [name, text, message] of [
    ['twice.csv', 'id,id,name\nu1,u2,Ada\n', /line 1: the header names column "id" twice: keep one; nothing was imported/],
    ['blank.csv', 'id,,email\nu1,x,u1@example.com\n', /line 1: column 2 of the header has no name/],
  ] as const) {
    writeFileSync(join(dir, name), text);
    const r = await notify(home, ['users', 'import', join(dir, name)]);
    assert.equal(r.code, 1, name);
    assert.match(r.stderr, message);
  }
  assert.deepEqual(json(await notify(home, ['users', 'list', '--json'])), [], 'nothing was imported');
  writeFileSync(join(dir, 'bom.jsonl'), '\ufeff{"id":"j1","name":"Jo"}\r\n{"id":"j2"}\r\n');
  const r = await notify(home, ['users', 'import', join(dir, 'bom.jsonl')]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(json(await notify(home, ['users', 'list', '--json'])).map((u: { id: string; name: string | null }) => [u.id, u.name]), [['j1', 'Jo'], ['j2', null]]);
});
