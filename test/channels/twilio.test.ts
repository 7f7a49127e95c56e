import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { classifyTwilioError, createTwilioAdapter } from '../../src/channels/twilio.js';
import { DeliveryError, type AdapterContext, type SmsMessage } from '../../src/channels/types.js';
import type { Config } from '../../src/config.js';
import { startTwilioEmulator, twilioErrors, type TwilioEmulator } from '../emulators/twilio.js';
import { rejectsConfig, rejection } from './helpers.js';

type SmsConfig = Config['channels']['sms'];

const warnings: string[] = [];
const ctx: AdapterContext = { home: '/nonexistent', warn: (m) => warnings.push(m) };

function sms(to: string, body: string, extra: Partial<SmsMessage> = {}): SmsMessage {
  return {
    channel: 'sms', provider: 'sms', deliveryId: 1, notificationId: 'n1', userId: 'u1', attempt: 1,
    category: 'transactional', priority: 'normal', to, content: { body }, ...extra,
  };
}

function configFor(emu: TwilioEmulator, extra: Partial<SmsConfig> = {}): SmsConfig {
  return { provider: 'twilio', accountSid: emu.accountSid, authToken: emu.authToken, from: '+15005550006', endpoint: emu.url, ...extra };
}

async function setup(t: { after(fn: () => Promise<void>): void }, extra: Partial<SmsConfig> = {}) {
  const emu = await startTwilioEmulator();
  t.after(() => emu.close());
  const adapter = await createTwilioAdapter(configFor(emu, extra), ctx);
  t.after(() => adapter.close());
  return { emu, adapter };
}


test('sends To, From, Body and StatusCallback through the SDK and returns the message SID', async (t) => {
  const { emu, adapter } = await setup(t);
  const body = 'Your code is 123456 — 안녕하세요';
  const result = await adapter.send(sms('+14155552671', body, { statusCallback: 'https://notify.example.com/hooks/twilio/42' }), {});
  assert.match(result.providerId, /^SM[0-9a-f]{32}$/);
  assert.equal(emu.received.length, 1);
  const got = emu.received[0]!;
  assert.equal(got.sid, result.providerId);
  assert.equal(got.to, '+14155552671');
  assert.equal(got.from, '+15005550006');
  assert.equal(got.body, body);
  assert.equal(got.statusCallback, 'https://notify.example.com/hooks/twilio/42');
  assert.equal(got.accountSid, emu.accountSid);
  assert.equal(got.messagingServiceSid, undefined);
});

test('sends with a Messaging Service SID when no From number is configured', async (t) => {
  const { emu, adapter } = await setup(t, { from: undefined, messagingServiceSid: 'MG0123456789abcdef0123456789abcdef' });
  await adapter.send(sms('+14155552671', 'hello'), {});
  assert.equal(emu.received[0]!.messagingServiceSid, 'MG0123456789abcdef0123456789abcdef');
  assert.equal(emu.received[0]!.from, undefined);
  assert.equal(emu.received[0]!.statusCallback, undefined);
});

test('a wrong auth token is a permanent failure that alerts an operator', async (t) => {
  const emu = await startTwilioEmulator();
  t.after(() => emu.close());
  const adapter = await createTwilioAdapter(configFor(emu, { authToken: 'not-the-token' }), ctx);
  t.after(() => adapter.close());
  const err = await rejection(adapter.send(sms('+14155552671', 'hi'), {}));
  assert.equal(err.kind, 'permanent');
  assert.equal(err.code, '20003');
  assert.equal(err.action, 'alert');
  assert.equal(err.options.status, 401);
  assert.equal(emu.received.length, 0);
});

test('another account SID with the right token is rejected too', async (t) => {
  const emu = await startTwilioEmulator();
  t.after(() => emu.close());
  const adapter = await createTwilioAdapter(configFor(emu, { accountSid: 'AC' + 'f'.repeat(32) }), ctx);
  t.after(() => adapter.close());
  const err = await rejection(adapter.send(sms('+14155552671', 'hi'), {}));
  assert.equal(err.code, '20003');
  assert.equal(err.action, 'alert');
});

test("Twilio's scripted errors map to delivery error kinds, then sends succeed again", async (t) => {
  const { emu, adapter } = await setup(t);
  const to = '+14155550123';
  const cases: [ReturnType<typeof twilioErrors.internal>, string, string, { action?: string; retryAfterMs?: number }][] = [
    [twilioErrors.invalidTo(to), 'invalid-address', '21211', {}],
    [twilioErrors.unsubscribed(), 'permanent', '21610', { action: 'opt-out' }],
    [twilioErrors.tooManyRequests(7), 'rate-limited', '20429', { retryAfterMs: 7000 }],
    [twilioErrors.tooManyRequests(), 'rate-limited', '20429', {}],
    [twilioErrors.internal(), 'retryable', '20500', {}],
    [twilioErrors.unavailable(), 'retryable', '20503', {}],
  ];
  emu.fail(to, cases.map((c) => c[0]));
  for (const [spec, kind, code, extra] of cases) {
    const err = await rejection(adapter.send(sms(to, 'hello'), {}));
    assert.equal(err.kind, kind, `${spec.code}`);
    assert.equal(err.code, code);
    assert.equal(err.options.status, spec.status);
    assert.equal(err.action, extra.action);
    assert.equal(err.retryAfterMs, extra.retryAfterMs);
    assert.match(err.message, new RegExp(spec.message!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  }
  const ok = await adapter.send(sms(to, 'hello'), {});
  assert.match(ok.providerId, /^SM/);
  assert.equal(emu.received.length, 1);
});

test('failAlways keeps failing until reset', async (t) => {
  const { emu, adapter } = await setup(t);
  emu.failAlways('+14155550124', twilioErrors.unsubscribed());
  for (let i = 0; i < 3; i++) assert.equal((await rejection(adapter.send(sms('+14155550124', 'x'), {}))).action, 'opt-out');
  emu.reset();
  await adapter.send(sms('+14155550124', 'x'), {});
  assert.equal(emu.received.length, 1);
});

test('a number Twilio cannot parse is an invalid address', async (t) => {
  const { emu, adapter } = await setup(t);
  const err = await rejection(adapter.send(sms('0101234', 'hello'), {}));
  assert.equal(err.kind, 'invalid-address');
  assert.equal(err.code, '21211');
  assert.equal(emu.received.length, 0);
});

test('sends reuse kept-alive connections', async (t) => {
  const { emu, adapter } = await setup(t);
  for (let i = 0; i < 10; i++) await adapter.send(sms('+14155552671', `sequential ${i}`), {});
  assert.equal(emu.connections, 1);
  await Promise.all(Array.from({ length: 20 }, (_, i) => adapter.send(sms('+14155552671', `parallel ${i}`), {})));
  assert.equal(emu.received.length, 30);
  assert.equal(emu.requests, 30);
  assert.ok(emu.connections <= 20, `${emu.connections} connections for 20 parallel sends`);
  const before = emu.connections;
  for (let i = 0; i < 10; i++) await adapter.send(sms('+14155552671', `again ${i}`), {});
  assert.equal(emu.connections, before, 'sequential sends after the burst open no new connections');
});

test('close is safe twice and later sends fail as retryable', async (t) => {
  const { adapter } = await setup(t);
  await adapter.send(sms('+14155552671', 'one'), {});
  await adapter.close();
  await adapter.close();
  const err = await rejection(adapter.send(sms('+14155552671', 'two'), {}));
  assert.equal(err.kind, 'retryable');
  assert.equal(err.code, 'CLOSED');
});

test('an aborted send is retryable', async (t) => {
  const { emu, adapter } = await setup(t);
  const controller = new AbortController();
  controller.abort();
  const err = await rejection(adapter.send(sms('+14155552671', 'x'), { signal: controller.signal }));
  assert.equal(err.kind, 'retryable');
  assert.equal(err.code, 'ABORTED');
  assert.equal(emu.received.length, 0);
});

test('a refused connection is retryable', async (t) => {
  // A port that was just free: nothing listens there any more.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const adapter = await createTwilioAdapter({ provider: 'twilio', accountSid: 'AC' + '0'.repeat(32), authToken: 't', from: '+15005550006', endpoint: `https://127.0.0.1:${port}` }, ctx);
  t.after(() => adapter.close());
  const err = await rejection(adapter.send(sms('+14155552671', 'x'), {}));
  assert.equal(err.kind, 'retryable');
  assert.equal(err.code, 'ECONNREFUSED');
});

test('a missing config key is a ConfigError naming the fix', async () => {
  const full: SmsConfig = { provider: 'twilio', accountSid: 'AC' + '0'.repeat(32), authToken: 'secret', from: '+15005550006' };
  const cases: [Partial<SmsConfig>, RegExp][] = [
    [{ accountSid: undefined }, /channels\.sms\.accountSid is not set: run "notify config set channels\.sms\.accountSid /],
    [{ authToken: undefined }, /channels\.sms\.authToken is not set: run "notify config set channels\.sms\.authToken /],
    [{ from: undefined }, /channels\.sms\.from is not set: .*messagingServiceSid/],
    [{ accountSid: 'SK123' }, /channels\.sms\.accountSid: accountSid must start with AC/],
  ];
  for (const [patch, message] of cases) await rejectsConfig(createTwilioAdapter({ ...full, ...patch }, ctx), message);
});

test('classifyTwilioError table', () => {
  const rows: [number, number | undefined, Record<string, string>, string, string, string | undefined, number | undefined][] = [
    // status, code, headers -> kind, code, action, retryAfterMs
    [400, 21211, {}, 'invalid-address', '21211', undefined, undefined],
    [400, 21614, {}, 'invalid-address', '21614', undefined, undefined],
    [400, 21610, {}, 'permanent', '21610', 'opt-out', undefined],
    [401, 20003, {}, 'permanent', '20003', 'alert', undefined],
    [400, 21606, {}, 'permanent', '21606', 'alert', undefined],
    [429, 20429, { 'retry-after': '3' }, 'rate-limited', '20429', undefined, 3000],
    [429, 20429, {}, 'rate-limited', '20429', undefined, undefined],
    [500, 20500, {}, 'retryable', '20500', undefined, undefined],
    [503, undefined, {}, 'retryable', '503', undefined, undefined],
    [400, 21617, {}, 'permanent', '21617', undefined, undefined],
  ];
  for (const [status, code, headers, kind, id, action, retryAfterMs] of rows) {
    const err = classifyTwilioError(status, code, 'm', headers);
    assert.deepEqual([err.kind, err.code, err.action, err.retryAfterMs], [kind, id, action, retryAfterMs], `${status} ${code}`);
  }
});
