/**
 * The daemon's lifecycle as a supervisor and an operator see it: the status socket's mode, `notify send`
 * waking an idle daemon, and the signals (the first drains, those in the next 3 s are ignored, a later
 * one forces an exit). Real daemon processes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { validateTemplate } from '../../src/core/template.js';
import { startApnsEmulator } from '../emulators/apns.js';
import { initHome, notify } from '../helpers.js';
import { configure, openHomeStore, seededHome, startDaemon, statusCounts, waitFor } from './harness.js';

test('the status socket is private, and `notify send` wakes a daemon that would not poll for ten minutes', async (t) => {
  const home = await seededHome(t, 1, { 'daemon.pollMs': 600_000 });
  const daemon = await startDaemon(t, home);
  assert.equal(statSync(join(home, 'daemon.sock')).mode & 0o777, 0o600);
  const store = await openHomeStore(t, home);
  // The daemon's first pass has found nothing; the next poll is ten minutes away.
  await new Promise((r) => setTimeout(r, 300));
  const sent = await notify(home, ['send', '--template', 'note', '--user', 'u000000', '--channel', 'sms', '--data', 'text=now']);
  assert.equal(sent.code, 0, sent.stderr);
  await waitFor(() => statusCounts(store).sent === 1, 'the woken daemon to send it', 20_000);
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  assert.match(readFileSync(daemon.logFile, 'utf8'), /channels on the log provider write deliveries to files instead of sending: apns, fcm, webpush, sms, email/);
});

/**
 * A daemon with `users` pushes in flight: each user has an iPhone, and the APNs emulator holds every
 * answer for `delayMs`.
 */
async function sendsInFlight(t: Parameters<typeof initHome>[0], users: number, delayMs: number) {
  const apns = await startApnsEmulator({ delayMs });
  t.after(() => apns.close());
  const home = await initHome(t);
  configure(home, {
    'daemon.pollMs': 50,
    'daemon.leaseMs': 120_000,
    'channels.apns': { provider: 'apns', keyFile: apns.keyPath, keyId: apns.keyId, teamId: apns.teamId, topic: apns.topic, endpoint: apns.url },
  });
  const store = await openHomeStore(t, home);
  const ids = Array.from({ length: users }, (_, i) => `u${i}`);
  await store.users.upsertMany(ids.map((id) => ({ id, name: id })));
  await store.devices.registerMany(ids.map((id) => ({ userId: id, platform: 'ios' as const, token: randomBytes(32).toString('hex') })));
  await store.templates.create('ping', validateTemplate({ category: 'transactional', push: { title: 'Hi', body: 'ping' } }, loadConfig(home)));
  const r = await notify(home, ['send', '--template', 'ping', '--segment', 'all']);
  assert.equal(r.code, 0, r.stderr);
  const daemon = await startDaemon(t, home);
  await waitFor(() => apns.requests === users, `${users} sends in flight`);
  return { apns, store, daemon };
}

test('SIGINT drains like SIGTERM, and a second signal within 3 s is ignored: the sends in flight finish', async (t) => {
  const { apns, store, daemon } = await sendsInFlight(t, 5, 1500);
  daemon.child.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 200));
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  assert.deepEqual(statusCounts(store), { sent: 5 });
  assert.equal(apns.accepted, 5);
});

test('a signal more than 3 s after the first forces an exit; the rows it held are leased, not lost', async (t) => {
  const { store, daemon } = await sendsInFlight(t, 3, 120_000);
  daemon.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 3500));
  assert.equal(daemon.child.exitCode, null, 'still draining: the provider has not answered');
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 1);
  assert.match(readFileSync(daemon.logFile, 'utf8'), /SIGTERM again: forcing exit/);
  // Under lease until it runs out; then any daemon reclaims them (the outbox tests cover reclaiming).
  assert.deepEqual(statusCounts(store), { sending: 3 });
});
