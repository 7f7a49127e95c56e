import { test } from 'node:test';
import assert from 'node:assert/strict';
import { call, startApi } from './harness.js';

async function sent(env: Awaited<ReturnType<typeof startApi>>, auth: string) {
  const r = await call(env.url, 'POST', '/v1/notifications', { auth, body: { event_id: 'welcome-1', template: 'note', user_id: 'u000001', channels: ['email'], data: { text: 'hi' } } });
  assert.equal(r.status, 202);
  const delivery = env.store.db.prepare('SELECT id FROM deliveries WHERE notification_id = ?').pluck().get(r.body.id) as number;
  return { id: r.body.id as string, delivery };
}

test('engagement an app reports is recorded with the app, the delivery\'s user and the time', async (t) => {
  const env = await startApi(t);
  const { app, auth } = await env.app({ scopes: ['send', 'events'] });
  const n = await sent(env, auth);
  const at = new Date(Date.now() - 60_000).toISOString();
  const r = await call(env.url, 'POST', '/v1/events', { auth, body: { notification_id: n.id, type: 'opened', at, delivery_id: n.delivery } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.type, 'opened');
  assert.equal(r.body.at, at);
  const clicked = await call(env.url, 'POST', '/v1/events', { auth, body: { notification_id: n.id, type: 'clicked' } });
  assert.equal(clicked.status, 201);
  const rows = await env.store.apps.engagement(n.id);
  assert.deepEqual(rows.map((e) => [e.type, e.deliveryId, e.userId, e.appId, e.source]), [
    ['opened', n.delivery, 'u000001', app.id, 'api'],
    ['clicked', null, null, app.id, 'api'],
  ]);
  assert.equal(rows[0]!.at, Date.parse(at));
  const got = await call(env.url, 'GET', `/v1/notifications/${n.id}`, { auth });
  assert.deepEqual(got.body.engagement.map((e: { type: string }) => e.type), ['opened', 'clicked']);
});

test('bad engagement reports get 400 or 422 naming the field, and nothing is written', async (t) => {
  const env = await startApi(t);
  const { auth } = await env.app({ scopes: ['send', 'events'] });
  const n = await sent(env, auth);
  const cases: [unknown, number, string, RegExp][] = [
    [{ notification_id: n.id, type: 'liked' }, 400, 'type', /must be one of: opened, clicked, dismissed/],
    [{ type: 'opened' }, 400, 'notification_id', /is required/],
    [{ notification_id: n.id, type: 'opened', at: 'yesterday' }, 400, 'at', /ISO 8601/],
    [{ notification_id: n.id, type: 'opened', at: new Date(Date.now() + 86_400_000).toISOString() }, 400, 'at', /in the future/],
    [{ notification_id: n.id, type: 'opened', delivery_id: n.delivery + 1000 }, 400, 'delivery_id', /is not part of notification/],
    [{ notification_id: n.id, type: 'opened', delivery_id: n.delivery, user_id: 'u000002' }, 400, 'user_id', /another user/],
    [{ notification_id: 'n_nope', type: 'opened' }, 422, 'notification_id', /no notification "n_nope"/],
  ];
  for (const [body, status, field, reason] of cases) {
    const r = await call(env.url, 'POST', '/v1/events', { auth, body });
    assert.equal(r.status, status, JSON.stringify(body));
    assert.equal(r.body.error.field, field);
    assert.match(r.body.error.message, reason);
  }
  assert.equal(env.count('engagement_events'), 0);
});
