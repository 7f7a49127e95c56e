import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { compileNode, compileSegment, parseSegment, SegmentSyntaxError } from '../../src/core/segment.js';
import { ManualClock } from '../../src/core/time.js';
import { InputError } from '../../src/errors.js';
import { openStore, type Store } from '../../src/store/index.js';
import { tempDir } from '../helpers.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

/** A real database with five users chosen to tell the operators apart. */
async function fixture(t: { after(fn: () => void): void }): Promise<Store> {
  const clock = new ManualClock(T0);
  const store = await openStore(join(tempDir(t), 'notify.db'), clock);
  t.after(() => void store.close());
  await store.users.add({
    id: 'u1', name: 'Ada', email: 'ada@example.com', locale: 'ko',
    attributes: { country: 'KR', plan: 'pro', age: 30, tags: ['beta', 'vip'], address: { city: 'Seoul' }, verified: true, bio: 'loves beta software' },
  });
  await store.users.add({
    id: 'u2', phone: '+14155550100', locale: 'en',
    attributes: { country: 'US', plan: 'free', age: 17, tags: [], nickname: null, verified: false },
  });
  await store.users.add({
    id: 'u3', email: 'cy@example.com',
    attributes: { country: 'KR', plan: 'team', age: 'unknown', tags: ['alpha'], address: { city: 'Busan' } },
  });
  clock.advance(DAY);
  await store.users.add({ id: 'u4', name: "O'Brien" });
  await store.users.add({ id: 'u5', email: '', attributes: { country: 'KR', plan: 'team', age: 18.5, tags: 'beta-ish', score: 0 } });
  // Devices are fixtures here, written straight to their table: u1 has an active one, u2 only an inactive one.
  const addDevice = store.db.prepare(`INSERT INTO devices (user_id, platform, token, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`);
  addDevice.run('u1', 'ios', 'a'.repeat(64), 1, T0, T0);
  addDevice.run('u2', 'android', 'b'.repeat(64), 0, T0, T0);
  return store;
}

async function matching(store: Store, expr: string): Promise<string[]> {
  const users = await store.users.list({ where: compileSegment(expr), limit: 1000 });
  return users.map((u) => u.id);
}

test('compiles each construct to parameterised SQL over users u', () => {
  const cases: [string, string, unknown[]][] = [
    ["country = 'KR'", 'json_extract(u.attributes, ?) = ?', ['$.country', 'KR']],
    ["email = 'a@example.com'", 'u.email = ?', ['a@example.com']],
    ["country != 'KR'", 'json_extract(u.attributes, ?) IS NOT ?', ['$.country', 'KR']],
    ["country <> 'KR'", 'json_extract(u.attributes, ?) IS NOT ?', ['$.country', 'KR']],
    ['age >= 18', "(json_type(u.attributes, ?) IN ('integer', 'real') AND json_extract(u.attributes, ?) >= ?)", ['$.age', '$.age', 18]],
    ["name < 'M'", 'u.name < ?', ['M']],
    ["plan in ('pro', \"team\")", 'json_extract(u.attributes, ?) IN (?, ?)', ['$.plan', 'pro', 'team']],
    ["plan not in ('free')", 'NOT coalesce(json_extract(u.attributes, ?) IN (?), 0)', ['$.plan', 'free']],
    ['verified = true', 'json_extract(u.attributes, ?) = ?', ['$.verified', 1]],
    ['nickname = null', 'json_extract(u.attributes, ?) IS NULL', ['$.nickname']],
    ['phone is not null', 'u.phone IS NOT NULL', []],
    ['has email', "coalesce(u.email, '') != ''", []],
    ['has tags', `coalesce(u.attributes -> ? NOT IN ('null', '""', '[]', '{}'), 0)`, ['$.tags']],
    ['has push', 'EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id AND d.active = 1)', []],
    ["email contains '@example.com'", 'instr(u.email, ?) > 0', ['@example.com']],
    ["tags contains 'beta'",
      "CASE json_type(u.attributes, ?) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(u.attributes, ?) e WHERE e.value = ?)"
      + " WHEN 'text' THEN instr(json_extract(u.attributes, ?), ?) > 0 ELSE 0 END",
      ['$.tags', '$.tags', 'beta', '$.tags', 'beta']],
    ["address.city = 'Seoul'", 'json_extract(u.attributes, ?) = ?', ['$.address.city', 'Seoul']],
    ["created_at >= '2026-01-02'", 'u.created_at >= ?', [T0 + DAY]],
    ["a = 1 or b = 2 and c = 3", '(json_extract(u.attributes, ?) = ? OR (json_extract(u.attributes, ?) = ? AND json_extract(u.attributes, ?) = ?))',
      ['$.a', 1, '$.b', 2, '$.c', 3]],
    ["not (a = 1)", 'NOT coalesce(json_extract(u.attributes, ?) = ?, 0)', ['$.a', 1]],
    ['x = -2.5e1', 'json_extract(u.attributes, ?) = ?', ['$.x', -25]],
  ];
  for (const [expr, sql, params] of cases) {
    assert.deepEqual(compileSegment(expr), { sql, params }, expr);
  }
});

test('and binds tighter than or, and keywords are case-insensitive', () => {
  assert.deepEqual(parseSegment("a = 1 OR b = 2 And NOT c = 3"), {
    type: 'or',
    items: [
      { type: 'compare', field: { kind: 'attribute', name: 'a', path: ['a'] }, op: '=', value: 1 },
      {
        type: 'and',
        items: [
          { type: 'compare', field: { kind: 'attribute', name: 'b', path: ['b'] }, op: '=', value: 2 },
          { type: 'not', operand: { type: 'compare', field: { kind: 'attribute', name: 'c', path: ['c'] }, op: '=', value: 3 } },
        ],
      },
    ],
  });
});

test('expressions select the right users on a real database', async (t) => {
  const store = await fixture(t);
  const cases: [string, string[]][] = [
    ["country = 'KR'", ['u1', 'u3', 'u5']],
    ["country != 'KR'", ['u2', 'u4']],
    ["country <> 'KR'", ['u2', 'u4']],
    ["not (country = 'KR')", ['u2', 'u4']],
    ["plan in ('pro', 'team')", ['u1', 'u3', 'u5']],
    ["plan not in ('pro', 'team')", ['u2', 'u4']],
    ['age >= 18', ['u1', 'u5']],
    ['age < 18', ['u2']],
    ['not age >= 18', ['u2', 'u3', 'u4']],
    ['age > 17.9 and age < 19', ['u5']],
    ['age = 30', ['u1']],
    ["age = '30'", []],
    ['has email', ['u1', 'u3']],
    ['not has email', ['u2', 'u4', 'u5']],
    ['has push', ['u1']],
    ['not has push', ['u2', 'u3', 'u4', 'u5']],
    ['has tags', ['u1', 'u3', 'u5']],
    ['has nickname', []],
    ['has score', ['u5']],
    ['score = 0', ['u5']],
    ["tags contains 'beta'", ['u1', 'u5']],
    ["tags contains 'bet'", ['u5']],
    ["tags not contains 'beta'", ['u2', 'u3', 'u4']],
    ["bio contains 'beta'", ['u1']],
    ["email contains '@example.com'", ['u1', 'u3']],
    ['nickname is null', ['u1', 'u2', 'u3', 'u4', 'u5']],
    ['email is null', ['u2', 'u4']],
    ['email is not null', ['u1', 'u3', 'u5']],
    ["address.city = 'Seoul'", ['u1']],
    ['address.city is not null', ['u1', 'u3']],
    ['verified = true', ['u1']],
    ['verified = false', ['u2']],
    ['verified != true', ['u2', 'u3', 'u4', 'u5']],
    ['name = "O\'Brien"', ['u4']],
    ["name = 'O''Brien'", ['u4']],
    ["id in ('u1', 'u4')", ['u1', 'u4']],
    ["created_at >= '2026-01-02'", ['u4', 'u5']],
    [`created_at < ${T0 + DAY}`, ['u1', 'u2', 'u3']],
    ["country = 'KR' AND NOT has email", ['u5']],
    ["(country = 'US' or locale = 'ko') and not has push", ['u2']],
    ["country = 'KR' and plan in ('pro', 'team') and age >= 18 and has email and tags contains 'beta'", ['u1']],
  ];
  for (const [expr, ids] of cases) {
    assert.deepEqual(await matching(store, expr), ids, expr);
  }
});

test('each invalid expression is an InputError naming its column', () => {
  const cases: [string, number, RegExp][] = [
    ['', 1, /expected a condition such as country = 'KR', found end of input/],
    ['country =', 10, /expected a value after "=", found end of input/],
    ["country = 'KR", 11, /unterminated string: add the closing '/],
    ["country 'KR'", 9, /expected an operator after "country" \(=, !=.*\), found the string 'KR'/],
    ["= 'KR'", 1, /expected a field name, found "="/],
    ['country = KR', 11, /expected a value after "=" \(quote text: 'KR'\), found "KR"/],
    ["country = 'KR' and", 19, /expected a condition after "and", found end of input/],
    ["country = 'KR' OR", 18, /expected a condition after "or", found end of input/],
    ["(country = 'KR'", 16, /expected "\)" to close the "\(" at column 1, found end of input/],
    ["country = 'KR')", 15, /expected "and", "or" or end of input, found a "\)" without its "\("/],
    ["country = 'KR' plan = 'x'", 16, /expected "and", "or" or end of input, found "plan"/],
    ["plan in 'pro'", 9, /expected "\(" after "in", found the string 'pro'/],
    ["plan in ('pro' 'team')", 16, /expected "," or "\)" in the list opened at column 9, found the string 'team'/],
    ['plan in ()', 10, /expected a value in the list, found "\)"/],
    ["plan in ('pro', null)", 17, /null cannot be in a list/],
    ['age < null', 7, /null cannot be compared with "<": use "is null"/],
    ['flag > true', 8, /true cannot be compared with ">"/],
    ['has', 4, /expected a field name after "has", found end of input/],
    ["has 'email'", 5, /expected a field name after "has", found the string 'email'/],
    ["nickname is 'x'", 13, /expected "null" after "is"/],
    ['nickname is not 1', 17, /expected "null" after "is not", found the number 1/],
    ["plan not like 'x'", 10, /expected "in" or "contains" after "not", found "like"/],
    ['age = 18abc', 7, /"18abc" is not a number/],
    ["address..city = 'x'", 1, /"address..city" is not a field name/],
    ["country = 'KR' # comment", 16, /unexpected character "#"/],
    ["country = 'KR'; DROP TABLE users", 15, /unexpected character ";"/],
    ["country = 'KR' and and = 1", 20, /expected a field name, found "and"/],
    ["created_at > 'yesterday'", 14, /created_at is a time: compare it with a date/],
    ['not', 4, /expected a condition after "not", found end of input/],
    ['()', 2, /expected a condition after "\(", found "\)"/],
    ['tags contains null', 15, /"contains null" matches nothing/],
  ];
  for (const [expr, column, message] of cases) {
    assert.throws(() => compileSegment(expr), (err: unknown) => {
      assert.ok(err instanceof InputError, `${expr}: ${String(err)}`);
      assert.ok(err instanceof SegmentSyntaxError);
      assert.equal(err.column, column, `${expr}: ${err.message}`);
      assert.match(err.message, new RegExp(`^segment expression: column ${column}: `), expr);
      assert.match(err.message, message, expr);
      return true;
    }, expr);
  }
});

test('nesting is limited rather than overflowing the stack', () => {
  const deep = '('.repeat(10_000) + 'a = 1' + ')'.repeat(10_000);
  assert.throws(() => compileSegment(deep), /column 65: nested more than 64 levels deep/);
  const nots = 'not '.repeat(10_000) + 'a = 1';
  assert.throws(() => compileSegment(nots), /nested more than 64 levels deep/);
  const ok = '('.repeat(60) + 'a = 1' + ')'.repeat(60);
  assert.deepEqual(compileSegment(ok).params, ['$.a', 1]);
});

test('very long expressions are refused before SQLite would refuse them', async (t) => {
  const store = await fixture(t);
  const terms = (n: number) => Array.from({ length: n }, (_, i) => `age = ${i}`).join(' or ');
  assert.deepEqual(await matching(store, terms(500)), ['u1', 'u2']);
  const tooMany = terms(501);
  assert.throws(() => compileSegment(tooMany), new RegExp(`column ${tooMany.lastIndexOf('age') + 1}: more than 500 conditions`));
  const ids = Array.from({ length: 10_000 }, (_, i) => `'u${i}'`).join(', ');
  assert.deepEqual(await matching(store, `id in (${ids})`), ['u1', 'u2', 'u3', 'u4', 'u5']);
  assert.throws(() => compileSegment(`id in (${ids}, 'x')`), /more than 10000 values in lists/);
});

test('values that look like SQL stay parameters and never reach the SQL text', async (t) => {
  const store = await fixture(t);
  const hostile = [
    ["name = 'x'' or 1=1 --'", "x' or 1=1 --", []],
    ['name = "x"" or ""1""=""1"', 'x" or "1"="1', []],
    ["country in ('KR'') OR 1=1 --', 'US')", "KR') OR 1=1 --", ['u2']],
    ["tags contains '''); DROP TABLE users; --'", "'); DROP TABLE users; --", []],
    ["name = 'Robert''); DROP TABLE users;--'", "Robert'); DROP TABLE users;--", []],
  ] as const;
  for (const [expr, value, ids] of hostile) {
    const { sql, params } = compileSegment(expr);
    assert.ok(params.includes(value), `${expr}: ${JSON.stringify(params)}`);
    assert.ok(!sql.includes(value) && !sql.includes('1=1') && !sql.includes('DROP'), `${expr}: ${sql}`);
    assert.deepEqual(await matching(store, expr), ids, expr);
  }
  assert.equal(await store.users.count(), 5, 'the users table is intact');
});

test('field names with quotes or path syntax are refused, not spliced', () => {
  const cases: [string, RegExp][] = [
    ["pl'an = 1", /column 3: unterminated string/],
    ['plan" = 1', /column 5: unterminated string/],
    ["\"plan\" = 'pro'", /column 1: expected a field name, found the string 'plan'/],
    ["$.plan = 'pro'", /column 1: unexpected character "\$"/],
    ["plan[0] = 'pro'", /column 5: unexpected character "\["/],
    ["a.b') or 1=1 -- = 1", /unterminated string/],
    ["plan-type = 'x'", /column 5: unexpected character "-"/],
  ];
  for (const [expr, message] of cases) assert.throws(() => compileSegment(expr), message, expr);
  // A syntax tree built by hand is checked again before its path is made.
  assert.throws(
    () => compileNode({ type: 'isNull', field: { kind: 'attribute', name: "a')--", path: ["a')--"] }, negated: false }),
    (err: unknown) => err instanceof InputError && /not a field name/.test(err.message),
  );
});

test('an attribute named like a column-free word is a JSON path bound as a parameter', () => {
  const { sql, params } = compileSegment("users = 'x' and select = 1 and attributes.drop = 2");
  assert.equal(sql, '(json_extract(u.attributes, ?) = ? AND json_extract(u.attributes, ?) = ? AND json_extract(u.attributes, ?) = ?)');
  assert.deepEqual(params, ['$.users', 'x', '$.select', 1, '$.attributes.drop', 2]);
});
