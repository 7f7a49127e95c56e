import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import webpush from 'web-push';
import { loadConfig } from '../../src/config.js';
import { validateTemplate } from '../../src/core/template.js';
import type { ChannelTestResult } from '../../src/commands/channels/test.js';
import { initHome, json, notify } from '../helpers.js';
import { configure, openHomeStore } from '../daemon/harness.js';
import { startApnsEmulator } from '../emulators/apns.js';
import { startFcmEmulator } from '../emulators/fcm.js';
import { startSmtpEmulator } from '../emulators/smtp.js';
import { startTwilioEmulator, twilioErrors } from '../emulators/twilio.js';
import { startWebPushEmulator } from '../emulators/webpush.js';
import { fromApns, fromFcm, fromWebPush } from '../emulators/rendered.js';

type T = { after(fn: () => unknown): void };

async function homeWithUser(t: T, config: Record<string, unknown>, user: { email?: string; phone?: string } = {}): Promise<string> {
  const home = await initHome(t);
  configure(home, config);
  const store = await openHomeStore(t, home);
  await store.users.upsertMany([{ id: 'u1', name: 'Ada', email: user.email ?? null, phone: user.phone ?? null }]);
  return home;
}

test('channels test --channel email sends the built-in test message over SMTP and prints the queue id', async (t) => {
  const smtp = await startSmtpEmulator();
  t.after(() => smtp.close());
  const home = await homeWithUser(t, { 'channels.email': { provider: 'smtp', smtpUrl: smtp.smtpUrl, from: 'Acme <notify@acme.example>' } }, { email: 'ada@example.com' });
  const r = await notify(home, ['channels', 'test', '--channel', 'email', '--user', 'u1', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const result = json<ChannelTestResult>(r);
  assert.equal(smtp.received.length, 1);
  assert.deepEqual(result.sends, [{ provider: 'email', adapter: 'smtp', to: 'ada@example.com', ok: true, providerId: smtp.received[0]!.queueId }]);
  assert.equal(smtp.received[0]!.subject, 'notify test message');
  assert.match(smtp.received[0]!.text, /This is a test message from notify on .+ for u1, sent at \d{4}-/);
  assert.equal(result.template, '(built-in test)');
});

test('channels test --channel push sends a template to each of the user\'s active devices', async (t) => {
  const vapid = webpush.generateVAPIDKeys();
  const [apns, fcm, wp] = await Promise.all([startApnsEmulator(), startFcmEmulator(), startWebPushEmulator({ applicationServerKey: vapid.publicKey })]);
  t.after(() => Promise.all([apns.close(), fcm.close(), wp.close()]));
  const home = await homeWithUser(t, {
    'channels.apns': { provider: 'apns', keyFile: apns.keyPath, keyId: apns.keyId, teamId: apns.teamId, topic: apns.topic, endpoint: apns.url },
    'channels.fcm': { provider: 'fcm', serviceAccountFile: fcm.serviceAccountPath, endpoint: fcm.url },
    'channels.webpush': { provider: 'webpush', vapidPublicKey: vapid.publicKey, vapidPrivateKey: vapid.privateKey, subject: 'mailto:ops@example.com' },
  });
  const store = await openHomeStore(t, home);
  const ios = randomBytes(32).toString('hex');
  const retired = randomBytes(32).toString('hex');
  const subscription = wp.createSubscription();
  await store.devices.registerMany([
    { userId: 'u1', platform: 'ios', token: ios }, { userId: 'u1', platform: 'android', token: 'fcm-token-1' },
    { userId: 'u1', platform: 'web', subscription }, { userId: 'u1', platform: 'ios', token: retired },
  ]);
  await store.devices.deactivate({ platform: 'ios', token: retired }, 'apns: Unregistered');
  await store.templates.create('shipped', validateTemplate({ category: 'transactional', push: { title: 'Order {{ data.order }}', body: 'Hi {{ user.name }}', data: { order: '{{ data.order }}' } } }, loadConfig(home)));

  const r = await notify(home, ['channels', 'test', '--channel', 'push', '--user', 'u1', '--template', 'shipped', '--data', 'order=A-7', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const result = json<ChannelTestResult>(r);
  assert.deepEqual(result.sends.map((s) => [s.provider, s.adapter, s.to, s.ok]), [
    ['apns', 'apns', ios, true], ['fcm', 'fcm', 'fcm-token-1', true], ['webpush', 'webpush', subscription.endpoint, true],
  ]);
  const expected = { title: 'Order A-7', body: 'Hi Ada', data: { order: 'A-7' } };
  assert.deepEqual(result.content, expected);
  assert.equal(apns.received.length, 1, 'the deactivated device got nothing');
  assert.deepEqual(fromApns(apns.received[0]!).content, expected);
  assert.equal(result.sends[0]!.providerId, apns.received[0]!.apnsId);
  assert.deepEqual(fromFcm(fcm.received[0]!).content, expected);
  assert.equal(result.sends[1]!.providerId, fcm.received[0]!.name);
  assert.deepEqual(fromWebPush(wp.received[0]!).content, expected);
});

test('a provider refusal prints its kind, code and action, and exits 1', async (t) => {
  const twilio = await startTwilioEmulator();
  t.after(() => twilio.close());
  const home = await homeWithUser(t, {
    'channels.sms': { provider: 'twilio', accountSid: twilio.accountSid, authToken: twilio.authToken, from: '+15005550006', endpoint: twilio.url },
  }, { phone: '+14155550123' });
  twilio.fail('+14155550123', [twilioErrors.unsubscribed()]);
  const r = await notify(home, ['channels', 'test', '--channel', 'sms', '--user', 'u1', '--json']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /1 of 1 test send failed/);
  const result = json<ChannelTestResult>(r);
  assert.deepEqual(result.sends[0]!.error && { ...result.sends[0]!.error, message: undefined }, { kind: 'permanent', code: '21610', action: 'opt-out', message: undefined });
  assert.equal(twilio.received.length, 0);

  const again = await notify(home, ['channels', 'test', '--channel', 'sms', '--user', 'u1']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^sms\ttwilio\t\+14155550123\tok\tSM[0-9a-f]{32}\n$/);
  assert.match(twilio.received[0]!.body, /^notify test message for u1 \(/);
});

test('on the log provider the test message is written to the log file, and says so', async (t) => {
  const home = await homeWithUser(t, {}, { email: 'ada@example.com' });
  const r = await notify(home, ['channels', 'test', '--channel', 'email', '--user', 'u1', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(json<ChannelTestResult>(r).sends[0]!.adapter, 'log');
  const file = join(home, 'log', 'email.jsonl');
  assert.ok(existsSync(file));
  assert.equal(JSON.parse(readFileSync(file, 'utf8').trim()).content.subject, 'notify test message');
});

test('channels test refuses an unknown channel (exit 2) and a user without the address (exit 1)', async (t) => {
  const home = await homeWithUser(t, {}, { email: 'ada@example.com' });
  const fax = await notify(home, ['channels', 'test', '--channel', 'fax', '--user', 'u1']);
  assert.equal(fax.code, 2);
  assert.match(fax.stderr, /--channel must be push, sms or email, not "fax"/);
  const noPhone = await notify(home, ['channels', 'test', '--channel', 'sms', '--user', 'u1']);
  assert.equal(noPhone.code, 1);
  assert.match(noPhone.stderr, /user "u1" has no phone number/);
  const noDevice = await notify(home, ['channels', 'test', '--channel', 'push', '--user', 'u1']);
  assert.equal(noDevice.code, 1);
  assert.match(noDevice.stderr, /no active devices/);
  const missing = await notify(home, ['channels', 'test', '--channel', 'email', '--user', 'nobody']);
  assert.equal(missing.code, 1);
});
