import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initHome, json, notify, tempDir } from '../helpers.js';
import { ManualClock } from '../../src/core/time.js';
import { createDeps } from '../../src/deps.js';
import type { IO } from '../../src/io.js';
import * as create from '../../src/commands/templates/create.js';

// Compiled to dist/test/commands/; the fixtures stay in the source tree.
const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/templates/', import.meta.url));
const fixture = (name: string) => join(FIXTURES, name);

async function homeWithUsers(t: { after(fn: () => void): void }): Promise<string> {
  const home = await initHome(t);
  for (const argv of [
    ['users', 'add', 'k1', '--name', '민수', '--locale', 'ko-KR', '--phone', '+821012345678'],
    ['users', 'add', 'u1', '--name', 'Ada & <Bob>', '--locale', 'en-US', '--email', 'ada@example.com'],
  ]) {
    const r = await notify(home, argv);
    assert.equal(r.code, 0, r.stderr);
  }
  return home;
}

const DATA = ['--data', 'order=A-1001', '--data', 'url=https://shop.example.com/t/1'];

test('create from YAML with a Korean variant stores version 1 and shows it as JSON', async (t) => {
  const home = await homeWithUsers(t);
  const r = await notify(home, ['templates', 'create', 'order-shipped', '--file', fixture('order-shipped.yaml'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const created = json(r);
  assert.equal(created.name, 'order-shipped');
  assert.equal(created.version, 1);
  assert.equal(created.category, 'transactional');
  assert.deepEqual(created.channels, ['push', 'sms', 'email']);
  assert.deepEqual(created.locales, ['ko']);
  assert.equal(created.def.email.text, 'Hi {{ user.name }},\n\nYour order is on its way. Track it ({{ data.url }})');
  assert.equal(created.def.locales.ko.sms.body, '주문 {{ data.order }} 배송 시작: {{ data.url }}');

  const list = json(await notify(home, ['templates', 'list', '--json']));
  assert.deepEqual(list.map((x: { name: string; version: number; channels: string[] }) => [x.name, x.version, x.channels.join(',')]), [['order-shipped', 1, 'push,sms,email']]);
  const piped = await notify(home, ['templates', 'list']);
  assert.match(piped.stdout, /^order-shipped\t1\ttransactional\tpush,sms,email\tko\t/);
});

test('a template with an empty message or a badge that is not a number is refused on save', async (t) => {
  const home = await initHome(t);
  const dir = tempDir(t);
  for (const [body, message] of [
    ['sms:\n  body: ""\n', /field "sms\.body": must not be empty/],
    ['push:\n  body: "   "\n', /field "push\.body": must not be empty/],
    ['email:\n  subject: ""\n  text: "x"\n', /field "email\.subject": must not be empty/],
    ['push:\n  body: "x"\n  badge: "lots"\n', /field "push\.badge": must be a whole number, or Liquid that renders to one/],
  ] as const) {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, `category: transactional\n${body}`);
    const r = await notify(home, ['templates', 'create', 'bad', '--file', file]);
    assert.equal(r.code, 1, body);
    assert.match(r.stderr, message);
  }
  assert.equal((await notify(home, ['templates', 'show', 'bad'])).code, 1, 'nothing stored');
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'category: transactional\npush:\n  body: "x"\n  badge: "7"\n');
  assert.equal((await notify(home, ['templates', 'create', 'good', '--file', good])).code, 0);
});

test('preview renders the Korean variant for a ko-KR user with UCS-2 SMS', async (t) => {
  const home = await homeWithUsers(t);
  await notify(home, ['templates', 'create', 'order-shipped', '--file', fixture('order-shipped.yaml')]);
  const r = await notify(home, ['templates', 'preview', 'order-shipped', '--user', 'k1', ...DATA, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const p = json(r);
  assert.equal(p.locale, 'ko-KR');
  assert.equal(p.variant, 'ko');
  assert.equal(p.push.title, '민수님, 배송이 시작되었습니다');
  assert.equal(p.push.body, 'Order A-1001 is on its way', 'fields the variant leaves out come from the default');
  assert.deepEqual(p.push.data, { order: 'A-1001' });
  assert.equal(p.sms.body, '주문 A-1001 배송 시작: https://shop.example.com/t/1');
  assert.equal(p.sms.encoding, 'UCS-2');
  assert.equal(p.sms.segments, 1);
  assert.equal(p.email.subject, '주문 A-1001 배송 시작');

  const human = await notify(home, ['templates', 'preview', 'order-shipped', '--user', 'k1', '--channel', 'sms', ...DATA]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^sms.encoding\tUCS-2$/m);
  assert.match(human.stdout, /^sms.segments\t1 /m);
  assert.doesNotMatch(human.stdout, /push\./);
});

test('preview renders the default parts for an English user, escaping HTML only in email html', async (t) => {
  const home = await homeWithUsers(t);
  await notify(home, ['templates', 'create', 'order-shipped', '--file', fixture('order-shipped.yaml')]);
  const p = json(await notify(home, ['templates', 'preview', 'order-shipped', '--user', 'u1', ...DATA, '--json']));
  assert.equal(p.variant, null);
  assert.equal(p.push.title, 'Hi Ada & <Bob>');
  assert.equal(p.sms.body, 'Order A-1001 shipped: https://shop.example.com/t/1');
  assert.equal(p.sms.encoding, 'GSM-7');
  assert.equal(p.email.subject, 'Your order A-1001 has shipped');
  assert.match(p.email.html, /<p>Hi Ada &amp; &lt;Bob&gt;,<\/p>/);
  assert.equal(p.email.text, 'Hi Ada & <Bob>,\n\nYour order is on its way. Track it (https://shop.example.com/t/1)');

  // --locale overrides the user's locale.
  const ko = json(await notify(home, ['templates', 'preview', 'order-shipped', '--user', 'u1', '--locale', 'ko', ...DATA, '--json']));
  assert.equal(ko.push.title, 'Ada & <Bob>님, 배송이 시작되었습니다');
});

test('preview takes data from a JSON file, with --data winning', async (t) => {
  const home = await homeWithUsers(t);
  await notify(home, ['templates', 'create', 'promo', '--file', fixture('promo.json')]);
  const file = join(tempDir(t), 'data.json');
  writeFileSync(file, JSON.stringify({ percent: 20, product: 'shoes' }));
  const r = await notify(home, ['templates', 'preview', 'promo', '--user', 'u1', '--data-file', file, '--data', 'percent=30', '--channel', 'sms', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const p = json(r);
  assert.equal(p.sms.body, '30% off shoes this weekend. Reply STOP to opt out.');
  assert.equal(p.push, undefined);
});

test('an undefined variable in preview exits 1 naming the variable', async (t) => {
  const home = await homeWithUsers(t);
  await notify(home, ['templates', 'create', 'order-shipped', '--file', fixture('order-shipped.yaml')]);
  const r = await notify(home, ['templates', 'preview', 'order-shipped', '--user', 'u1', '--data', 'order=A-1', '--channel', 'sms']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^error: field "sms.body": undefined variable "data.url" \(line 1, column \d+\): pass it in the data \(--data url=\.\.\.\)/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('update writes version 2 and show --version 1 still returns version 1', async (t) => {
  const home = await homeWithUsers(t);
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  await notify(home, ['templates', 'create', 'promo', '--file', fixture('promo.json')], { clock });
  clock.advance(60_000);
  const yaml = 'sms:\n  body: "New: {{ data.product }}"\n';
  const r = await notify(home, ['templates', 'update', 'promo', '--file', '-', '--json'], { stdin: yaml, clock });
  assert.equal(r.code, 0, r.stderr);
  const v2 = json(r);
  assert.equal(v2.version, 2);
  assert.equal(v2.category, 'marketing', 'the category stays when the file has none');
  assert.deepEqual(v2.channels, ['sms']);

  const current = json(await notify(home, ['templates', 'show', 'promo', '--json']));
  assert.equal(current.version, 2);
  assert.equal(current.def.sms.body, 'New: {{ data.product }}');
  const v1 = json(await notify(home, ['templates', 'show', 'promo', '--version', '1', '--json']));
  assert.equal(v1.version, 1);
  assert.equal(v1.def.push.collapseKey, 'promo');
  assert.deepEqual(v1.def.tracking, { opens: true, clicks: true });
  assert.equal(v1.createdAt, '2026-01-01T00:00:00.000Z');

  const versions = json(await notify(home, ['templates', 'versions', 'promo', '--json']));
  assert.deepEqual(versions.map((v: { version: number; current: boolean }) => [v.version, v.current]), [[1, false], [2, true]]);
  const missing = await notify(home, ['templates', 'show', 'promo', '--version', '9']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /template "promo" has no version 9/);
});

test('a Liquid syntax error reports part, line and column and writes nothing', async (t) => {
  const home = await initHome(t);
  const r = await notify(home, ['templates', 'create', 'broken', '--file', fixture('syntax-error.yaml')]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'error: field "email.html": Liquid syntax error at line 2, column 4: tag {% if data.vip %} not closed; fix the template and try again\n');
  assert.deepEqual(json(await notify(home, ['templates', 'list', '--json'])), []);
  assert.equal((await notify(home, ['templates', 'versions', 'broken'])).code, 1);

  // Updating with a broken file keeps the stored version.
  await notify(home, ['templates', 'create', 'ok', '--file', '-'], { stdin: 'category: social\nsms: { body: hi }\n' });
  const u = await notify(home, ['templates', 'update', 'ok', '--file', fixture('syntax-error.yaml')]);
  assert.equal(u.code, 1);
  assert.equal(json(await notify(home, ['templates', 'show', 'ok', '--json'])).version, 1);
});

test('unknown keys, unknown categories and bad names are rejected with the field', async (t) => {
  const home = await initHome(t);
  const cases: [argv: string[], stdin: string | undefined, message: RegExp][] = [
    [['--file', fixture('unknown-key.yaml')], undefined, /^error: line 5, field "push.sond": unknown key "sond"/],
    [['--file', '-'], 'category: promos\nsms: { body: hi }\n', /^error: field "category": unknown category "promos" \(known: transactional, security, social, marketing\): add it with "notify config set categories.promos.transactional true\|false"/],
    [['--file', fixture('promo.json'), '--category', 'nope'], undefined, /unknown category "nope"/],
    [['--file', '-'], 'category: social\nsms: [oops\n', /^error: line \d+: not valid YAML or JSON/],
  ];
  for (const [argv, stdin, message] of cases) {
    const r = await notify(home, ['templates', 'create', 'x', ...argv], { stdin });
    assert.equal(r.code, 1, argv.join(' '));
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
  const badName = await notify(home, ['templates', 'create', 'Bad Name', '--file', fixture('promo.json')]);
  assert.equal(badName.code, 1);
  assert.match(badName.stderr, /field "name": "Bad Name" is not a template name/);
  assert.deepEqual(json(await notify(home, ['templates', 'list', '--json'])), []);

  // After adding the category, the same file is accepted.
  assert.equal((await notify(home, ['config', 'set', 'categories.promos.transactional', 'false'])).code, 0);
  const ok = await notify(home, ['templates', 'create', 'x', '--file', '-'], { stdin: 'category: promos\nsms: { body: hi }\n' });
  assert.equal(ok.code, 0, ok.stderr);
});

test('an oversized push part is rejected naming its size', async (t) => {
  const home = await initHome(t);
  const file = join(tempDir(t), 'big.json');
  writeFileSync(file, JSON.stringify({ category: 'marketing', push: { title: 'Big', body: 'x'.repeat(3000), data: { blob: 'y'.repeat(1200) } } }));
  const r = await notify(home, ['templates', 'create', 'big', '--file', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: field "push": the push payload is 42\d\d bytes even with its variables removed; APNs and FCM accept at most 4096/);
  assert.deepEqual(json(await notify(home, ['templates', 'list', '--json'])), []);
});

test('creating an existing name fails; delete hides it but its versions stay readable', async (t) => {
  const home = await homeWithUsers(t);
  await notify(home, ['templates', 'create', 'promo', '--file', fixture('promo.json')]);
  const dup = await notify(home, ['templates', 'create', 'promo', '--file', fixture('promo.json')]);
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /template "promo" already exists: change it with "notify templates update promo --file F"/);

  const refused = await notify(home, ['templates', 'delete', 'promo']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /refusing without --yes/);
  const del = await notify(home, ['templates', 'delete', 'promo', '--yes']);
  assert.equal(del.code, 0, del.stderr);

  assert.deepEqual(json(await notify(home, ['templates', 'list', '--json'])), []);
  const show = await notify(home, ['templates', 'show', 'promo']);
  assert.equal(show.code, 1);
  assert.equal(show.stderr, 'error: no template "promo": see "notify templates list"\n');
  const versions = json(await notify(home, ['templates', 'versions', 'promo', '--json']));
  assert.deepEqual(versions.map((v: { version: number; current: boolean }) => [v.version, v.current]), [[1, false]]);
  assert.equal(json(await notify(home, ['templates', 'show', 'promo', '--version', '1', '--json'])).def.sms.body.startsWith('{{ data.percent }}'), true);

  // Creating the name again continues the numbering.
  const again = json(await notify(home, ['templates', 'create', 'promo', '--file', fixture('promo.json'), '--json']));
  assert.equal(again.version, 2);
  assert.equal((await notify(home, ['templates', 'delete', 'ghost', '--yes'])).code, 1);
});

test('templates commands need --file off a terminal and ask on one', async (t) => {
  const home = await initHome(t);
  const r = await notify(home, ['templates', 'create', 'x']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /pass --file F/);
  const help = await notify(home, ['templates', 'create', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Examples:\n {2}\$ notify templates create order-shipped --file order-shipped.yaml/);
  for (const verb of ['update', 'show', 'list', 'versions', 'delete', 'preview']) {
    assert.match((await notify(home, ['templates', verb, '--help'])).stdout, /Examples:/, verb);
  }
});

test('create on a terminal asks for the name, category and each channel', async (t) => {
  const home = await initHome(t);
  let out = '';
  const io: IO = {
    stdout: { write: (c: string) => { out += c; return true; } }, stderr: { write: () => true }, stdin: Readable.from([]),
    isTTY: true, errIsTTY: true, inIsTTY: true, color: false, env: {},
  };
  const deps = createDeps({ io, clock: new ManualClock(), home });
  t.after(() => deps.close());
  const answers: Record<string, string> = {
    'Template name': 'welcome', Category: 'social', 'Push title (empty: no push)': 'Welcome {{ user.name }}', 'Push body': 'Glad you are here',
    'SMS body (empty: no SMS)': '', 'Email subject (empty: no email)': 'Welcome', 'Email HTML': '<p>Hi <b>{{ user.name }}</b></p>',
  };
  const asked: string[] = [];
  deps.prompter = {
    input: async (message) => { asked.push(message); return answers[message] ?? assert.fail(`unexpected question ${message}`); },
    confirm: async () => true,
  };
  const created = await create.run({}, deps);
  assert.equal(asked.length, 7);
  assert.deepEqual([created.name, created.version, created.category], ['welcome', 1, 'social']);
  assert.deepEqual(created.def.push, { title: 'Welcome {{ user.name }}', body: 'Glad you are here' });
  assert.equal(created.def.sms, undefined);
  assert.deepEqual(created.def.email, { subject: 'Welcome', html: '<p>Hi <b>{{ user.name }}</b></p>', text: 'Hi {{ user.name }}' });
  assert.equal(out, '');
});
