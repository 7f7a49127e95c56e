import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { ManualClock } from '../../src/core/time.js';
import { validateTemplate } from '../../src/core/template.js';
import { Scheduler } from '../../src/daemon/scheduler.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { Renderer } from '../../src/daemon/render.js';
import { silentLogger } from '../../src/daemon/logger.js';
import { openStore, type Store } from '../../src/store/index.js';
import { submit } from '../../src/submit.js';
import { initHome, json, notify } from '../helpers.js';
import { configure, loggedIds, openHomeStore, startDaemon, waitFor } from './harness.js';

type T = { after(fn: () => void | Promise<void>): void };
const at = (iso: string) => Date.parse(iso);

async function setup(t: T, config: Record<string, unknown> = {}, start = '2026-12-01T10:00:00Z') {
  const home = await initHome(t, ['--marketing-opt-in']);
  configure(home, config);
  const clock = new ManualClock(at(start));
  const store = await openStore(join(home, 'notify.db'), clock);
  t.after(() => store.close());
  const cfg: Config = loadConfig(home);
  await store.users.upsertMany([
    { id: 'seoul', email: 'seoul@example.com', timezone: 'Asia/Seoul' },
    { id: 'nyc', email: 'nyc@example.com', timezone: 'America/New_York' },
    { id: 'nowhere', email: 'nowhere@example.com' },
  ]);
  await store.templates.create('digest', validateTemplate({ category: 'marketing', email: { subject: 'Digest', text: 'Hi' } }, cfg));
  await store.templates.create('alert', validateTemplate({ category: 'security', email: { subject: 'Alert', text: 'Hi' } }, cfg));
  const scheduler = (owner: string, s: Store = store) => new Scheduler({ store: s, config: cfg, clock, logger: silentLogger, owner });
  return { home, clock, store, config: cfg, scheduler };
}

function dueTimes(store: Store): Record<string, { status: string; nextAt: string }> {
  const rows = store.db.prepare('SELECT user_id, status, next_at FROM deliveries ORDER BY user_id').all() as { user_id: string; status: string; next_at: number }[];
  return Object.fromEntries(rows.map((r) => [r.user_id, { status: r.status, nextAt: new Date(r.next_at).toISOString() }]));
}

test('--at stores a scheduled campaign the scheduler fans out when its time comes', async (t) => {
  const { clock, store, config, scheduler } = await setup(t);
  const r = await submit({ template: 'alert', segment: 'all', sendAt: at('2026-12-01T12:00:00Z'), source: 'cli' }, store, config, clock);
  assert.equal(r.notification.status, 'scheduled');
  const s = scheduler('daemon-a');
  assert.deepEqual((await s.tick()).started, []);
  assert.equal(store.db.prepare('SELECT count(*) FROM deliveries').pluck().get(), 0);
  clock.set(at('2026-12-01T12:00:01Z'));
  assert.deepEqual((await s.tick()).started, [r.notification.id]);
  assert.equal((await store.notifications.get(r.notification.id))!.status, 'active');
  assert.deepEqual(Object.values(dueTimes(store)).map((d) => d.status), ['queued', 'queued', 'queued']);
  assert.deepEqual((await s.tick()).started, [], 'started once');
});

test('--local-time delivers at that hour in each recipient timezone', async (t) => {
  const { clock, store, config } = await setup(t, { 'defaults.timezone': 'Europe/Berlin' });
  await submit({ template: 'alert', segment: 'all', localTime: '09:00', date: '2026-12-02', source: 'cli' }, store, config, clock);
  assert.deepEqual(dueTimes(store), {
    nowhere: { status: 'scheduled', nextAt: '2026-12-02T08:00:00.000Z' },
    nyc: { status: 'scheduled', nextAt: '2026-12-02T14:00:00.000Z' },
    seoul: { status: 'scheduled', nextAt: '2026-12-02T00:00:00.000Z' },
  });
  assert.deepEqual(await store.outbox.claim('email', 'x', 10, 1000), [], 'nothing is due yet');
  clock.set(at('2026-12-02T00:00:00Z'));
  assert.deepEqual((await store.outbox.claim('email', 'x', 10, 1000)).map((d) => d.userId), ['seoul']);
});

test('quiet hours defer marketing to the end of the window; transactional and personal overrides bypass it', async (t) => {
  // 23:30 UTC: night in UTC (nowhere), 08:30 in Seoul, 18:30 in New York.
  const { clock, store, config } = await setup(t, { quietHours: '22:00-08:00' }, '2026-12-01T23:30:00Z');
  await store.users.upsertMany([{ id: 'owl', email: 'owl@example.com', attributes: { quiet_hours: 'off' } }]);
  await submit({ template: 'digest', segment: 'all', source: 'cli' }, store, config, clock);
  const due = dueTimes(store);
  assert.deepEqual(due.nowhere, { status: 'scheduled', nextAt: '2026-12-02T08:00:00.000Z' });
  assert.deepEqual(due.seoul, { status: 'queued', nextAt: '2026-12-01T23:30:00.000Z' });
  assert.deepEqual(due.nyc, { status: 'queued', nextAt: '2026-12-01T23:30:00.000Z' });
  assert.deepEqual(due.owl, { status: 'queued', nextAt: '2026-12-01T23:30:00.000Z' }, 'a personal "off" overrides');
  store.db.exec('DELETE FROM deliveries');
  await submit({ template: 'alert', users: ['nowhere'], source: 'cli' }, store, config, clock);
  assert.deepEqual(dueTimes(store).nowhere, { status: 'queued', nextAt: '2026-12-01T23:30:00.000Z' }, 'security mail is not held');
});

test('a marketing delivery that reaches the daemon inside quiet hours waits there for the window to end', async (t) => {
  // Written at 21:00 UTC, outside the window, so due at once; the daemon only gets to them at 23:30.
  const { home, clock, store, config } = await setup(t, { quietHours: '22:00-08:00' }, '2026-12-01T21:00:00Z');
  const digest = await submit({ template: 'digest', users: ['nowhere'], source: 'cli' }, store, config, clock);
  const alert = await submit({ template: 'alert', users: ['nowhere'], source: 'cli' }, store, config, clock);
  clock.set(at('2026-12-01T23:30:00Z'));
  const daemon = new Daemon({ home, config, store, clock, logger: silentLogger, renderer: new Renderer(store, config) });
  const delivered: number[] = [];
  daemon.on('delivered', (e: { id: number }) => delivered.push(e.id));
  await daemon.start();
  t.after(() => daemon.stop());
  const row = (n: { notification: { id: string } }) => store.db.prepare('SELECT id, status, next_at, attempts FROM deliveries WHERE notification_id = ?')
    .get(n.notification.id) as { id: number; status: string; next_at: number; attempts: number };
  await waitFor(() => row(digest).status === 'scheduled' && row(alert).status === 'sent', 'the digest held, the alert sent');
  assert.equal(new Date(row(digest).next_at).toISOString(), '2026-12-02T08:00:00.000Z');
  assert.equal(row(digest).attempts, 0, 'holding is not an attempt');
  const events = store.db.prepare('SELECT status, detail FROM delivery_events WHERE delivery_id = ? ORDER BY id').all(row(digest).id);
  assert.deepEqual(events.at(-1), { status: 'deferred', detail: 'quiet hours until 2026-12-02T08:00:00.000Z' }, 'the log says why it waits');
  assert.deepEqual(delivered, [row(alert).id]);
  clock.set(at('2026-12-02T08:00:01Z'));
  daemon.wake();
  await waitFor(() => row(digest).status === 'sent', 'the digest sent once the window ended');
  assert.equal(row(digest).attempts, 1);
});

test('schedule list, show, run-now and remove; each run carries the event id schedule:<name>:<time>', async (t) => {
  const { home, clock, store, scheduler } = await setup(t, {}, '2026-12-01T22:00:00Z');
  const cli = async (argv: string[], code = 0) => {
    const r = await notify(home, argv, { clock });
    assert.equal(r.code, code, `${argv.join(' ')}: ${r.stderr}`);
    return r;
  };
  await cli(['schedule', 'add', 'morning', '--cron', '0 8 * * *', '--tz', 'Asia/Seoul', '--template', 'alert', '--segment', 'all']);
  assert.deepEqual(json(await cli(['schedule', 'list', '--json'])).map((s: { name: string; nextRunAt: string }) => [s.name, s.nextRunAt]), [['morning', '2026-12-01T23:00:00.000Z']]);
  clock.set(at('2026-12-01T23:00:05Z'));
  assert.deepEqual((await scheduler('a').tick()).ran, ['morning@2026-12-01T23:00:00.000Z']);
  clock.set(at('2026-12-02T01:30:00Z'));
  const now = json(await cli(['schedule', 'run-now', 'morning', '--json']));
  const eventIds = store.db.prepare("SELECT event_id FROM notifications WHERE source = 'schedule' ORDER BY created_at").pluck().all();
  assert.deepEqual(eventIds, ['schedule:morning:2026-12-01T23:00:00.000Z', 'schedule:morning:manual:2026-12-02T01:30:00.000Z']);
  const shown = json(await cli(['schedule', 'show', 'morning', '--json']));
  assert.equal(shown.nextRunAt, '2026-12-02T23:00:00.000Z', 'run-now leaves the next occurrence as it was');
  assert.deepEqual(shown.runs.map((r: { status: string }) => r.status), ['ran']);
  const campaigns = json(await cli(['campaigns', 'list', '--json'])).map((c: { id: string; template: string }) => c.template);
  assert.deepEqual(campaigns, ['alert', 'alert'], 'both runs are campaigns to the segment');
  assert.ok(json(await cli(['campaigns', 'list', '--json'])).some((c: { id: string }) => c.id === now.id));
  await cli(['schedule', 'remove', 'morning'], 2);
  await cli(['schedule', 'remove', 'morning', '--yes']);
  assert.deepEqual(json(await cli(['schedule', 'list', '--json'])), []);
  await cli(['schedule', 'show', 'morning'], 1);
});

test('a cron schedule runs each occurrence once, across restarts and two schedulers', async (t) => {
  const { home, clock, store, scheduler } = await setup(t, {}, '2026-12-01T22:00:00Z');
  const add = await notify(home, ['schedule', 'add', 'morning', '--cron', '0 8 * * *', '--tz', 'Asia/Seoul', '--template', 'alert', '--segment', 'all', '--json'], { clock });
  assert.equal(add.code, 0, add.stderr);
  assert.equal(json(add).nextRunAt, '2026-12-01T23:00:00.000Z');
  const a = scheduler('a');
  const other = await openStore(join(home, 'notify.db'), clock);
  t.after(() => other.close());
  const b = scheduler('b', other);
  assert.deepEqual((await a.tick()).ran, []);
  clock.set(at('2026-12-01T23:00:05Z'));
  const [ra, rb] = await Promise.all([a.tick(), b.tick()]);
  assert.equal(ra.ran.length + rb.ran.length, 1, 'two schedulers, one run');
  assert.deepEqual((await scheduler('restarted').tick()).ran, [], 'a restart does not run it again');
  clock.set(at('2026-12-02T23:00:01Z'));
  assert.deepEqual((await a.tick()).ran, ['morning@2026-12-02T23:00:00.000Z']);
  const runs = await store.schedules.runs('morning');
  assert.deepEqual(runs.map((r) => [new Date(r.occurrence).toISOString(), r.status]), [['2026-12-02T23:00:00.000Z', 'ran'], ['2026-12-01T23:00:00.000Z', 'ran']]);
  assert.equal(store.db.prepare("SELECT count(*) FROM notifications WHERE source = 'schedule'").pluck().get(), 2);
  assert.equal((await store.schedules.get('morning'))!.nextRunAt, at('2026-12-03T23:00:00Z'));
});

test('missed occurrences are skipped by default, or run once late with catch-up once', async (t) => {
  const { home, clock, store, scheduler } = await setup(t, {}, '2026-12-01T00:00:00Z');
  for (const [name, policy] of [['skipper', 'skip'], ['catcher', 'once']]) {
    const r = await notify(home, ['schedule', 'add', name!, '--cron', '0 8 * * *', '--tz', 'UTC', '--template', 'alert', '--segment', 'all', '--catch-up', policy!], { clock });
    assert.equal(r.code, 0, r.stderr);
  }
  // No daemon ran for three days.
  clock.set(at('2026-12-04T12:00:00Z'));
  const result = await scheduler('late').tick();
  assert.deepEqual(result.ran, ['catcher@2026-12-04T08:00:00.000Z']);
  assert.equal(result.skipped.length, 7, 'four missed mornings for one, three for the other');
  const skipper = await store.schedules.runs('skipper');
  assert.deepEqual(skipper.map((r) => r.status), ['skipped', 'skipped', 'skipped', 'skipped'], 'four missed mornings skipped, none run');
  const catcher = await store.schedules.runs('catcher');
  assert.deepEqual(catcher.map((r) => r.status), ['ran', 'skipped', 'skipped', 'skipped'], 'the latest missed morning runs once, late');
  assert.equal((await store.schedules.get('skipper'))!.nextRunAt, at('2026-12-05T08:00:00Z'));
  assert.equal((await store.schedules.get('catcher'))!.nextRunAt, at('2026-12-05T08:00:00Z'));
});

test('pause holds a campaign mid-drain, resume continues where it stopped, cancel ends it', async (t) => {
  const { home, clock, store, config } = await setup(t);
  await store.users.upsertMany(Array.from({ length: 97 }, (_, i) => ({ id: `bulk${i}`, email: `bulk${i}@example.com` })));
  const r = await submit({ template: 'alert', segment: 'all', source: 'cli' }, store, config, clock);
  const id = r.notification.id;
  const first = await store.outbox.claim('email', 'x', 40, 60_000);
  await store.outbox.record(first.map((d) => ({ type: 'sent' as const, id: d.id, providerId: 'p', at: clock.now() })));
  assert.equal((await notify(home, ['campaigns', 'pause', id], { clock })).code, 0);
  assert.deepEqual(await store.outbox.claim('email', 'x', 100, 60_000), [], 'a paused campaign sends nothing more');
  const shown = json(await notify(home, ['campaigns', 'show', id, '--json'], { clock }));
  assert.equal(shown.status, 'paused');
  assert.deepEqual(shown.counts.deliveries.email, { sent: 40, paused: 60 });
  assert.equal((await notify(home, ['campaigns', 'resume', id], { clock })).code, 0);
  const next = await store.outbox.claim('email', 'x', 30, 60_000);
  assert.equal(next.length, 30, 'resume continues');
  assert.equal((await notify(home, ['campaigns', 'cancel', id], { clock })).code, 2, 'cancel asks for --yes off a terminal');
  assert.equal((await notify(home, ['campaigns', 'cancel', id, '--yes'], { clock })).code, 0);
  assert.deepEqual(await store.outbox.claim('email', 'x', 100, 60_000), []);
  const counts = json(await notify(home, ['campaigns', 'show', id, '--json'], { clock })).counts.deliveries.email;
  assert.deepEqual(counts, { sent: 40, sending: 30, canceled: 30 });
  const again = await notify(home, ['campaigns', 'resume', id], { clock });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /is canceled: it cannot be resumed/);
});

test('a seconds-level cron schedule runs on a real daemon, once per occurrence across two daemons', async (t) => {
  const home = await initHome(t);
  configure(home, { 'scheduler.tickMs': 200, 'daemon.pollMs': 50 });
  const other = await initHome(t);
  configure(other, { database: join(home, 'notify.db'), 'scheduler.tickMs': 200, 'daemon.pollMs': 50 });
  assert.equal((await notify(home, ['users', 'add', 'u1', '--email', 'u1@example.com'])).code, 0);
  const store = await openHomeStore(t, home);
  await store.templates.create('ping', validateTemplate({ category: 'transactional', email: { subject: 'ping', text: 'ping' } }, loadConfig(home)));
  const add = await notify(home, ['schedule', 'add', 'ping', '--cron', '* * * * * *', '--template', 'ping', '--segment', 'all']);
  assert.equal(add.code, 0, add.stderr);
  const a = await startDaemon(t, home);
  const b = await startDaemon(t, other);
  await waitFor(() => (store.db.prepare("SELECT count(*) FROM schedule_runs WHERE status = 'ran'").pluck().get() as number) >= 3, 'three occurrences');
  assert.equal((await notify(home, ['schedule', 'pause', 'ping'])).code, 0);
  await waitFor(() => store.db.prepare("SELECT count(*) FROM deliveries WHERE status != 'sent'").pluck().get() === 0, 'deliveries sent');
  a.child.kill('SIGTERM');
  b.child.kill('SIGTERM');
  assert.equal(await a.exited, 0);
  assert.equal(await b.exited, 0);
  const runs = store.db.prepare("SELECT count(*) FROM schedule_runs WHERE status = 'ran'").pluck().get() as number;
  const notifications = store.db.prepare("SELECT count(*) FROM notifications WHERE source = 'schedule'").pluck().get() as number;
  assert.equal(notifications, runs, 'one notification per occurrence');
  const delivered = [...loggedIds(home, 'email'), ...loggedIds(other, 'email')];
  assert.equal(delivered.length, runs, 'one email per occurrence, whichever daemon sent it');
});
