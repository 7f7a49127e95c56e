import { test } from 'node:test';
import assert from 'node:assert/strict';
import { call, startApi, until } from './harness.js';

/** The value of one sample in Prometheus text, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && line.split(' ')[0] !== name) continue;
    const [series, value] = line.split(' ') as [string, string];
    if (Object.entries(labels).every(([k, v]) => series.includes(`${k}="${v}"`))) return Number(value);
  }
  return 0;
}

test('/healthz, /healthz/ready and /metrics answer without an app key', async (t) => {
  const env = await startApi(t);
  const live = await call(env.url, 'GET', '/healthz');
  assert.equal(live.status, 200);
  assert.deepEqual(live.body, { status: 'ok', database: 'ok' });
  const ready = await call(env.url, 'GET', '/healthz/ready');
  assert.equal(ready.status, 200);
  assert.equal(ready.body.status, 'ready');
  const metrics = await call(env.url, 'GET', '/metrics');
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  assert.match(metrics.body, /# TYPE notify_deliveries_total counter/);
  assert.match(metrics.body, /notify_queue_depth\{provider="email",state="due"\} 0/);
});

test('/metrics values move after sends: deliveries, latency, retries, dead letters, queue depth and API requests', async (t) => {
  const env = await startApi(t, {
    config: {
      'channels.email.logFail': [{ address: 'u000002@', kind: 'permanent', code: 'BOUNCED' }],
      'channels.sms.logFail': [{ attempts: 1, kind: 'retryable', code: 'BUSY' }],
      'retry.baseMs': 20,
    },
  });
  const { auth } = await env.app();
  const before = (await call(env.url, 'GET', '/metrics')).body as string;
  assert.equal(sample(before, 'notify_deliveries_total', { channel: 'email', outcome: 'sent' }), 0);

  const r = await call(env.url, 'POST', '/v1/notifications', { auth, body: { event_id: 'm1', template: 'note', user_ids: ['u000001', 'u000002', 'u000003'], data: { text: 'hi' } } });
  assert.equal(r.status, 202);
  // 3 sms (each fails once, then succeeds) + 2 emails sent + 1 email dead.
  await until(() => env.delivered.length === 5, 'five deliveries sent');
  const after = (await call(env.url, 'GET', '/metrics')).body as string;
  assert.equal(sample(after, 'notify_deliveries_total', { channel: 'email', provider: 'email', outcome: 'sent' }), 2);
  assert.equal(sample(after, 'notify_deliveries_total', { channel: 'email', provider: 'email', outcome: 'dead' }), 1);
  assert.equal(sample(after, 'notify_deliveries_total', { channel: 'sms', provider: 'sms', outcome: 'sent' }), 3);
  assert.equal(sample(after, 'notify_delivery_retries_total', { channel: 'sms', provider: 'sms' }), 3);
  assert.equal(sample(after, 'notify_dead_letters_total', { channel: 'email', provider: 'email' }), 1);
  assert.equal(sample(after, 'notify_send_latency_seconds_count', { channel: 'email', provider: 'email' }), 2);
  assert.equal(sample(after, 'notify_send_latency_seconds_count', { channel: 'sms', provider: 'sms' }), 3);
  assert.equal(sample(after, 'notify_api_requests_total', { method: 'POST', route: '/v1/notifications', status: '202' }), 1);
  assert.ok(sample(after, 'notify_api_requests_total', { method: 'GET', route: '/metrics', status: '200' }) >= 1);

  await call(env.url, 'GET', '/v1/notifications/n_missing', { auth });
  const last = (await call(env.url, 'GET', '/metrics')).body as string;
  assert.equal(sample(last, 'notify_api_requests_total', { method: 'GET', route: '/v1/notifications/:id', status: '404' }), 1);
});

test('queue depth per lane shows deliveries waiting in the database', async (t) => {
  const env = await startApi(t, { users: 50, config: { 'channels.email.rateLimit': 1 } });
  const { auth } = await env.app();
  const r = await call(env.url, 'POST', '/v1/notifications', { auth, body: { event_id: 'd1', template: 'note', segment: 'all', channels: ['email'], data: { text: 'hi' } } });
  assert.equal(r.status, 202);
  const text = (await call(env.url, 'GET', '/metrics')).body as string;
  const waiting = sample(text, 'notify_queue_depth', { provider: 'email', state: 'due' }) + sample(text, 'notify_queue_depth', { provider: 'email', state: 'in_lane' })
    + sample(text, 'notify_queue_depth', { provider: 'email', state: 'in_flight' });
  assert.ok(waiting >= 45, `${waiting} of 50 deliveries shown waiting at 1/s`);
});
