import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ManualClock } from '../../src/core/time.js';
import { openStore } from '../../src/store/index.js';
import type { UserInput } from '../../src/store/users.js';
import { initHome, json, notify } from '../helpers.js';

/** A home with four users: two in KR (one with email), one in US, one with no attributes. */
async function homeWithUsers(t: { after(fn: () => void): void }): Promise<string> {
  const home = await initHome(t);
  const adds = [
    ['u1', '--email', 'a@example.com', '--attr', 'country=KR', '--attr', 'plan=pro', '--attr', 'age=30', '--attr', 'tags=["beta"]'],
    ['u2', '--attr', 'country=KR', '--attr', 'plan=free', '--attr', 'age=16'],
    ['u3', '--email', 'c@example.com', '--attr', 'country=US', '--attr', 'plan=team', '--attr', 'age=41'],
    ['u4'],
  ];
  for (const argv of adds) {
    const r = await notify(home, ['users', 'add', ...argv]);
    assert.equal(r.code, 0, r.stderr);
  }
  return home;
}

function names(r: { stdout: string }): string[] {
  return (JSON.parse(r.stdout) as { name: string }[]).map((s) => s.name);
}

test('segments create saves the expression and shows how many users match', async (t) => {
  const home = await homeWithUsers(t);
  const r = await notify(home, ['segments', 'create', 'korea', '--where', "country = 'KR' and has email", '--description', 'KR with email', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const created = json(r);
  assert.deepEqual(
    { name: created.name, expression: created.expression, description: created.description, builtIn: created.builtIn, count: created.count },
    { name: 'korea', expression: "country = 'KR' and has email", description: 'KR with email', builtIn: false, count: 1 },
  );
  const show = await notify(home, ['segments', 'show', 'korea']);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /^name\tkorea\nexpression\tcountry = 'KR' and has email\ndescription\tKR with email\nusers\t1\ncreated\t\S+\nupdated\t\S+\n$/);
  assert.equal(json(await notify(home, ['segments', 'show', 'korea', '--json'])).count, 1);
});

test('segments list puts the built-in all first and prints tab-separated rows when piped', async (t) => {
  const home = await homeWithUsers(t);
  await notify(home, ['segments', 'create', 'teens', '--where', 'age < 18']);
  await notify(home, ['segments', 'create', 'adults', '--where', 'age >= 18', '--description', 'grown-ups']);
  const r = await notify(home, ['segments', 'list']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'all\t(every user)\tevery user (built in)\nadults\tage >= 18\tgrown-ups\nteens\tage < 18\t\n');
  const listed = await notify(home, ['segments', 'list', '--json']);
  assert.deepEqual(names(listed), ['all', 'adults', 'teens']);
  assert.equal(json(listed)[0].expression, null);
  const table = await notify(home, ['segments', 'list'], { tty: true });
  assert.match(table.stdout, /│ NAME\s+│ EXPRESSION\s+│ DESCRIPTION/);
});

test('segments count prints the number for a name, for all and for --where', async (t) => {
  const home = await homeWithUsers(t);
  await notify(home, ['segments', 'create', 'korea', '--where', "country = 'KR'"]);
  const byName = await notify(home, ['segments', 'count', 'korea']);
  assert.deepEqual([byName.code, byName.stdout], [0, '2\n']);
  assert.deepEqual(json(await notify(home, ['segments', 'count', 'korea', '--json'])), { segment: 'korea', count: 2 });
  assert.equal((await notify(home, ['segments', 'count', 'all'])).stdout, '4\n');
  const where = await notify(home, ['segments', 'count', '--where', "plan in ('pro', 'team') and age >= 18", '--json']);
  assert.equal(where.code, 0, where.stderr);
  assert.deepEqual(json(where), { segment: null, where: "plan in ('pro', 'team') and age >= 18", count: 2 });
  assert.equal(json(await notify(home, ['segments', 'show', 'all', '--json'])).count, 4);
});

test('segments count needs exactly one of a name or --where', async (t) => {
  const home = await homeWithUsers(t);
  for (const argv of [['segments', 'count'], ['segments', 'count', 'all', '--where', 'age > 1']]) {
    const r = await notify(home, argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.stderr, /^error: pass a segment name or --where/);
    assert.equal(r.stdout, '');
  }
});

test('an invalid expression exits 1 with its column and writes nothing', async (t) => {
  const home = await homeWithUsers(t);
  const create = await notify(home, ['segments', 'create', 'broken', '--where', "country = 'KR' and age >"]);
  assert.equal(create.code, 1);
  assert.equal(create.stderr, 'error: segment expression: column 25: expected a value after ">", found end of input\n');
  assert.equal(create.stdout, '');
  assert.deepEqual(names(await notify(home, ['segments', 'list', '--json'])), ['all']);

  await notify(home, ['segments', 'create', 'korea', '--where', "country = 'KR'"]);
  const update = await notify(home, ['segments', 'update', 'korea', '--where', 'plan in (']);
  assert.equal(update.code, 1);
  assert.match(update.stderr, /^error: segment expression: column 10: expected a value in the list, found end of input\n$/);
  assert.equal(json(await notify(home, ['segments', 'show', 'korea', '--json'])).expression, "country = 'KR'");

  const count = await notify(home, ['segments', 'count', '--where', 'has']);
  assert.equal(count.code, 1);
  assert.match(count.stderr, /column 4: expected a field name after "has"/);
  assert.equal(count.stdout, '');
});

test('segments create refuses bad names, existing names and all', async (t) => {
  const home = await homeWithUsers(t);
  await notify(home, ['segments', 'create', 'korea', '--where', "country = 'KR'"]);
  const cases: [string, RegExp][] = [
    ['korea', /^error: field "name": segment "korea" already exists: use "notify segments update korea"\n$/],
    ['all', /^error: field "name": "all" is the built-in segment of every user: choose another name\n$/],
    ['Korea', /"Korea" is not a segment name \(lowercase letters, digits, - and _/],
    ['_x', /"_x" is not a segment name/],
    ['a b', /"a b" is not a segment name/],
  ];
  for (const [name, message] of cases) {
    const r = await notify(home, ['segments', 'create', name, '--where', "country = 'US'"]);
    assert.equal(r.code, 1, name);
    assert.match(r.stderr, message);
  }
  assert.deepEqual(names(await notify(home, ['segments', 'list', '--json'])), ['all', 'korea']);
  assert.equal(json(await notify(home, ['segments', 'show', 'korea', '--json'])).expression, "country = 'KR'");
  const missing = await notify(home, ['segments', 'create', 'x']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /required option '--where <expr>' not specified/);
});

test('segments update changes the expression or description and keeps the rest', async (t) => {
  const clock = new ManualClock();
  const home = await homeWithUsers(t);
  await notify(home, ['segments', 'create', 'korea', '--where', "country = 'KR'", '--description', 'Korea'], { clock });
  clock.advance(60_000);
  const r = await notify(home, ['segments', 'update', 'korea', '--where', "country = 'KR' and age >= 18", '--json'], { clock });
  assert.equal(r.code, 0, r.stderr);
  const updated = json(r);
  assert.deepEqual([updated.expression, updated.description, updated.count], ["country = 'KR' and age >= 18", 'Korea', 1]);
  assert.equal(Date.parse(updated.updatedAt) - Date.parse(updated.createdAt), 60_000);
  const cleared = json(await notify(home, ['segments', 'update', 'korea', '--description', '', '--json']));
  assert.deepEqual([cleared.expression, cleared.description], ["country = 'KR' and age >= 18", null]);
  const nothing = await notify(home, ['segments', 'update', 'korea']);
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /nothing to change: pass --where and\/or --description/);
});

test('unknown segments are a one-line error naming the fix', async (t) => {
  const home = await homeWithUsers(t);
  for (const argv of [
    ['segments', 'show', 'ghost'], ['segments', 'count', 'ghost'], ['segments', 'update', 'ghost', '--where', 'a = 1'],
    ['segments', 'delete', 'ghost', '--yes'],
  ]) {
    const r = await notify(home, argv);
    assert.equal(r.code, 1, argv.join(' '));
    assert.equal(r.stderr, 'error: no segment "ghost": see notify segments list\n', argv.join(' '));
  }
});

test('the built-in all cannot be deleted or changed', async (t) => {
  const home = await homeWithUsers(t);
  const del = await notify(home, ['segments', 'delete', 'all', '--yes']);
  assert.equal(del.code, 1);
  assert.match(del.stderr, /the built-in segment "all" \(every user\) cannot be deleted/);
  const upd = await notify(home, ['segments', 'update', 'all', '--where', "country = 'KR'"]);
  assert.equal(upd.code, 1);
  assert.match(upd.stderr, /the built-in segment "all" \(every user\) cannot be changed/);
  assert.equal((await notify(home, ['segments', 'count', 'all'])).stdout, '4\n');
});

test('segments delete asks for --yes off a terminal, then deletes only the segment', async (t) => {
  const home = await homeWithUsers(t);
  await notify(home, ['segments', 'create', 'korea', '--where', "country = 'KR'"]);
  const refused = await notify(home, ['segments', 'delete', 'korea']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /Delete segment korea: refusing without --yes/);
  assert.equal((await notify(home, ['segments', 'show', 'korea'])).code, 0);
  const r = await notify(home, ['segments', 'delete', 'korea', '--yes']);
  assert.deepEqual([r.code, r.stdout], [0, 'Deleted segment korea\n']);
  assert.equal((await notify(home, ['segments', 'show', 'korea'])).code, 1);
  assert.equal((await notify(home, ['segments', 'count', 'all'])).stdout, '4\n');
});

test('users list --where filters with a segment expression', async (t) => {
  const home = await homeWithUsers(t);
  const r = await notify(home, ['users', 'list', '--where', "country = 'KR' or tags contains 'beta' or has email", '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(json(r).map((u: { id: string }) => u.id), ['u1', 'u2', 'u3']);
  const none = await notify(home, ['users', 'list', '--where', "country != 'KR' and not has email", '--json']);
  assert.deepEqual(json(none).map((u: { id: string }) => u.id), ['u4']);
  const bad = await notify(home, ['users', 'list', '--where', "country == 'KR'"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^error: segment expression: column 10: expected a value after "=", found "="\n$/);
});

test('counts a segment over 20,000 users exactly', async (t) => {
  const home = await initHome(t);
  const users: UserInput[] = [];
  let expected = 0;
  for (let i = 0; i < 20_000; i++) {
    const country = ['KR', 'US', 'JP'][i % 3]!;
    const plan = ['free', 'pro', 'team', 'enterprise'][i % 4]!;
    const age = i % 80;
    const tags = i % 5 === 0 ? ['beta'] : [];
    users.push({ id: `u${String(i).padStart(5, '0')}`, email: i % 7 === 0 ? null : `u${i}@example.com`, attributes: { country, plan, age, tags } });
    if (country === 'KR' && (plan === 'pro' || plan === 'team' || tags.includes('beta')) && age >= 18 && i % 7 !== 0) expected++;
  }
  const store = await openStore(join(home, 'notify.db'), new ManualClock());
  try {
    await store.users.upsertMany(users);
  } finally {
    await store.close();
  }
  const where = "country = 'KR' and (plan in ('pro', 'team') or tags contains 'beta') and age >= 18 and has email";
  assert.equal((await notify(home, ['segments', 'create', 'big', '--where', where])).code, 0);
  const r = await notify(home, ['segments', 'count', 'big', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(expected > 1000, 'the fixture selects a real share of users');
  assert.deepEqual(json(r), { segment: 'big', count: expected });
  assert.equal((await notify(home, ['segments', 'count', 'all'])).stdout, '20000\n');
});

test('every segments verb shows examples in its help', async (t) => {
  const home = await initHome(t);
  for (const verb of ['create', 'update', 'list', 'show', 'count', 'delete']) {
    const r = await notify(home, ['segments', verb, '--help']);
    assert.equal(r.code, 0, verb);
    assert.match(r.stdout, /Examples:\n  \$ notify segments /, verb);
  }
  const group = await notify(home, ['segments', '--help']);
  assert.match(group.stdout, /Expressions:/);
});
