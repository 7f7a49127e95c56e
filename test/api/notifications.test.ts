import { test } from 'node:test';
import assert from 'node:assert/strict';
import { call, startApi, until } from './harness.js';

test('a posted notification is committed, the daemon woken at once, and delivered', async (t) => {
  // A poll interval of ten minutes: only the API's wake can start the claim.
  const env = await startApi(t, { config: { 'daemon.pollMs': 600_000 } });
  const { auth } = await env.app({ scopes: ['send'] });
  const r = await call(env.url, 'POST', '/v1/notifications', {
    auth, body: { event_id: 'order-1', template: 'note', user_id: 'u000001', channels: ['email'], data: { text: 'shipped' } },
  });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.match(r.body.id, /^n_/);
  assert.equal(r.body.deduplicated, false);
  assert.equal(r.body.status, 'active');
  await until(() => env.delivered.length === 1, 'the delivery');
  assert.equal(env.delivered[0]!.channel, 'email');

  await until(async () => (await call(env.url, 'GET', `/v1/notifications/${r.body.id}`, { auth })).body.deliveries?.[0]?.status === 'sent', 'the result written');
  const got = await call(env.url, 'GET', `/v1/notifications/${r.body.id}`, { auth });
  assert.equal(got.status, 200);
  assert.equal(got.body.event_id, 'order-1');
  assert.equal(got.body.template, 'note');
  assert.equal(got.body.priority, 'high');
  assert.equal(got.body.source, 'api');
  assert.deepEqual(got.body.counts.deliveries, { email: { sent: 1 } });
  const [delivery] = got.body.deliveries;
  assert.equal(delivery.user_id, 'u000001');
  assert.deepEqual(delivery.history.map((h: { status: string }) => h.status), ['created', 'sent']);
  assert.match(delivery.history[1].detail, /^log-/);
});

test('the same event_id posted concurrently makes one notification and queues nothing more', async (t) => {
  const env = await startApi(t);
  const { auth } = await env.app();
  const body = { event_id: 'signup-7', template: 'note', user_id: 'u000002', data: { text: 'welcome' } };
  const results = await Promise.all(Array.from({ length: 20 }, () => call(env.url, 'POST', '/v1/notifications', { auth, body })));
  const created = results.filter((r) => r.status === 202);
  const repeated = results.filter((r) => r.status === 200);
  assert.equal(created.length, 1, results.map((r) => r.status).join(','));
  assert.equal(repeated.length, 19);
  assert.equal(new Set(results.map((r) => r.body.id)).size, 1, 'every answer names the first notification');
  for (const r of repeated) assert.equal(r.body.deduplicated, true);
  assert.equal(env.count('notifications'), 1);
  assert.equal(env.count('deliveries'), 2, 'one sms and one email');

  const again = await call(env.url, 'POST', '/v1/notifications', { auth, body: { ...body, user_id: 'u000003' } });
  assert.equal(again.status, 200);
  assert.equal(again.body.id, created[0]!.body.id);
  assert.equal(env.count('deliveries'), 2);
});

test('every invalid body gets 400 naming the field and the reason, and nothing is written', async (t) => {
  const env = await startApi(t);
  const { auth } = await env.app();
  const ok = { event_id: 'e1', template: 'note', user_id: 'u000001', data: { text: 'hi' } };
  const cases: [string, unknown, string | undefined, RegExp][] = [
    ['no event id', { template: 'note', user_id: 'u000001' }, 'event_id', /is required/],
    ['no template', { event_id: 'e1', user_id: 'u000001' }, 'template', /is required/],
    ['no audience', { event_id: 'e1', template: 'note' }, 'user_id', /one of user_id, user_ids or segment/],
    ['two audiences', { ...ok, segment: 'all' }, 'segment', /only one of/],
    ['user_ids not a list', { ...ok, user_id: undefined, user_ids: 'u1' }, 'user_ids', /must be array/],
    ['a user id that is a number', { ...ok, user_id: undefined, user_ids: ['u000001', 7] }, 'user_ids[1]', /must be string/],
    ['an empty user list', { ...ok, user_id: undefined, user_ids: [] }, 'user_ids', /fewer than 1/],
    ['an unknown channel', { ...ok, channels: ['fax'] }, 'channels[0]', /must be one of: push, sms, email/],
    ['a repeated channel', { ...ok, channels: ['sms', 'sms'] }, 'channels', /must not repeat/],
    ['a channel the template lacks', { ...ok, channels: ['push'] }, 'channels', /has no push part/],
    ['an unknown priority', { ...ok, priority: 'urgent' }, 'priority', /must be one of: high, normal, low/],
    ['send_at not a time', { ...ok, send_at: 'tomorrow' }, 'send_at', /ISO 8601/],
    ['data not an object', { ...ok, data: [1, 2] }, 'data', /must be object/],
    ['an empty event id', { ...ok, event_id: '' }, 'event_id', /fewer than 1/],
    ['an unknown field', { ...ok, colour: 'red' }, 'colour', /not a known field/],
    ['a body that is not an object', [ok], undefined, /must be object/],
  ];
  for (const [what, body, field, reason] of cases) {
    const r = await call(env.url, 'POST', '/v1/notifications', { auth, body });
    assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, 'invalid', what);
    assert.equal(r.body.error.field, field, what);
    assert.match(r.body.error.message, reason, what);
    assert.equal(r.body.error.message.includes('\n'), false, `${what}: one line`);
  }
  const bad = await call(env.url, 'POST', '/v1/notifications', { auth, raw: '{"event_id": "e1",' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'invalid_json');
  const text = await call(env.url, 'POST', '/v1/notifications', { auth, raw: 'event_id=e1', contentType: 'text/plain' });
  assert.equal(text.status, 415);
  assert.equal(text.body.error.code, 'unsupported_media_type');
  assert.equal(env.count('notifications'), 0);
  assert.equal(env.count('deliveries'), 0);
});

test('a template, user or segment named in the body that does not exist is 422 naming the field', async (t) => {
  const env = await startApi(t);
  const { auth } = await env.app();
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ template: 'nope', user_id: 'u000001' }, 'template', /no template "nope"/],
    [{ template: 'note', user_id: 'ghost' }, 'user_id', /no user "ghost"/],
    [{ template: 'note', user_ids: ['u000001', 'ghost', 'phantom'] }, 'user_ids', /no user "ghost" \(and 1 more unknown\)/],
    [{ template: 'note', segment: 'nobody' }, 'segment', /no segment "nobody"/],
  ];
  for (const [body, field, message] of cases) {
    const r = await call(env.url, 'POST', '/v1/notifications', { auth, body: { event_id: `e-${field}`, ...body } });
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'unknown_reference');
    assert.equal(r.body.error.field, field);
    assert.match(r.body.error.message, message);
  }
  assert.equal(env.count('notifications'), 0);
});

test('a send without the data its template reads is 400 naming data, and nothing is written', async (t) => {
  const env = await startApi(t);
  const { auth } = await env.app();
  const r = await call(env.url, 'POST', '/v1/notifications', { auth, body: { event_id: 'no-data', template: 'note', user_id: 'u000001', data: { other: 1 } } });
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.equal(r.body.error.field, 'data');
  assert.match(r.body.error.message, /template "note" reads data\.text/);
  assert.equal(env.count('notifications'), 0);
});

test('a body over server.bodyLimit gets 413 and nothing is written', async (t) => {
  const env = await startApi(t, { config: { 'server.bodyLimit': 2048 } });
  const { auth } = await env.app();
  const r = await call(env.url, 'POST', '/v1/notifications', {
    auth, body: { event_id: 'big', template: 'note', user_id: 'u000001', data: { text: 'x'.repeat(4096) } },
  });
  assert.equal(r.status, 413);
  assert.equal(r.body.error.code, 'too_large');
  assert.match(r.body.error.message, /larger than 2048 bytes/);
  assert.equal(env.count('notifications'), 0);
  const small = await call(env.url, 'POST', '/v1/notifications', { auth, body: { event_id: 'small', template: 'note', user_id: 'u000001', data: { text: 'x' } } });
  assert.equal(small.status, 202, 'a body under the limit still works');
});

test('unknown routes and unknown notifications get 404 in the error shape', async (t) => {
  const env = await startApi(t);
  const { auth } = await env.app();
  for (const [method, path] of [['GET', '/nope'], ['GET', '/v1/nope'], ['DELETE', '/v1/notifications'], ['POST', '/v2/notifications']] as const) {
    const r = await call(env.url, method, path, { auth });
    assert.equal(r.status, 404, `${method} ${path}`);
    assert.equal(r.body.error.code, 'not_found');
    assert.match(r.body.error.message, /^no route/);
  }
  const missing = await call(env.url, 'GET', '/v1/notifications/n_missing', { auth });
  assert.equal(missing.status, 404);
  assert.match(missing.body.error.message, /no notification "n_missing"/);
});

test('a send_at in the future makes a scheduled notification with no deliveries yet', async (t) => {
  const env = await startApi(t);
  const { auth } = await env.app();
  const at = new Date(Date.now() + 3_600_000).toISOString();
  const r = await call(env.url, 'POST', '/v1/notifications', { auth, body: { event_id: 'later', template: 'note', user_ids: ['u000001', 'u000002'], send_at: at, data: { text: 'later' } } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.equal(r.body.status, 'scheduled');
  assert.equal(r.body.send_at, at);
  assert.equal(env.count('deliveries'), 0);
  const got = await call(env.url, 'GET', `/v1/notifications/${r.body.id}`, { auth });
  assert.equal(got.body.send_at, at);
  assert.deepEqual(got.body.deliveries, []);
});
