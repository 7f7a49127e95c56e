import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initHome, json, notify, tempDir } from '../helpers.js';

const APNS = '740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad';
const FCM = 'dQw4w9WgXcQ:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx';
const SUB = {
  endpoint: 'https://push.example.com/send/abc123',
  keys: { p256dh: Buffer.alloc(65, 4).toString('base64url'), auth: Buffer.alloc(16, 7).toString('base64url') },
};

async function homeWithUsers(t: { after(fn: () => void): void }, ...ids: string[]): Promise<string> {
  const home = await initHome(t);
  for (const id of ids) assert.equal((await notify(home, ['users', 'add', id])).code, 0);
  return home;
}

async function listDevices(home: string, ...flags: string[]): Promise<any[]> {
  const r = await notify(home, ['devices', 'list', '--json', ...flags]);
  assert.equal(r.code, 0, r.stderr);
  return json(r);
}

test('devices add registers ios, android and web devices', async (t) => {
  const home = await homeWithUsers(t, 'u1');
  const ios = await notify(home, ['devices', 'add', '--user', 'u1', '--platform', 'ios', '--token', APNS.toUpperCase(), '--json']);
  assert.equal(ios.code, 0, ios.stderr);
  assert.equal(json(ios).token, APNS, 'APNs tokens are stored in lower case');
  const android = await notify(home, ['devices', 'add', '--user', 'u1', '--platform', 'android', '--token', FCM, '--json']);
  assert.equal(android.code, 0, android.stderr);
  const file = join(tempDir(t), 'sub.json');
  writeFileSync(file, JSON.stringify(SUB));
  const web = await notify(home, ['devices', 'add', '--user', 'u1', '--platform', 'web', '--subscription', `@${file}`, '--json']);
  assert.equal(web.code, 0, web.stderr);
  assert.equal(json(web).token, SUB.endpoint, 'a web device is keyed by its endpoint');
  assert.deepEqual(json(web).subscription.keys, SUB.keys);

  const devices = await listDevices(home, '--user', 'u1');
  assert.deepEqual(devices.map((d) => [d.platform, d.userId, d.active]), [['ios', 'u1', true], ['android', 'u1', true], ['web', 'u1', true]]);
  assert.deepEqual((await listDevices(home, '--platform', 'android')).map((d) => d.token), [FCM]);
});

test('a subscription given inline as JSON is accepted', async (t) => {
  const home = await homeWithUsers(t, 'u1');
  const r = await notify(home, ['devices', 'add', '--user', 'u1', '--platform', 'web', '--subscription', JSON.stringify(SUB), '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(json(r).platform, 'web');
});

test('bad tokens, subscriptions, platforms and users are one-line errors that write nothing', async (t) => {
  const home = await homeWithUsers(t, 'u1');
  const cases: [string[], RegExp][] = [
    [['--user', 'u1', '--platform', 'ios', '--token', 'abc123'], /^error: field "token": "abc123" is not an APNs device token/],
    [['--user', 'u1', '--platform', 'android', '--token', 'short'], /^error: field "token": .*not an FCM registration token/],
    [['--user', 'u1', '--platform', 'web', '--subscription', '{"endpoint": "http://push.example.com/x"}'], /^error: field "subscription.endpoint": .*must be https/],
    [['--user', 'u1', '--platform', 'web', '--subscription', '{not json'], /^error: field "subscription": .*not valid JSON/],
    [['--user', 'u1', '--platform', 'web', '--subscription', JSON.stringify({ ...SUB, keys: { ...SUB.keys, auth: 'x' } })], /^error: field "subscription.keys.auth"/],
    [['--user', 'u1', '--platform', 'blackberry', '--token', APNS], /^error: field "platform": "blackberry" is not a platform: use ios, android or web/],
    [['--user', 'ghost', '--platform', 'ios', '--token', APNS], /^error: no user "ghost": check the id with "notify users list"/],
    [['--user', 'u1', '--platform', 'ios'], /^error: field "token": an ios device needs its token/],
    [['--user', 'u1', '--platform', 'ios', '--token', APNS, '--subscription', JSON.stringify(SUB)], /^error: give --token .* not both/],
  ];
  for (const [flags, message] of cases) {
    const r = await notify(home, ['devices', 'add', ...flags]);
    assert.notEqual(r.code, 0, `${flags.join(' ')} should fail`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line for ${flags.join(' ')}: ${r.stderr}`);
  }
  assert.deepEqual(await listDevices(home, '--inactive'), []);
});

test('the same token registered for another user moves to that user and is active again', async (t) => {
  const home = await homeWithUsers(t, 'u1', 'u2');
  const first = json(await notify(home, ['devices', 'add', '--user', 'u1', '--platform', 'ios', '--token', APNS, '--json']));
  assert.equal((await notify(home, ['devices', 'remove', String(first.id), '--yes'])).code, 0);
  const second = await notify(home, ['devices', 'add', '--user', 'u2', '--platform', 'ios', '--token', APNS, '--json']);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(json(second).id, first.id, 'the same device row');
  assert.equal(json(second).userId, 'u2');
  assert.equal(json(second).active, true);
  assert.equal(json(second).deactivatedReason, null);
  assert.deepEqual(await listDevices(home, '--user', 'u1', '--inactive'), []);
  assert.deepEqual((await listDevices(home, '--user', 'u2')).map((d) => d.token), [APNS]);
});

test('a removed device is listed only with --inactive, with its reason and time', async (t) => {
  const home = await homeWithUsers(t, 'u1');
  const added = json(await notify(home, ['devices', 'add', '--user', 'u1', '--platform', 'android', '--token', FCM, '--json']));
  const refused = await notify(home, ['devices', 'remove', String(added.id)]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /refusing without --yes/);
  assert.equal((await listDevices(home)).length, 1, 'a refused remove changes nothing');

  const removed = await notify(home, ['devices', 'remove', String(added.id), '--yes']);
  assert.equal(removed.code, 0, removed.stderr);
  assert.deepEqual(await listDevices(home), []);
  const inactive = await listDevices(home, '--inactive');
  assert.equal(inactive.length, 1);
  assert.equal(inactive[0].active, false);
  assert.equal(inactive[0].deactivatedReason, 'removed');
  assert.match(inactive[0].deactivatedAt, /^\d{4}-\d\d-\d\dT/);

  const piped = await notify(home, ['devices', 'list', '--inactive']);
  assert.deepEqual(piped.stdout.trim().split('\t').slice(-2), [inactive[0].deactivatedAt, 'removed'], 'piped rows end with the time and reason');
});

test('removing an unknown device names the fix', async (t) => {
  const home = await homeWithUsers(t, 'u1');
  const r = await notify(home, ['devices', 'remove', '42', '--yes']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: no device 42: check the id with "notify devices list --inactive"\n$/);
});

test('devices import takes good CSV rows and reports each bad row by line and field', async (t) => {
  const home = await homeWithUsers(t, 'u1', 'u2');
  const file = join(tempDir(t), 'devices.csv');
  const sub = JSON.stringify(SUB).replace(/"/g, '""');
  writeFileSync(file, [
    'user_id,platform,token,subscription',
    `u1,ios,${APNS},`,
    `u2,android,${FCM},`,
    `u2,web,,"${sub}"`,
    'ghost,ios,' + 'a'.repeat(64) + ',',
    'u1,ios,nothex,',
    `u1,fax,${APNS},`,
  ].join('\n') + '\n');
  const r = await notify(home, ['devices', 'import', file, '--json']);
  assert.equal(r.code, 1, 'bad rows make the exit code 1');
  const summary = json(r);
  assert.equal(summary.rows, 6);
  assert.equal(summary.imported, 3);
  assert.equal(summary.invalid, 3);
  assert.deepEqual(r.stderr.trim().split('\n').slice(0, 3), [
    'line 5, field "user_id": no user "ghost": add it first with "notify users add" or "notify users import"',
    'line 6, field "token": "nothex" is not an APNs device token (expected 64 hex characters)',
    'line 7, field "platform": "fax" is not a platform: use ios, android or web',
  ]);
  assert.deepEqual((await listDevices(home)).map((d) => `${d.userId}/${d.platform}`), ['u1/ios', 'u2/android', 'u2/web']);
});

test('devices import reads JSONL from stdin and moves tokens that change hands', async (t) => {
  const home = await homeWithUsers(t, 'u1', 'u2');
  await notify(home, ['devices', 'add', '--user', 'u1', '--platform', 'ios', '--token', APNS]);
  const lines = [
    { user_id: 'u2', platform: 'ios', token: APNS },
    { user_id: 'u1', platform: 'web', subscription: SUB },
  ].map((o) => JSON.stringify(o)).join('\n');
  const r = await notify(home, ['devices', 'import', '-', '--format', 'jsonl', '--json'], { stdin: lines });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual({ ...json<Record<string, unknown>>(r), errors: undefined }, { rows: 2, imported: 2, created: 1, moved: 1, invalid: 0, errors: undefined });
  assert.deepEqual((await listDevices(home, '--user', 'u2')).map((d) => d.token), [APNS]);
});

test('a CSV file with an unknown column imports nothing', async (t) => {
  const home = await homeWithUsers(t, 'u1');
  const file = join(tempDir(t), 'devices.csv');
  writeFileSync(file, `user_id,platform,tokn\nu1,ios,${APNS}\n`);
  const r = await notify(home, ['devices', 'import', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown column "tokn"/);
  assert.deepEqual(await listDevices(home, '--inactive'), []);
});
