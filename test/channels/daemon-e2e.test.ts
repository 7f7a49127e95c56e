/**
 * End to end through the real daemon process and the real provider SDKs: a home configured with every
 * channel on its real provider, each pointed at its loopback emulator in this process. What arrives at
 * each emulator is compared with `notify templates preview`, and each class of provider error is followed
 * to its outcome in the database.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import webpush from 'web-push';
import { loadConfig } from '../../src/config.js';
import { validateTemplate } from '../../src/core/template.js';
import { topicFor } from '../../src/channels/webpush.js';
import type { Store } from '../../src/store/index.js';
import { initHome, json, notify } from '../helpers.js';
import { readStatus } from '../../src/daemon/client.js';
import { configure, openHomeStore, startDaemon, statusCounts, waitFor } from '../daemon/harness.js';
import { startApnsEmulator, type ApnsEmulator } from '../emulators/apns.js';
import { startFcmEmulator, type FcmEmulator } from '../emulators/fcm.js';
import { smtpErrors, startSmtpEmulator, type SmtpEmulator } from '../emulators/smtp.js';
import { startTwilioEmulator, twilioErrors, type TwilioEmulator } from '../emulators/twilio.js';
import { startWebPushEmulator, webPushErrors, type SubscriptionJSON, type WebPushEmulator } from '../emulators/webpush.js';
import { fromApns, fromFcm, fromSmtp, fromTwilio, fromWebPush, webPushPart } from '../emulators/rendered.js';

type T = { after(fn: () => unknown): void };

interface Emulators {
  apns: ApnsEmulator;
  fcm: FcmEmulator;
  webpush: WebPushEmulator;
  twilio: TwilioEmulator;
  smtp: SmtpEmulator;
}

const TEMPLATE = {
  category: 'transactional',
  push: {
    title: 'Order {{ data.order }} shipped',
    body: 'Hi {{ user.name }}, your parcel is on its way 📦',
    data: { order: '{{ data.order }}', kind: 'shipping' },
    url: 'https://app.example.com/o/{{ data.order }}',
    sound: 'chime.caf',
    badge: '{{ data.count }}',
    collapseKey: 'order-{{ data.order }}',
  },
  sms: { body: 'Hi {{ user.name }}: order {{ data.order }} shipped — 배송 시작' },
  email: {
    subject: 'Order {{ data.order }} shipped',
    html: '<p>Hi {{ user.name }},</p><p>order <b>{{ data.order }}</b> is on its way.</p>',
  },
};
const DATA = ['--data', 'order=A-1001', '--data', 'count=2'];

async function startEmulators(t: T, vapidPublicKey: string): Promise<Emulators> {
  const [apns, fcm, wp, twilio, smtp] = await Promise.all([
    startApnsEmulator(), startFcmEmulator(), startWebPushEmulator({ applicationServerKey: vapidPublicKey }),
    startTwilioEmulator(), startSmtpEmulator(),
  ]);
  t.after(async () => {
    await Promise.all([apns.close(), fcm.close(), wp.close(), twilio.close(), smtp.close()]);
  });
  return { apns, fcm, webpush: wp, twilio, smtp };
}

/** A home whose five channels use their real providers, pointed at the emulators. */
async function realHome(t: T, emus: Emulators, vapid: { publicKey: string; privateKey: string }, extra: Record<string, unknown> = {}): Promise<string> {
  const home = await initHome(t);
  configure(home, {
    'daemon.leaseMs': 5000,
    'daemon.pollMs': 50,
    'channels.apns': { provider: 'apns', keyFile: emus.apns.keyPath, keyId: emus.apns.keyId, teamId: emus.apns.teamId, topic: emus.apns.topic, endpoint: emus.apns.url },
    'channels.fcm': { provider: 'fcm', serviceAccountFile: emus.fcm.serviceAccountPath, endpoint: emus.fcm.url },
    'channels.webpush': { provider: 'webpush', vapidPublicKey: vapid.publicKey, vapidPrivateKey: vapid.privateKey, subject: 'mailto:ops@example.com' },
    'channels.sms': { provider: 'twilio', accountSid: emus.twilio.accountSid, authToken: emus.twilio.authToken, from: '+15005550006', endpoint: emus.twilio.url },
    'channels.email': { provider: 'smtp', smtpUrl: emus.smtp.smtpUrl, from: 'Acme <notify@acme.example>' },
    ...extra,
  });
  return home;
}

interface Person {
  id: string;
  email: string;
  phone: string;
  ios: string;
  android: string;
  web: SubscriptionJSON;
}

/** Users with an email, a phone, and one device of each platform; and the template `shipped`. */
async function seed(store: Store, home: string, emus: Emulators, ids: string[]): Promise<Map<string, Person>> {
  const people = new Map<string, Person>();
  ids.forEach((id, i) => people.set(id, {
    id, email: `${id}@example.com`, phone: `+1415555${String(2000 + i).padStart(4, '0')}`,
    ios: randomBytes(32).toString('hex'), android: `fcm-${id}-${randomBytes(8).toString('hex')}`, web: emus.webpush.createSubscription(),
  }));
  await store.users.upsertMany([...people.values()].map((p) => ({ id: p.id, name: `Ada ${p.id}`, email: p.email, phone: p.phone })));
  await store.devices.registerMany([...people.values()].flatMap((p) => [
    { userId: p.id, platform: 'ios' as const, token: p.ios },
    { userId: p.id, platform: 'android' as const, token: p.android },
    { userId: p.id, platform: 'web' as const, subscription: p.web },
  ]));
  await store.templates.create('shipped', validateTemplate(TEMPLATE, loadConfig(home)));
  return people;
}

function finalCount(store: Store): number {
  return store.db.prepare("SELECT count(*) FROM deliveries WHERE status IN ('sent', 'dead', 'skipped', 'canceled')").pluck().get() as number;
}

async function send(home: string, users: string[], extra: string[] = []): Promise<{ id: string }> {
  const r = await notify(home, ['send', '--template', 'shipped', ...users.flatMap((u) => ['--user', u]), ...DATA, '--json', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return json<{ id: string }>(r);
}

test('through the daemon, every rendered field arrives at each provider as `templates preview` shows it', async (t) => {
  const vapid = webpush.generateVAPIDKeys();
  const emus = await startEmulators(t, vapid.publicKey);
  // Through the sender threads: the messages cross to them and back intact.
  const home = await realHome(t, emus, vapid, { 'daemon.senderThread': true });
  const store = await openHomeStore(t, home);
  const people = await seed(store, home, emus, ['ada', 'bo']);
  const notification = await send(home, ['ada', 'bo']);

  const daemon = await startDaemon(t, home);
  assert.deepEqual((await readStatus(home))?.senderThreads, [['apns', 'fcm', 'webpush'], ['sms', 'email']]);
  await waitFor(() => finalCount(store) === 10, 'ten deliveries (2 users × 5 providers) final');
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  assert.deepEqual(statusCounts(store), { sent: 10 });

  const rows = store.db.prepare('SELECT id, user_id, provider, address, provider_id FROM deliveries').all() as { id: number; user_id: string; provider: string; address: string; provider_id: string }[];
  const row = (user: string, provider: string) => rows.find((r) => r.user_id === user && r.provider === provider)!;
  for (const [id, p] of people) {
    const preview = await notify(home, ['templates', 'preview', 'shipped', '--user', id, ...DATA, '--json']);
    assert.equal(preview.code, 0, preview.stderr);
    const shown = json<{ push: any; sms: { body: string }; email: any }>(preview);

    const apns = emus.apns.received.filter((r) => r.token === p.ios);
    assert.equal(apns.length, 1);
    assert.deepEqual(fromApns(apns[0]!), { content: shown.push, nid: notification.id, did: row(id, 'apns').id });
    assert.equal(apns[0]!.apnsId, row(id, 'apns').provider_id);
    assert.equal(apns[0]!.headers['apns-priority'], '10', 'transactional sends are high priority');

    const fcm = emus.fcm.received.filter((r) => r.token === p.android);
    assert.equal(fcm.length, 1);
    assert.deepEqual(fromFcm(fcm[0]!), { content: shown.push, nid: notification.id, did: row(id, 'fcm').id });
    assert.equal(fcm[0]!.name, row(id, 'fcm').provider_id);

    const web = emus.webpush.received.filter((r) => r.endpoint === p.web.endpoint);
    assert.equal(web.length, 1);
    assert.deepEqual(fromWebPush(web[0]!), { content: webPushPart(shown.push), nid: notification.id, did: row(id, 'webpush').id, topic: topicFor(shown.push.collapseKey) });

    const sms = emus.twilio.received.filter((r) => r.to === p.phone);
    assert.equal(sms.length, 1);
    assert.deepEqual(fromTwilio(sms[0]!), { body: shown.sms.body });
    assert.equal(sms[0]!.sid, row(id, 'sms').provider_id);

    const mail = emus.smtp.received.filter((r) => r.envelope.to.includes(p.email));
    assert.equal(mail.length, 1);
    assert.deepEqual(fromSmtp(mail[0]!), { subject: shown.email.subject, text: shown.email.text.trimEnd(), html: shown.email.html });
    assert.equal(mail[0]!.secure, true, 'STARTTLS');
    assert.equal(mail[0]!.from, 'notify@acme.example');
  }
});

// The SDKs on sender threads (the default with 2 or more cores) and in the daemon's main thread.
for (const senderThread of [true, false]) test(`provider errors lead to retries, dead deliveries, deactivated devices, SMS opt-outs and suppressed addresses (sender threads ${senderThread ? 'on' : 'off'})`, async (t) => {
  const vapid = webpush.generateVAPIDKeys();
  const emus = await startEmulators(t, vapid.publicKey);
  const home = await realHome(t, emus, vapid, { 'retry.maxAttempts': 2, 'retry.baseMs': 100, 'daemon.senderThread': senderThread });
  const store = await openHomeStore(t, home);
  const people = await seed(store, home, emus, ['flaky', 'down', 'gone', 'stop', 'bounce']);
  const p = (id: string) => people.get(id)!;

  // flaky: every provider fails the first attempt with its own retryable answer.
  emus.apns.fail(p('flaky').ios, ['ServiceUnavailable']);
  emus.fcm.fail(p('flaky').android, ['UNAVAILABLE']);
  emus.webpush.fail(p('flaky').web.endpoint, [webPushErrors.internal()]);
  emus.twilio.fail(p('flaky').phone, [twilioErrors.internal()]);
  emus.smtp.fail(p('flaky').email, [smtpErrors.greylisted(p('flaky').email)]);
  // down: every provider always fails with a retryable answer.
  emus.apns.failAlways(p('down').ios, 'InternalServerError');
  emus.fcm.failAlways(p('down').android, 'INTERNAL');
  emus.webpush.failAlways(p('down').web.endpoint, webPushErrors.unavailable());
  emus.twilio.failAlways(p('down').phone, twilioErrors.unavailable());
  emus.smtp.failAlways(p('down').email, smtpErrors.mailboxFull(p('down').email));
  // gone: the app was uninstalled and the browser unsubscribed.
  emus.apns.failAlways(p('gone').ios, 'Unregistered');
  emus.fcm.failAlways(p('gone').android, 'UNREGISTERED');
  emus.webpush.unsubscribe(p('gone').web.endpoint);
  // stop: replied STOP to the sender.
  emus.twilio.failAlways(p('stop').phone, twilioErrors.unsubscribed());
  // bounce: the mailbox does not exist.
  emus.smtp.failAlways(p('bounce').email, smtpErrors.userUnknown(p('bounce').email));

  await send(home, ['flaky', 'down']);
  await send(home, ['gone'], ['--channel', 'push']);
  await send(home, ['stop'], ['--channel', 'sms']);
  await send(home, ['bounce'], ['--channel', 'email']);

  const daemon = await startDaemon(t, home);
  assert.deepEqual((await readStatus(home))?.senderThreads, senderThread ? [['apns', 'fcm', 'webpush'], ['sms', 'email']] : []);
  await waitFor(() => finalCount(store) === 15, 'all 15 deliveries final');
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);

  const rows = store.db.prepare('SELECT user_id, provider, status, attempts, last_error FROM deliveries ORDER BY user_id, provider').all() as
    { user_id: string; provider: string; status: string; attempts: number; last_error: string | null }[];
  const by = (user: string) => rows.filter((r) => r.user_id === user).map((r) => [r.provider, r.status, r.attempts]);
  assert.deepEqual(by('flaky'), [['apns', 'sent', 2], ['email', 'sent', 2], ['fcm', 'sent', 2], ['sms', 'sent', 2], ['webpush', 'sent', 2]]);
  assert.deepEqual(by('down'), [['apns', 'dead', 2], ['email', 'dead', 2], ['fcm', 'dead', 2], ['sms', 'dead', 2], ['webpush', 'dead', 2]]);
  assert.deepEqual(by('gone'), [['apns', 'dead', 1], ['fcm', 'dead', 1], ['webpush', 'dead', 1]]);
  assert.deepEqual(by('stop'), [['sms', 'dead', 1]]);
  assert.deepEqual(by('bounce'), [['email', 'dead', 1]]);
  for (const r of rows.filter((r) => r.user_id === 'down')) assert.match(r.last_error ?? '', /retryable/, `${r.provider}: ${r.last_error}`);

  const devices = store.db.prepare('SELECT user_id, platform, active, deactivated_reason FROM devices ORDER BY user_id, platform').all() as
    { user_id: string; platform: string; active: number; deactivated_reason: string | null }[];
  assert.deepEqual(devices.filter((d) => d.user_id === 'gone').map((d) => [d.platform, d.active, d.deactivated_reason]), [
    ['android', 0, 'fcm: UNREGISTERED'], ['ios', 0, 'apns: Unregistered'], ['web', 0, 'webpush: 410'],
  ]);
  assert.ok(devices.filter((d) => d.user_id !== 'gone').every((d) => d.active === 1), 'no other device was deactivated');

  const prefs = store.db.prepare('SELECT user_id, channel, category, opt_in, source FROM preferences').all();
  assert.deepEqual(prefs, [{ user_id: 'stop', channel: 'sms', category: '*', opt_in: 0, source: 'provider' }]);

  const suppressions = store.db.prepare('SELECT channel, address, reason FROM suppressions').all();
  assert.deepEqual(suppressions, [{ channel: 'email', address: p('bounce').email, reason: 'email: 550' }]);

  // Later sends skip the opted-out number and the bounced address before they reach the outbox queue.
  const later = await notify(home, ['send', '--template', 'shipped', '--user', 'stop', '--user', 'bounce', '--channel', 'sms,email', ...DATA, '--json']);
  assert.equal(later.code, 0, later.stderr);
  const laterId = json<{ id: string }>(later).id;
  const skipped = store.db.prepare('SELECT user_id, channel, status, skip_reason FROM deliveries WHERE notification_id = ? ORDER BY user_id, channel').all(laterId);
  assert.deepEqual(skipped.filter((r: any) => (r.user_id === 'bounce' && r.channel === 'email') || (r.user_id === 'stop' && r.channel === 'sms')), [
    { user_id: 'bounce', channel: 'email', status: 'skipped', skip_reason: 'suppressed' },
    { user_id: 'stop', channel: 'sms', status: 'skipped', skip_reason: 'opted-out' },
  ]);
});
