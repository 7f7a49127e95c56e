import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initHome, json, notify } from '../helpers.js';
import { ManualClock } from '../../src/core/time.js';

async function homeWithUser(t: { after(fn: () => void): void }, init: string[] = []): Promise<string> {
  const home = await initHome(t, init);
  assert.equal((await notify(home, ['users', 'add', 'u1', '--email', 'ada@example.com', '--phone', '+14155552671'])).code, 0);
  return home;
}

async function effective(home: string, user = 'u1'): Promise<Record<string, { optIn: boolean; origin: string; source?: string }>> {
  const r = await notify(home, ['prefs', 'show', '--user', user, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out: Record<string, { optIn: boolean; origin: string; source?: string }> = {};
  for (const p of json(r).preferences) out[`${p.channel}/${p.category}`] = { optIn: p.optIn, origin: p.origin, ...(p.source ? { source: p.source } : {}) };
  return out;
}

test('prefs show lists every channel and category with its default when nothing is recorded', async (t) => {
  const home = await homeWithUser(t);
  const prefs = await effective(home);
  assert.deepEqual(Object.keys(prefs).sort(), [
    'email/marketing', 'email/security', 'email/social', 'email/transactional',
    'push/marketing', 'push/security', 'push/social', 'push/transactional',
    'sms/marketing', 'sms/security', 'sms/social', 'sms/transactional',
  ]);
  assert.deepEqual(prefs['email/security'], { optIn: true, origin: 'default' });
  assert.deepEqual(prefs['email/marketing'], { optIn: false, origin: 'default' });
});

test('the marketing default follows defaults.marketingOptIn', async (t) => {
  const home = await homeWithUser(t, ['--marketing-opt-in']);
  assert.deepEqual((await effective(home))['push/marketing'], { optIn: true, origin: 'default' });
  assert.equal((await notify(home, ['config', 'set', 'defaults.marketingOptIn', 'false'])).code, 0);
  assert.deepEqual((await effective(home))['push/marketing'], { optIn: false, origin: 'default' });
  assert.deepEqual((await effective(home))['push/social'], { optIn: true, origin: 'default' }, 'transactional stays in');
});

test('opting out of marketing email keeps security email', async (t) => {
  const home = await homeWithUser(t, ['--marketing-opt-in']);
  const r = await notify(home, ['prefs', 'set', '--user', 'u1', '--channel', 'email', '--category', 'marketing', '--opt-out', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual({ ...json<Record<string, unknown>>(r), updatedAt: undefined }, {
    userId: 'u1', channel: 'email', category: 'marketing', optIn: false, source: 'cli', updatedAt: undefined, changed: true,
  });
  const prefs = await effective(home);
  assert.deepEqual(prefs['email/marketing'], { optIn: false, origin: 'category', source: 'cli' });
  assert.deepEqual(prefs['email/security'], { optIn: true, origin: 'default' });
  assert.deepEqual(prefs['push/marketing'], { optIn: true, origin: 'default' }, 'other channels are untouched');
});

test('a channel-wide opt-out covers every category unless a category says otherwise', async (t) => {
  const home = await homeWithUser(t);
  assert.equal((await notify(home, ['prefs', 'set', '--user', 'u1', '--channel', 'sms', '--opt-out', '--source', 'provider'])).code, 0);
  assert.equal((await notify(home, ['prefs', 'set', '--user', 'u1', '--channel', 'sms', '--category', 'security', '--opt-in'])).code, 0);
  const prefs = await effective(home);
  assert.deepEqual(prefs['sms/transactional'], { optIn: false, origin: 'channel', source: 'provider' });
  assert.deepEqual(prefs['sms/security'], { optIn: true, origin: 'category', source: 'cli' });
  assert.deepEqual(prefs['email/transactional'], { optIn: true, origin: 'default' });
});

test('history shows every change with its time and source, oldest first', async (t) => {
  const home = await homeWithUser(t);
  const clock = new ManualClock(Date.UTC(2026, 2, 1));
  const steps: [string[], string][] = [
    [['--channel', 'email', '--category', 'marketing', '--opt-in', '--source', 'api'], '2026-03-01T00:00:00.000Z'],
    [['--channel', 'email', '--category', 'marketing', '--opt-out', '--source', 'unsubscribe'], '2026-03-02T00:00:00.000Z'],
    [['--channel', 'sms', '--opt-out', '--source', 'provider'], '2026-03-03T00:00:00.000Z'],
  ];
  for (const [flags] of steps) {
    const r = await notify(home, ['prefs', 'set', '--user', 'u1', ...flags], { clock });
    assert.equal(r.code, 0, r.stderr);
    clock.advance(86_400_000);
  }
  // Repeating the stored choice is not a change: the trail keeps when consent was actually given.
  const again = await notify(home, ['prefs', 'set', '--user', 'u1', '--channel', 'sms', '--opt-out', '--json'], { clock });
  assert.equal(json(again).changed, false);
  assert.equal(json(again).source, 'provider');

  const r = await notify(home, ['prefs', 'show', '--user', 'u1', '--history', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(json(r).history.map((h: any) => [h.at, h.channel, h.category, h.optIn, h.source]), [
    ['2026-03-01T00:00:00.000Z', 'email', 'marketing', true, 'api'],
    ['2026-03-02T00:00:00.000Z', 'email', 'marketing', false, 'unsubscribe'],
    ['2026-03-03T00:00:00.000Z', 'sms', '*', false, 'provider'],
  ]);
  const piped = await notify(home, ['prefs', 'show', '--user', 'u1', '--history']);
  assert.match(piped.stdout, /\n\n2026-03-01T00:00:00\.000Z\temail\tmarketing\tyes\tapi\n/);
  const plain = await notify(home, ['prefs', 'show', '--user', 'u1', '--json']);
  assert.equal(json(plain).history, undefined, 'history only when asked');
});

test('bad preference input is a one-line error naming the fix and writes nothing', async (t) => {
  const home = await homeWithUser(t);
  const cases: [string[], number, RegExp][] = [
    [['--user', 'u1', '--channel', 'email', '--category', 'promo', '--opt-out'], 1, /^error: field "category": "promo" is not a category: use one of transactional, security, social, marketing, or add it with: notify config set categories\.promo/],
    [['--user', 'u1', '--channel', 'fax', '--opt-out'], 1, /^error: field "channel": "fax" is not a channel: use push, sms or email/],
    [['--user', 'u1', '--channel', 'email', '--opt-out', '--source', 'guess'], 1, /^error: field "source": "guess" is not a preference source: use one of cli, api, import, unsubscribe, provider/],
    [['--user', 'u1', '--channel', 'email'], 2, /^error: give exactly one of --opt-in or --opt-out/],
    [['--user', 'u1', '--channel', 'email', '--opt-in', '--opt-out'], 2, /^error: give exactly one of --opt-in or --opt-out/],
    [['--user', 'ghost', '--channel', 'email', '--opt-out'], 1, /^error: no user "ghost": check the id with "notify users list"/],
  ];
  for (const [flags, code, message] of cases) {
    const r = await notify(home, ['prefs', 'set', ...flags]);
    assert.equal(r.code, code, flags.join(' '));
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const r = await notify(home, ['prefs', 'show', '--user', 'u1', '--history', '--json']);
  assert.deepEqual(json(r).history, []);
});

test('suppressed addresses are normalised, listed and can be lifted', async (t) => {
  const home = await homeWithUser(t);
  const add = await notify(home, ['prefs', 'suppress', '--channel', 'email', '--address', 'Ada@EXAMPLE.com', '--reason', 'bounced', '--json']);
  assert.equal(add.code, 0, add.stderr);
  assert.equal(json(add).address, 'Ada@example.com');
  assert.equal((await notify(home, ['prefs', 'suppress', '--channel', 'sms', '--address', '(415) 555-2671'])).code, 0);
  const list = json(await notify(home, ['prefs', 'suppressions', '--json']));
  assert.deepEqual(list.map((s: any) => [s.channel, s.address, s.reason]).sort(), [['email', 'Ada@example.com', 'bounced'], ['sms', '+14155552671', 'manual']]);
  assert.equal((await notify(home, ['prefs', 'unsuppress', '--channel', 'email', '--address', 'Ada@example.com'])).code, 0);
  assert.deepEqual(json(await notify(home, ['prefs', 'suppressions', '--channel', 'email', '--json'])), []);
  const again = await notify(home, ['prefs', 'unsuppress', '--channel', 'email', '--address', 'Ada@example.com']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /is not suppressed/);
});

test('JSONL users import records devices and preferences with source import', async (t) => {
  const home = await initHome(t);
  const apns = 'a'.repeat(64);
  const lines = [
    { id: 'j1', email: 'j1@example.com', devices: [{ platform: 'ios', token: apns }], preferences: [{ channel: 'email', category: 'marketing', optIn: true }] },
    { id: 'j2', preferences: [{ channel: 'sms', optIn: false }] },
  ].map((o) => JSON.stringify(o)).join('\n') + '\n';
  const r = await notify(home, ['users', 'import', '-', '--format', 'jsonl'], { stdin: lines });
  assert.equal(r.code, 0, r.stderr);
  const devices = json(await notify(home, ['devices', 'list', '--user', 'j1', '--json']));
  assert.deepEqual(devices.map((d: any) => [d.platform, d.token]), [['ios', apns]]);
  const j1 = await effective(home, 'j1');
  assert.deepEqual(j1['email/marketing'], { optIn: true, origin: 'category', source: 'import' });
  const j2 = await effective(home, 'j2');
  assert.deepEqual(j2['sms/security'], { optIn: false, origin: 'channel', source: 'import' });
});

test('a bad device or preference in a JSONL row rejects just that row', async (t) => {
  const home = await initHome(t);
  const lines = [
    { id: 'ok', devices: [{ platform: 'android', token: 'dQw4w9WgXcQ:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx' }] },
    { id: 'bad1', preferences: [{ channel: 'email', optIn: true }], devices: [{ platform: 'ios', token: 'a'.repeat(64) }, { platform: 'ios', token: 'nope' }] },
    { id: 'bad2', preferences: [{ channel: 'email', optIn: 'yes' }] },
    { id: 'bad3', devices: [{ platform: 'web', subscription: { endpoint: 'https://push.example.com/x', keys: {} } }] },
  ].map((o) => JSON.stringify(o)).join('\n') + '\n';
  const r = await notify(home, ['users', 'import', '-', '--format', 'jsonl'], { stdin: lines });
  assert.equal(r.code, 1);
  assert.deepEqual(r.stderr.trim().split('\n').slice(0, 3), [
    'line 2, field "devices[1].token": "nope" is not an APNs device token (expected 64 hex characters)',
    'line 3, field "preferences[0].optIn": must be true or false',
    'line 4, field "devices[0].subscription.keys.p256dh": keys.p256dh must be a base64url P-256 public key (65 bytes)',
  ]);
  const users = json(await notify(home, ['users', 'list', '--json']));
  assert.deepEqual(users.map((u: any) => u.id), ['ok']);
  const devices = json(await notify(home, ['devices', 'list', '--inactive', '--json']));
  assert.deepEqual(devices.map((d: any) => d.userId), ['ok'], 'nothing of a rejected row is written');
});
