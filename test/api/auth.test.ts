import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/core/time.js';
import { basic, call, startApi } from './harness.js';

const send = { event_id: 'e1', template: 'note', user_id: 'u000001', data: { text: 'hi' } };

test('no credentials, a wrong secret, an unknown key or a malformed header get 401 and write nothing', async (t) => {
  const env = await startApi(t);
  const { key, secret } = await env.app();
  const other = await env.app();
  const cases: [string, string | undefined][] = [
    ['no header', undefined],
    ['a wrong secret', basic(key, secret.slice(0, -2) + 'xx')],
    ['another app\'s secret', basic(key, other.secret)],
    ['an unknown key', basic('ak_' + 'A'.repeat(22), secret)],
    ['a key and no secret', basic(key, '')],
    ['bearer instead of basic', `Bearer ${secret}`],
    ['basic with garbage', 'Basic !!!'],
  ];
  for (const [what, auth] of cases) {
    const r = await call(env.url, 'POST', '/v1/notifications', { auth, body: send });
    assert.equal(r.status, 401, what);
    assert.equal(r.body.error.code, 'unauthorized', what);
    assert.match(r.headers.get('www-authenticate') ?? '', /^Basic realm="notify"/, what);
    assert.equal(JSON.stringify(r.body).includes(secret), false, `${what}: the secret is not echoed`);
  }
  assert.equal(env.count('notifications'), 0);
  const good = await call(env.url, 'POST', '/v1/notifications', { auth: basic(key, secret), body: send });
  assert.equal(good.status, 202, 'the right pair works');
});

test('a revoked key gets 401 once the daemon\'s short lookup cache expires', async (t) => {
  const clock = new ManualClock(Date.now());
  const env = await startApi(t, { clock });
  const { app, auth } = await env.app({ scopes: ['contacts'] });
  assert.equal((await call(env.url, 'GET', '/v1/users/u000001', { auth })).status, 200);
  await env.store.apps.revoke(app.name);
  clock.advance(5001);
  const r = await call(env.url, 'GET', '/v1/users/u000001', { auth });
  assert.equal(r.status, 401);
  assert.equal(r.body.error.code, 'revoked');
  assert.match(r.body.error.message, /was revoked/);
});

test('a key revoked before its first use is refused at once', async (t) => {
  const env = await startApi(t);
  const { app, auth } = await env.app();
  await env.store.apps.revoke(app.id);
  const r = await call(env.url, 'POST', '/v1/notifications', { auth, body: send });
  assert.equal(r.status, 401);
  assert.equal(r.body.error.code, 'revoked');
  assert.equal(env.count('notifications'), 0);
});

test('a rotated secret works at once and the old one is refused once the cache expires', async (t) => {
  const clock = new ManualClock(Date.now());
  const env = await startApi(t, { clock });
  const { app, auth: old } = await env.app({ scopes: ['contacts'] });
  assert.equal((await call(env.url, 'GET', '/v1/users/u000001', { auth: old })).status, 200);
  const { secret } = await env.store.apps.rotate(app.name);
  assert.equal((await call(env.url, 'GET', '/v1/users/u000001', { auth: basic(app.key, secret) })).status, 200);
  clock.advance(5001);
  assert.equal((await call(env.url, 'GET', '/v1/users/u000001', { auth: old })).status, 401);
});

test('a valid key without the route\'s scope gets 403 and writes nothing', async (t) => {
  const env = await startApi(t);
  const { auth } = await env.app({ scopes: ['events'] });
  const cases: [string, string, unknown][] = [
    ['POST', '/v1/notifications', send],
    ['GET', '/v1/notifications/n_x', undefined],
    ['PUT', '/v1/users/new', { email: 'new@example.com' }],
    ['POST', '/v1/users/u000001/devices', { platform: 'ios', token: 'a'.repeat(64) }],
    ['GET', '/v1/users/u000001/preferences', undefined],
    ['PUT', '/v1/users/u000001/preferences', { preferences: [{ channel: 'email', opt_in: false }] }],
  ];
  for (const [method, path, body] of cases) {
    const r = await call(env.url, method, path, { auth, body });
    assert.equal(r.status, 403, `${method} ${path}`);
    assert.equal(r.body.error.code, 'forbidden');
    assert.match(r.body.error.message, /lacks the "(send|contacts|preferences)" scope/);
  }
  assert.equal(env.count('notifications'), 0);
  assert.equal(env.count('devices'), 0);
  assert.equal(env.count('preferences'), 0);
  assert.equal(await env.store.users.get('new'), undefined);
});

test('over its rate an app gets 429 with Retry-After; other apps are not affected; it is served again later', async (t) => {
  const clock = new ManualClock(Date.now());
  const env = await startApi(t, { clock });
  const slow = await env.app({ scopes: ['contacts'], rate: 2 });
  const fast = await env.app({ scopes: ['contacts'] });
  const get = (auth: string) => call(env.url, 'GET', '/v1/users/u000001', { auth });
  assert.equal((await get(slow.auth)).status, 200);
  assert.equal((await get(slow.auth)).status, 200);
  const limited = await get(slow.auth);
  assert.equal(limited.status, 429);
  assert.equal(limited.body.error.code, 'rate_limited');
  assert.equal(limited.headers.get('retry-after'), '1');
  assert.match(limited.body.error.message, /over its rate of 2\/s/);
  assert.equal((await get(fast.auth)).status, 200, 'another app has its own bucket');
  clock.advance(1000);
  assert.equal((await get(slow.auth)).status, 200, 'served again after Retry-After');
});

test('an app with a rate below one per second is told to wait whole seconds', async (t) => {
  const clock = new ManualClock(Date.now());
  const env = await startApi(t, { clock });
  const { auth } = await env.app({ scopes: ['contacts'], rate: 0.1 });
  assert.equal((await call(env.url, 'GET', '/v1/users/u000001', { auth })).status, 200);
  const r = await call(env.url, 'GET', '/v1/users/u000001', { auth });
  assert.equal(r.status, 429);
  assert.equal(r.headers.get('retry-after'), '10');
});

test('every notification an app posts is attributed to it in the notification log', async (t) => {
  const env = await startApi(t);
  const a = await env.app({ name: 'checkout' });
  const b = await env.app({ name: 'mobile' });
  const ra = await call(env.url, 'POST', '/v1/notifications', { auth: a.auth, body: { ...send, event_id: 'from-a' } });
  const rb = await call(env.url, 'POST', '/v1/notifications', { auth: b.auth, body: { ...send, event_id: 'from-b' } });
  assert.equal(ra.status, 202);
  assert.equal(rb.status, 202);
  const rows = env.store.db.prepare('SELECT id, app_id, source FROM notifications ORDER BY created_at').all() as { id: string; app_id: string; source: string }[];
  assert.deepEqual(rows.map((r) => [r.id, r.app_id, r.source]), [[ra.body.id, a.app.id, 'api'], [rb.body.id, b.app.id, 'api']]);
  const got = await call(env.url, 'GET', `/v1/notifications/${ra.body.id}`, { auth: a.auth });
  assert.equal(got.body.app_id, a.app.id);
});
