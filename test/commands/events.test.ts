import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { loadConfig } from '../../src/config.js';
import { AnalyticsForwarder } from '../../src/daemon/analytics.js';
import { silentLogger } from '../../src/daemon/logger.js';
import { json, notify } from '../helpers.js';
import { openHomeStore, seededHome } from '../daemon/harness.js';

async function homeWithEvents(t: { after(fn: () => void): void }) {
  const home = await seededHome(t, 3);
  const sent = json(await notify(home, ['send', '--template', 'note', '--segment', 'all', '--channel', 'email', '--data', 'text=x', '--json']));
  const store = await openHomeStore(t, home);
  const ids = store.db.prepare('SELECT id FROM deliveries ORDER BY id').pluck().all() as number[];
  const claimed = await store.outbox.claim('email', 'x', 10, 60_000);
  await store.outbox.record(claimed.map((d) => ({ type: 'sent' as const, id: d.id, providerId: `p${d.id}`, at: Date.now() })));
  const d = (await store.tracking.delivery(ids[0]!))!;
  await store.tracking.record(d, { type: 'opened', at: Date.now(), source: 'pixel', detail: 'Safari, "quoted"' });
  await store.tracking.record(d, { type: 'clicked', at: Date.now(), source: 'link', detail: 'https://example.com/a' });
  return { home, store, notificationId: sent.id as string };
}

test('events export writes engagement and delivery events as JSONL or CSV', async (t) => {
  const { home, notificationId } = await homeWithEvents(t);
  const r = await notify(home, ['events', 'export', '--since', '1h']);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(rows.map((e) => `${e.stream}:${e.type}`), ['engagement:opened', 'engagement:clicked', 'delivery:sent', 'delivery:sent', 'delivery:sent']);
  assert.ok(rows.every((e) => e.notification_id === notificationId && e.template === 'note' && e.channel === 'email'));
  const csv = await notify(home, ['events', 'export', '--format', 'csv', '--stream', 'engagement']);
  const lines = csv.stdout.trim().split('\n');
  assert.equal(lines[0], 'stream,id,type,at,notification_id,delivery_id,user_id,channel,category,template,machine,source,detail');
  assert.equal(lines.length, 3);
  assert.match(lines[1]!, /,"Safari, ""quoted"""$/);
  assert.equal((await notify(home, ['events', 'export', '--format', 'xml'])).code, 2);
  assert.equal((await notify(home, ['events', 'export', '--since', 'yesterday-ish'])).code, 2);
});

test('analytics forwarding posts signed batches and resumes after a failing endpoint', async (t) => {
  const { home, store } = await homeWithEvents(t);
  const bodies: { body: string; signature: string }[] = [];
  let failNext = true;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (failNext) {
        failNext = false;
        res.writeHead(503).end();
        return;
      }
      bodies.push({ body, signature: String(req.headers['x-notify-signature']) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const config = loadConfig(home);
  config.analytics.webhookUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/ingest`;
  config.analytics.secret = 'shh';
  config.analytics.intervalMs = 60_000;
  // A fresh endpoint starts from "now": the events recorded so far are not replayed.
  const forwarder = new AnalyticsForwarder(config, store, silentLogger);
  await forwarder.start();
  t.after(() => forwarder.stop());
  const d = (await store.tracking.delivery(store.db.prepare('SELECT min(id) FROM deliveries').pluck().get() as number))!;
  await store.tracking.record(d, { type: 'clicked', at: Date.now(), source: 'link', detail: 'https://example.com/b' });
  await forwarder.forward();
  assert.equal(bodies.length, 0, 'the endpoint failed');
  (forwarder as unknown as { nextTry: number }).nextTry = 0;
  await forwarder.forward();
  assert.equal(bodies.length, 1);
  const payload = JSON.parse(bodies[0]!.body);
  assert.deepEqual(payload.events.map((e: { type: string; detail: string }) => [e.type, e.detail]), [['clicked', 'https://example.com/b']]);
  assert.equal(bodies[0]!.signature, 'sha256=' + createHmac('sha256', 'shh').update(bodies[0]!.body).digest('hex'));
  await forwarder.forward();
  assert.equal(bodies.length, 1, 'nothing new, nothing sent');
});

test('stats on a terminal shows rates, latency and sparklines of sends and opens', async (t) => {
  const { home, notificationId } = await homeWithEvents(t);
  const r = await notify(home, ['stats', '--campaign', notificationId, '--by', 'hour'], { tty: true });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^sent\s+3 {2}delivered 3 \(100\.0%\)/m);
  assert.match(r.stdout, /^opened\s+1 unique \(33\.3%\) {2}1 total {2}0 machine/m);
  assert.match(r.stdout, /^clicked\s+1 unique \(33\.3%\)/m);
  assert.match(r.stdout, /^sends {2}[▁▂▃▄▅▆▇█]+$/m);
  assert.match(r.stdout, /^opens {2}[▁▂▃▄▅▆▇█]+$/m);
  assert.match(r.stderr, /note: apns, fcm, webpush, sms, email use the log provider/);
  const piped = await notify(home, ['stats', '--campaign', notificationId]);
  assert.match(piped.stdout, /^opened\t1 unique/m);
  assert.equal((await notify(home, ['stats', '--by', 'week'])).code, 2);
  assert.equal((await notify(home, ['stats', '--campaign', 'n_nope'])).code, 1);
  const rolled = await notify(home, ['stats', '--since', '2026-02-30']);
  assert.deepEqual([rolled.code, rolled.stderr], [2, 'error: --since "2026-02-30" is neither a duration (7d, 12h) nor a date (2026-11-01)\n'], 'a day not on the calendar');
  const backwards = await notify(home, ['stats', '--since', '2026-11-02', '--until', '2026-11-01']);
  assert.deepEqual([backwards.code, backwards.stderr], [2, 'error: --until (2026-11-01) must be after --since (2026-11-02)\n']);
});
