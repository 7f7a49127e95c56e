import { test } from 'node:test';
import assert from 'node:assert/strict';
import { call, startApi } from './harness.js';

const IOS_TOKEN = '740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad';
const SUBSCRIPTION = {
  endpoint: 'https://push.example.com/send/abc123',
  keys: { p256dh: Buffer.alloc(65, 4).toString('base64url'), auth: Buffer.alloc(16, 7).toString('base64url') },
};

test('PUT /v1/users creates a user with normalised fields, then updates only the fields given', async (t) => {
  const env = await startApi(t);
  const { auth } = await env.app({ scopes: ['contacts'] });
  const created = await call(env.url, 'PUT', '/v1/users/new-1', {
    auth, body: { email: 'Ada@Example.COM', phone: '(415) 555-2671', name: 'Ada', timezone: 'Europe/Berlin', attributes: { plan: 'pro', trial: true } },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.id, 'new-1');
  assert.equal(created.body.email, 'Ada@example.com');
  assert.equal(created.body.phone, '+14155552671');
  const updated = await call(env.url, 'PUT', '/v1/users/new-1', { auth, body: { email: 'ada@new.example', phone: null, attributes: { seats: 3, trial: null } } });
  assert.equal(updated.status, 200);
  assert.equal(updated.body.name, 'Ada', 'fields not given keep their value');
  assert.equal(updated.body.email, 'ada@new.example');
  assert.equal(updated.body.phone, null, 'null clears a field');
  assert.deepEqual(updated.body.attributes, { plan: 'pro', seats: 3 });
  const stored = await env.store.users.get('new-1');
  assert.equal(stored?.timezone, 'Europe/Berlin');
  assert.equal(stored?.email, 'ada@new.example');
});

test('PUT /v1/users refuses each bad field with 400 naming it, and writes nothing', async (t) => {
  const env = await startApi(t);
  const { auth } = await env.app({ scopes: ['contacts'] });
  const cases: [unknown, string, RegExp][] = [
    [{ email: 'not-an-email' }, 'email', /not a valid email address/],
    [{ phone: '12' }, 'phone', /not a valid phone number/],
    [{ timezone: 'Mars/Olympus' }, 'timezone', /not an IANA timezone/],
    [{ locale: 'not a locale!' }, 'locale', /not a BCP 47 locale/],
    [{ email: 42 }, 'email', /must be string or null/],
    [{ attributes: ['a'] }, 'attributes', /must be object/],
    [{ nickname: 'x' }, 'nickname', /not a known field/],
  ];
  for (const [body, field, reason] of cases) {
    const r = await call(env.url, 'PUT', '/v1/users/bad-1', { auth, body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.body.error.field, field);
    assert.match(r.body.error.message, reason);
  }
  const spaces = await call(env.url, 'PUT', `/v1/users/${encodeURIComponent('has space')}`, { auth, body: {} });
  assert.equal(spaces.status, 400);
  assert.equal(spaces.body.error.field, 'id');
  assert.equal(await env.store.users.get('bad-1'), undefined);
});

test('a device token registered again for another user moves to that user', async (t) => {
  const env = await startApi(t);
  const { auth } = await env.app({ scopes: ['contacts'] });
  const first = await call(env.url, 'POST', '/v1/users/u000001/devices', { auth, body: { platform: 'ios', token: IOS_TOKEN.toUpperCase() } });
  assert.equal(first.status, 201, JSON.stringify(first.body));
  assert.equal(first.body.created, true);
  assert.equal(first.body.token, IOS_TOKEN, 'the token is normalised');
  const moved = await call(env.url, 'POST', '/v1/users/u000002/devices', { auth, body: { platform: 'ios', token: IOS_TOKEN } });
  assert.equal(moved.status, 200);
  assert.equal(moved.body.id, first.body.id, 'the same device row');
  assert.equal(moved.body.user_id, 'u000002');
  assert.equal(moved.body.moved, true);
  assert.deepEqual(await env.store.devices.listForUser('u000001'), []);
  assert.equal((await env.store.devices.listForUser('u000002')).length, 1);
  const again = await call(env.url, 'POST', '/v1/users/u000002/devices', { auth, body: { platform: 'ios', token: IOS_TOKEN } });
  assert.equal(again.status, 200);
  assert.equal(again.body.moved, false);
  assert.equal(env.count('devices'), 1);
});

test('web devices register by subscription; bad devices get 400 and unknown users 404', async (t) => {
  const env = await startApi(t);
  const { auth } = await env.app({ scopes: ['contacts'] });
  const web = await call(env.url, 'POST', '/v1/users/u000001/devices', { auth, body: { platform: 'web', subscription: SUBSCRIPTION } });
  assert.equal(web.status, 201, JSON.stringify(web.body));
  assert.equal(web.body.platform, 'web');
  assert.equal(web.body.subscription.endpoint, SUBSCRIPTION.endpoint);
  const cases: [unknown, string, RegExp][] = [
    [{ platform: 'ios', token: 'short' }, 'token', /not an APNs device token/],
    [{ platform: 'android' }, 'token', /needs its token/],
    [{ platform: 'blackberry', token: 'x' }, 'platform', /must be one of: ios, android, web/],
    [{ platform: 'web' }, 'subscription', /needs its Web Push subscription/],
    [{ platform: 'web', subscription: { ...SUBSCRIPTION, endpoint: 'http://insecure.example.com/x' } }, 'subscription.endpoint', /must be https/],
    [{ platform: 'web', subscription: { endpoint: SUBSCRIPTION.endpoint } }, 'subscription.keys', /is required/],
    [{ platform: 'ios', token: IOS_TOKEN, subscription: SUBSCRIPTION }, 'subscription', /has a token, not a subscription/],
  ];
  for (const [body, field, reason] of cases) {
    const r = await call(env.url, 'POST', '/v1/users/u000001/devices', { auth, body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.body.error.field, field, JSON.stringify(r.body));
    assert.match(r.body.error.message, reason);
  }
  const ghost = await call(env.url, 'POST', '/v1/users/ghost/devices', { auth, body: { platform: 'ios', token: IOS_TOKEN } });
  assert.equal(ghost.status, 404);
  assert.match(ghost.body.error.message, /no user "ghost"/);
  assert.equal(env.count('devices'), 1);
});

test('DELETE deactivates a user\'s device; another user\'s device is 404', async (t) => {
  const env = await startApi(t);
  const { auth } = await env.app({ scopes: ['contacts'] });
  const device = await call(env.url, 'POST', '/v1/users/u000001/devices', { auth, body: { platform: 'ios', token: IOS_TOKEN } });
  const wrongUser = await call(env.url, 'DELETE', `/v1/users/u000002/devices/${device.body.id}`, { auth });
  assert.equal(wrongUser.status, 404);
  assert.equal((await env.store.devices.get(device.body.id))?.active, true);
  const removed = await call(env.url, 'DELETE', `/v1/users/u000001/devices/${device.body.id}`, { auth });
  assert.equal(removed.status, 204);
  const stored = await env.store.devices.get(device.body.id);
  assert.equal(stored?.active, false);
  assert.equal(stored?.deactivatedReason, 'removed');
  assert.equal((await call(env.url, 'DELETE', `/v1/users/u000001/devices/${device.body.id}`, { auth })).status, 204, 'twice is fine');
  assert.equal((await call(env.url, 'DELETE', '/v1/users/u000001/devices/abc', { auth })).status, 400);
});

test('preferences: GET shows defaults, PUT records choices with source api, and GET reflects them', async (t) => {
  const env = await startApi(t);
  const { auth } = await env.app({ scopes: ['preferences'] });
  const before = await call(env.url, 'GET', '/v1/users/u000001/preferences', { auth });
  assert.equal(before.status, 200);
  const find = (body: any, channel: string, category: string) => body.preferences.find((p: any) => p.channel === channel && p.category === category);
  assert.deepEqual(find(before.body, 'email', 'marketing'), { channel: 'email', category: 'marketing', opt_in: false, origin: 'default', source: null, updated_at: null });
  assert.equal(find(before.body, 'sms', 'transactional').opt_in, true);

  const put = await call(env.url, 'PUT', '/v1/users/u000001/preferences', {
    auth, body: { preferences: [{ channel: 'email', category: 'marketing', opt_in: true }, { channel: 'sms', opt_in: false }] },
  });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.changed, 2);
  assert.equal(find(put.body, 'email', 'marketing').opt_in, true);
  assert.equal(find(put.body, 'email', 'marketing').source, 'api');
  assert.equal(find(put.body, 'sms', 'transactional').opt_in, false);
  assert.equal(find(put.body, 'sms', 'transactional').origin, 'channel');
  const history = await env.store.prefs.history('u000001');
  assert.deepEqual(history.map((h) => [h.channel, h.category, h.optIn, h.source]), [['email', 'marketing', true, 'api'], ['sms', '*', false, 'api']]);
  const repeat = await call(env.url, 'PUT', '/v1/users/u000001/preferences', { auth, body: { preferences: [{ channel: 'sms', opt_in: false }] } });
  assert.equal(repeat.body.unchanged, 1);
});

test('preferences: bad entries get 400 naming the entry, unknown users 404, and nothing is written', async (t) => {
  const env = await startApi(t);
  const { auth } = await env.app({ scopes: ['preferences'] });
  const ok = { channel: 'email', opt_in: false };
  const cases: [unknown, string, RegExp][] = [
    [{ preferences: [ok, { channel: 'email', category: 'gossip', opt_in: false }] }, 'preferences[1].category', /"gossip" is not a category/],
    [{ preferences: [{ channel: 'fax', opt_in: false }] }, 'preferences[0].channel', /must be one of: push, sms, email/],
    [{ preferences: [{ channel: 'email' }] }, 'preferences[0].opt_in', /is required/],
    [{ preferences: [{ channel: 'email', opt_in: 'no' }] }, 'preferences[0].opt_in', /must be boolean/],
    [{ preferences: [] }, 'preferences', /fewer than 1/],
  ];
  for (const [body, field, reason] of cases) {
    const r = await call(env.url, 'PUT', '/v1/users/u000001/preferences', { auth, body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.body.error.field, field);
    assert.match(r.body.error.message, reason);
  }
  for (const method of ['GET', 'PUT']) {
    const r = await call(env.url, method, '/v1/users/ghost/preferences', { auth, body: method === 'PUT' ? { preferences: [ok] } : undefined });
    assert.equal(r.status, 404, method);
  }
  assert.equal(env.count('preferences'), 0);
  assert.equal(env.count('preference_history'), 0);
});
