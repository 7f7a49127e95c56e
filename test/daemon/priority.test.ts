import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { systemClock } from '../../src/core/time.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { Renderer } from '../../src/daemon/render.js';
import { silentLogger } from '../../src/daemon/logger.js';
import { submit } from '../../src/submit.js';
import { json, notify } from '../helpers.js';
import { openHomeStore, seededHome, startDaemon, waitFor } from './harness.js';

test('a high-priority notification overtakes a draining bulk campaign', async (t) => {
  const home = await seededHome(t, 30_000, { 'defaults.marketingOptIn': true, 'limits.marketing.perDay': 10 });
  const store = await openHomeStore(t, home);
  const config = loadConfig(home);
  const bulk = await submit({ template: 'bulk', segment: 'all', source: 'cli' }, store, config, systemClock);
  assert.equal(bulk.notification.counts.deliveries?.email?.queued, 30_000);

  const daemon = new Daemon({ home, config, store, clock: systemClock, logger: silentLogger, renderer: new Renderer(store, config) });
  const order: { id: number; notificationId?: string }[] = [];
  daemon.on('delivered', (e: { id: number }) => order.push(e));
  t.after(() => daemon.stop());
  await daemon.start();
  await waitFor(() => order.length >= 2000, 'the bulk to be draining');

  const urgent = await submit({ template: 'note', users: ['u000042'], channels: ['email'], data: { text: 'now' }, source: 'api' }, store, config, systemClock);
  const urgentId = store.db.prepare('SELECT id FROM deliveries WHERE notification_id = ?').pluck().get(urgent.notification.id) as number;
  daemon.wake();
  await waitFor(() => order.some((e) => e.id === urgentId), 'the urgent delivery');
  const position = order.findIndex((e) => e.id === urgentId);
  const bulkLeft = 30_000 - position;
  assert.ok(bulkLeft > 15_000, `delivered at position ${position}, ahead of ${bulkLeft} bulk deliveries still waiting`);
  await daemon.stop();
  assert.equal(store.db.prepare("SELECT count(*) FROM deliveries WHERE status = 'sending'").pluck().get(), 0);
});

test('daemon status exits 3 when no daemon runs and reports lanes when one does', async (t) => {
  const home = await seededHome(t, 10);
  const none = await notify(home, ['daemon', 'status', '--json']);
  assert.equal(none.code, 3);
  assert.equal(json(none).running, false);
  const d = await startDaemon(t, home);
  const r = await notify(home, ['daemon', 'status', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const status = json(r);
  assert.equal(status.running, true);
  assert.equal(status.pid, d.child.pid);
  assert.deepEqual(status.lanes.map((l: { provider: string; adapter: string }) => `${l.provider}:${l.adapter}`), ['apns:log', 'fcm:log', 'webpush:log', 'sms:log', 'email:log']);
  const top = await notify(home, ['top']);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /LANE\s+PROVIDER\s+QUEUED/);
  const again = await notify(home, ['daemon', 'start']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already running/);
  const stop = await notify(home, ['daemon', 'stop']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.match(stop.stdout, new RegExp(`Stopped daemon \\(pid ${d.child.pid}\\)`));
  assert.equal(await d.exited, 0);
});

test('daemon start --detach runs in the background with a pid file until stopped', async (t) => {
  const home = await seededHome(t, 5);
  const r = await notify(home, ['daemon', 'start', '--detach']);
  assert.equal(r.code, 0, r.stderr);
  const pid = Number(/pid (\d+)/.exec(r.stdout)?.[1]);
  t.after(() => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } });
  const sent = await notify(home, ['send', '--template', 'note', '--segment', 'all', '--channel', 'sms', '--data', 'text=x', '--wait', '--json']);
  assert.equal(sent.code, 0, sent.stderr);
  assert.deepEqual(json(sent).counts.deliveries, { sms: { sent: 5 } });
  assert.equal((await notify(home, ['daemon', 'stop'])).code, 0);
  assert.equal(r.stdout, `Started daemon (pid ${pid}); log: ${join(home, 'daemon.log')}\n`);
  await waitFor(() => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }, 'the daemon to exit');
  const log = readFileSync(join(home, 'daemon.log'), 'utf8');
  assert.match(log, /"msg":"daemon started"/);
  assert.match(log, /"msg":"daemon stopped"/);
  assert.equal(statSync(join(home, 'daemon.log')).mode & 0o777, 0o600);
});
