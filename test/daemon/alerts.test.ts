/**
 * Dead letters alert operators: a JSON POST to `alerts.webhookUrl` and an email through the email
 * channel to `alerts.email`, at most one alert per `alerts.intervalMs` (the rest wait, and go out when
 * the daemon stops); a dead address (routine churn) alerts nobody. A real daemon process throughout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { notify } from '../helpers.js';
import { openHomeStore, seededHome, startDaemon, statusCounts, waitFor } from './harness.js';

interface Alert { type: string; summary: string; count: number; deliveries: { deliveryId: number; provider: string; channel: string; userId: string; error: string }[] }

test('dead letters alert by webhook and email, one alert per interval, and a dead address alerts nobody', async (t) => {
  const alerts: Alert[] = [];
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      assert.equal(req.method, 'POST');
      assert.equal(req.headers['content-type'], 'application/json');
      alerts.push(JSON.parse(body) as Alert);
      res.end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => hook.close(() => resolve())));
  const home = await seededHome(t, 4, {
    'alerts.webhookUrl': `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alerts`,
    'alerts.email': ['ops@example.com'],
    'alerts.intervalMs': 60_000,
    // Every SMS is refused for good; one email address bounces.
    'channels.sms.logFail': [{ address: '+1415555', kind: 'permanent', code: 'REJECTED' }],
    'channels.email.logFail': [{ address: 'u000003@', kind: 'invalid-address', code: 'BOUNCED' }],
  });
  const store = await openHomeStore(t, home);
  const first = await notify(home, ['send', '--template', 'note', '--segment', 'all', '--data', 'text=hi', '--json']);
  assert.equal(first.code, 0, first.stderr);
  const daemon = await startDaemon(t, home);
  await waitFor(() => statusCounts(store).dead === 5 && statusCounts(store).sent === 3, 'four SMS and one email dead, three emails sent');
  await waitFor(() => alerts.length === 1, 'the first alert');

  // Another dead letter within the interval waits: two of the daemon's alert ticks (1 s) go by silently.
  const second = await notify(home, ['send', '--template', 'note', '--user', 'u000001', '--channel', 'sms', '--data', 'text=again', '--json']);
  assert.equal(second.code, 0, second.stderr);
  await waitFor(() => statusCounts(store).dead === 6, 'the second SMS dead');
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(alerts.length, 1, 'one alert per interval');

  // Stopping sends what waited.
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  assert.equal(alerts.length, 2);
  const letters = alerts.flatMap((a) => a.deliveries);
  assert.deepEqual(alerts.map((a) => a.type), ['notify.dead_letters', 'notify.dead_letters']);
  assert.equal(alerts.reduce((n, a) => n + a.count, 0), 5);
  assert.deepEqual(letters.map((l) => l.channel), ['sms', 'sms', 'sms', 'sms', 'sms'], 'the bounced address is not among them');
  const deadSms = store.db.prepare("SELECT id FROM deliveries WHERE channel = 'sms' AND status = 'dead' ORDER BY id").pluck().all() as number[];
  assert.deepEqual(letters.map((l) => l.deliveryId).sort((a, b) => a - b), deadSms);
  for (const l of letters) assert.match(l.error, /^permanent: REJECTED: /);
  assert.match(alerts[0]!.summary, /^\d notification deliver(y|ies) failed for good$/);

  // The same alerts by email, through the email channel (here its log provider).
  const mails = readFileSync(join(home, 'log', 'email.jsonl'), 'utf8').split('\n').filter(Boolean)
    .map((l) => JSON.parse(l) as { to: string; content: { subject: string; text: string } })
    .filter((m) => m.to === 'ops@example.com');
  assert.deepEqual(mails.map((m) => m.content.subject), alerts.map((a) => `[notify] ${a.summary}`));
  assert.match(mails[0]!.content.text, /notify log --status dead/);
});
