import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initHome, json, notify, tempDir } from '../helpers.js';
import { openHomeStore } from '../daemon/harness.js';
import { ManualClock } from '../../src/core/time.js';

const TEMPLATES = {
  note: 'category: transactional\nsms:\n  body: "Hi {{ user.name }}"\nemail:\n  subject: "Note"\n  text: "Hi {{ user.name }}"\npush:\n  title: "Note"\n  body: "Hi"\n',
  promo: 'category: marketing\nemail:\n  subject: "Sale"\n  text: "Sale for {{ user.name }}"\n',
};

async function home(t: { after(fn: () => void): void }, extra: string[] = []) {
  const h = await initHome(t, extra);
  const dir = tempDir(t);
  for (const [name, body] of Object.entries(TEMPLATES)) {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, body);
    const r = await notify(h, ['templates', 'create', name, '--file', file]);
    assert.equal(r.code, 0, r.stderr);
  }
  const users = join(dir, 'users.csv');
  writeFileSync(users, 'id,name,email,phone\na,Ann,a@example.com,+14155550101\nb,Bo,b@example.com,\nc,Cy,,+14155550103\nd,Di,d@example.com,+14155550104\n');
  assert.equal((await notify(h, ['users', 'import', users])).code, 0);
  return h;
}

test('send to a segment writes one delivery per user and channel with an address', async (t) => {
  const h = await home(t);
  const r = await notify(h, ['send', '--template', 'note', '--segment', 'all', '--channel', 'sms,email', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = json(r);
  assert.equal(out.campaign, true);
  assert.equal(out.deduplicated, false);
  assert.deepEqual(out.counts.deliveries, { sms: { queued: 3 }, email: { queued: 3 } });
  assert.deepEqual(out.counts.noAddress, { sms: 1, email: 1 });
  assert.equal(out.counts.audience, 4);
});

test('send to a list of users writes and counts like a send to a segment, in one transaction', async (t) => {
  const h = await home(t);
  const r = await notify(h, ['send', '--template', 'note', '--user', 'a', '--user', 'b', '--user', 'c', '--user', 'd', '--channel', 'sms,email', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = json(r);
  assert.equal(out.campaign, false);
  assert.equal(out.status, 'active');
  assert.deepEqual(out.counts.deliveries, { sms: { queued: 3 }, email: { queued: 3 } });
  assert.deepEqual(out.counts.noAddress, { sms: 1, email: 1 });
  assert.equal(out.counts.audience, 4);
  const store = await openHomeStore(t, h);
  const stored = (await store.notifications.get(out.id))!;
  assert.deepEqual(stored.counts, out.counts, 'the stored counts are the ones reported');
  const rows = store.db.prepare('SELECT user_id || \':\' || channel FROM deliveries WHERE notification_id = ? ORDER BY 1').pluck().all(out.id);
  assert.deepEqual(rows, ['a:email', 'a:sms', 'b:email', 'c:sms', 'd:email', 'd:sms']);
});

test('opt-outs, suppressed addresses and frequency caps become skipped deliveries', async (t) => {
  const h = await home(t, ['--marketing-cap', '1']);
  assert.equal((await notify(h, ['prefs', 'set', '--user', 'a', '--channel', 'email', '--category', 'marketing', '--opt-in'])).code, 0);
  assert.equal((await notify(h, ['prefs', 'set', '--user', 'b', '--channel', 'email', '--category', 'marketing', '--opt-in'])).code, 0);
  assert.equal((await notify(h, ['prefs', 'set', '--user', 'd', '--channel', 'email', '--category', 'marketing', '--opt-in'])).code, 0);
  const sup = await notify(h, ['prefs', 'suppress', '--channel', 'email', '--address', 'd@example.com', '--reason', 'bounced']);
  assert.equal(sup.code, 0, sup.stderr);
  const first = json(await notify(h, ['send', '--template', 'promo', '--segment', 'all', '--json']));
  // a and b opted in; d opted in but bounced; c has no email.
  assert.deepEqual(first.counts.deliveries.email, { queued: 2, skipped: 1 });
  assert.deepEqual(first.counts.skipped, { suppressed: 1 });
  const second = json(await notify(h, ['send', '--template', 'promo', '--segment', 'all', '--json']));
  assert.deepEqual(second.counts.skipped, { 'frequency-capped': 2, suppressed: 1 }, 'the cap of 1 marketing notification a day holds');
  assert.equal((await notify(h, ['prefs', 'set', '--user', 'a', '--channel', 'email', '--opt-out'])).code, 0);
  const note = json(await notify(h, ['send', '--template', 'note', '--user', 'a', '--user', 'b', '--channel', 'email', '--json']));
  assert.deepEqual(note.counts.deliveries.email, { queued: 1, skipped: 1 });
  assert.deepEqual(note.counts.skipped, { 'opted-out': 1 }, 'a whole-channel opt-out covers transactional mail too');
});

test('a campaign reaching a person on several channels counts once against the cap', async (t) => {
  const h = await home(t, ['--marketing-cap', '2', '--marketing-opt-in']);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'multi.yaml'), 'category: marketing\nemail:\n  subject: "x"\n  text: "x"\nsms:\n  body: "x"\n');
  assert.equal((await notify(h, ['templates', 'create', 'multi', '--file', join(dir, 'multi.yaml')])).code, 0);
  for (let i = 0; i < 2; i++) {
    const r = json(await notify(h, ['send', '--template', 'multi', '--user', 'a', '--json']));
    assert.deepEqual(r.counts.skipped, {}, `send ${i + 1} is within the cap`);
  }
  const third = json(await notify(h, ['send', '--template', 'multi', '--user', 'a', '--json']));
  assert.deepEqual(third.counts.skipped, { 'frequency-capped': 2 });
});

test('--dry-run counts per channel and reason and writes nothing', async (t) => {
  const h = await home(t);
  const r = await notify(h, ['send', '--template', 'note', '--segment', 'all', '--channel', 'email', '--dry-run', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(json(r), { dryRun: true, template: 'note', templateVersion: 1, audience: 4, channels: { email: { queued: 3, 'no-address': 1 } } });
  const store = await openHomeStore(t, h);
  assert.equal(store.db.prepare('SELECT count(*) FROM notifications').pluck().get(), 0);
  assert.equal(store.db.prepare('SELECT count(*) FROM deliveries').pluck().get(), 0);
});

test('a second send with the same event id is a no-op that reports the first', async (t) => {
  const h = await home(t);
  const first = json(await notify(h, ['send', '--template', 'note', '--user', 'a', '--event-id', 'welcome-a', '--json']));
  const again = await notify(h, ['send', '--template', 'note', '--user', 'a', '--event-id', 'welcome-a']);
  assert.equal(again.code, 0);
  assert.match(again.stdout, new RegExp(`Already sent: event id "welcome-a" is notification ${first.id}`));
  const store = await openHomeStore(t, h);
  assert.equal(store.db.prepare('SELECT count(*) FROM notifications').pluck().get(), 1);
});

test('--users reads ids from a file; priority follows the category unless given', async (t) => {
  const h = await home(t, ['--marketing-opt-in']);
  const file = join(tempDir(t), 'ids.txt');
  writeFileSync(file, '# customers\na\nb\n\n');
  assert.equal((await notify(h, ['send', '--template', 'promo', '--users', file])).code, 0);
  assert.equal((await notify(h, ['send', '--template', 'note', '--user', 'a', '--channel', 'email'])).code, 0);
  assert.equal((await notify(h, ['send', '--template', 'note', '--user', 'b', '--channel', 'email', '--priority', 'normal'])).code, 0);
  const store = await openHomeStore(t, h);
  const rows = store.db.prepare('SELECT n.template, d.user_id, d.priority FROM deliveries d JOIN notifications n ON n.id = d.notification_id ORDER BY d.id').all();
  assert.deepEqual(rows, [
    { template: 'promo', user_id: 'a', priority: 2 }, { template: 'promo', user_id: 'b', priority: 2 },
    { template: 'note', user_id: 'a', priority: 0 }, { template: 'note', user_id: 'b', priority: 1 },
  ]);
});

test('bad sends are one-line errors that write nothing', async (t) => {
  const h = await home(t);
  const cases: [string[], number, RegExp][] = [
    [['--template', 'nope', '--segment', 'all'], 1, /no template "nope"/],
    [['--template', 'note', '--segment', 'ghosts'], 1, /no segment "ghosts"/],
    [['--template', 'note', '--user', 'zed'], 1, /no user "zed"/],
    [['--template', 'note'], 2, /exactly one of --segment, --user or --users/],
    [['--template', 'note', '--segment', 'all', '--user', 'a'], 2, /exactly one of/],
    [['--template', 'promo', '--user', 'a', '--channel', 'sms'], 1, /template "promo" has no sms part/],
    [['--template', 'note', '--user', 'a', '--channel', 'fax'], 2, /--channel "fax" is not a channel/],
    [['--template', 'note', '--user', 'a', '--priority', 'urgent'], 2, /--priority must be high, normal or low/],
    [['--template', 'note', '--user', 'a', '--data', 'oops'], 2, /--data "oops" is not key=value/],
    [['--template', 'note', '--user', 'a', '--data-file', '/nonexistent.json'], 1, /cannot read/],
  ];
  for (const [argv, code, message] of cases) {
    const r = await notify(h, ['send', ...argv]);
    assert.equal(r.code, code, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const store = await openHomeStore(t, h);
  assert.equal(store.db.prepare('SELECT count(*) FROM notifications').pluck().get(), 0);
});

test('a campaign over several fan-out batches closes with the whole audience and every delivery counted', async (t) => {
  const h = await home(t);
  const users = join(tempDir(t), 'more.csv');
  // 4,500 more users without a phone: three batches of 2,000 with the four above.
  writeFileSync(users, 'id,name,email\n' + Array.from({ length: 4500 }, (_, i) => `m${i},M,m${i}@example.com`).join('\n') + '\n');
  assert.equal((await notify(h, ['users', 'import', users])).code, 0);
  const r = await notify(h, ['send', '--template', 'note', '--segment', 'all', '--channel', 'sms,email', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = json(r);
  assert.equal(out.status, 'active');
  assert.equal(out.counts.audience, 4504);
  assert.deepEqual(out.counts.deliveries, { sms: { queued: 3 }, email: { queued: 4503 } });
  assert.deepEqual(out.counts.noAddress, { sms: 4501, email: 1 });
});

test('send --at reads a local time in --tz, else in defaults.timezone; an offset needs neither', async (t) => {
  const h = await home(t);
  assert.equal((await notify(h, ['config', 'set', 'defaults.timezone', 'Asia/Seoul'])).code, 0);
  const at = async (...flags: string[]) => {
    const r = await notify(h, ['send', '--template', 'note', '--segment', 'all', '--channel', 'sms', '--json', ...flags]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(json(r).status, 'scheduled');
    return json(r).sendAt as string;
  };
  assert.equal(await at('--at', '2099-12-01T09:00'), '2099-12-01T00:00:00.000Z', 'defaults.timezone (UTC+9)');
  assert.equal(await at('--at', '2099-12-01T09:00', '--tz', 'America/New_York'), '2099-12-01T14:00:00.000Z');
  assert.equal(await at('--at', '2099-12-01T09:00Z'), '2099-12-01T09:00:00.000Z');
  const lonely = await notify(h, ['send', '--template', 'note', '--segment', 'all', '--tz', 'Asia/Seoul']);
  assert.equal(lonely.code, 2);
  assert.equal(lonely.stderr, 'error: --tz goes with --at\n');
});

test('the frequency cap counts the last 24 hours: a day and a millisecond later, the person can be reached again', async (t) => {
  const h = await home(t, ['--marketing-cap', '1', '--marketing-opt-in']);
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 12));
  const send = async () => {
    const r = await notify(h, ['send', '--template', 'promo', '--user', 'a', '--json'], { clock });
    assert.equal(r.code, 0, r.stderr);
    return json(r).counts.skipped as Record<string, number>;
  };
  assert.deepEqual(await send(), {});
  clock.advance(86_400_000 - 1);
  assert.deepEqual(await send(), { 'frequency-capped': 1 }, 'still within 24 hours');
  clock.advance(2);
  assert.deepEqual(await send(), {}, 'the first send has left the window');
});

test('a send without the data its template reads is refused before anything is written', async (t) => {
  const h = await home(t);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'sale.yaml'), [
    'category: transactional',
    'push:\n  title: "{{ data.product }} is back"\n  body: "Hi {{ user.name }} {{ user.attributes.plan }}"',
    'sms:\n  body: "{% if data.coupon %}Code {{ data.coupon }}{% endif %}"',
    'locales:\n  ko:\n    push:\n      title: "{{ data.product_ko }} 재입고"',
  ].join('\n') + '\n');
  assert.equal((await notify(h, ['templates', 'create', 'sale', '--file', join(dir, 'sale.yaml')])).code, 0);
  const store = await openHomeStore(t, h);
  const count = () => store.db.prepare('SELECT (SELECT count(*) FROM notifications) + (SELECT count(*) FROM deliveries)').pluck().get();
  const refused: [string[], RegExp][] = [
    [['--channel', 'push'], /template "sale" reads data\.product \(push\.title\) but the send has no "product": pass it in the data \(--data product=\.\.\.\)/],
    [['--channel', 'push', '--data', 'product=tea'], /reads data\.product_ko \(locales\.ko\.push\.title\)/],
    [['--channel', 'sms'], /reads data\.coupon \(sms\.body\)/],
    [['--segment', 'all', '--dry-run'], /reads data\.product \(push\.title\)/],
  ];
  for (const [flags, message] of refused) {
    const r = await notify(h, ['send', '--template', 'sale', ...(flags.includes('--segment') ? [] : ['--user', 'a']), ...flags]);
    assert.equal(r.code, 1, flags.join(' '));
    assert.match(r.stderr, message);
    assert.equal(r.stderr.split('\n').length, 2, 'one line');
  }
  assert.equal(count(), 0, 'nothing written');
  // A user's own missing attribute is that user's problem, not the send's; given the data, it goes.
  const ok = await notify(h, ['send', '--template', 'sale', '--user', 'a', '--channel', 'push', '--data', 'product=tea', '--data', 'product_ko=차', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  const sms = await notify(h, ['send', '--template', 'sale', '--user', 'a', '--channel', 'sms', '--data', 'coupon=', '--json']);
  assert.equal(sms.code, 0, sms.stderr);
});
