import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loggedIds } from '../daemon/harness.js';
import { call, startApi, until } from './harness.js';

const BULK = 20_000;
const BURST = 50;

test('a burst of API sends during a bulk campaign is delivered ahead of it', async (t) => {
  // The email lane sends 2,000/s, so the campaign takes about ten seconds to drain.
  const env = await startApi(t, {
    users: BULK,
    config: { 'defaults.marketingOptIn': true, 'channels.email.rateLimit': 2000, 'channels.email.concurrency': 50 },
  });
  const { auth } = await env.app();
  const bulk = await call(env.url, 'POST', '/v1/notifications', { auth, body: { event_id: 'spring-sale', template: 'bulk', segment: 'all' } });
  assert.equal(bulk.status, 202, JSON.stringify(bulk.body));
  assert.equal(env.count('deliveries'), BULK);
  await until(() => env.delivered.length >= 500, 'the campaign under way');

  const burst = await Promise.all(Array.from({ length: BURST }, (_, i) => call(env.url, 'POST', '/v1/notifications', {
    auth, body: { event_id: `receipt-${i}`, template: 'note', user_id: `u${String(i * 397).padStart(6, '0')}`, channels: ['email'], data: { text: 'receipt' } },
  })));
  for (const r of burst) assert.equal(r.status, 202, JSON.stringify(r.body));
  const burstIds = new Set(burst.map((r) => r.body.id as string));
  const deliveryIds = new Set(env.store.db.prepare(`SELECT id FROM deliveries WHERE notification_id IN (SELECT value FROM json_each(?))`)
    .pluck().all(JSON.stringify([...burstIds])) as number[]);
  assert.equal(deliveryIds.size, BURST);

  await until(() => [...deliveryIds].every((id) => env.delivered.some((d) => d.id === id)), 'every burst delivery sent');
  const bulkSentByThen = env.delivered.filter((d) => !deliveryIds.has(d.id)).length;
  assert.ok(bulkSentByThen < BULK / 2, `the burst finished after ${bulkSentByThen} of ${BULK} campaign sends; most of the campaign should still be pending`);

  // The provider saw them in that order too.
  const logged = loggedIds(env.home, 'email');
  const lastBurst = Math.max(...[...deliveryIds].map((id) => logged.indexOf(id)));
  assert.ok(lastBurst >= 0 && lastBurst < BULK / 2, `the last burst send was provider call ${lastBurst}`);
});
