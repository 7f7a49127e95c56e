import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { classifySmtpError, createSmtpAdapter, type SmtpErrorInfo } from '../../src/channels/smtp.js';
import { DeliveryError, type AdapterContext, type EmailMessage } from '../../src/channels/types.js';
import type { Config } from '../../src/config.js';
import { smtpErrors, startSmtpEmulator, type SmtpEmulator, type SmtpEmulatorOptions } from '../emulators/smtp.js';
import { rejectsConfig, rejection } from './helpers.js';

type EmailConfig = Config['channels']['email'];

const ctx: AdapterContext = { home: '/nonexistent', warn: () => undefined };

function email(to: string, extra: Partial<EmailMessage> = {}): EmailMessage {
  return {
    channel: 'email', provider: 'email', deliveryId: 7, notificationId: 'n-42', userId: 'u1', attempt: 1,
    category: 'marketing', priority: 'normal', to,
    content: { subject: 'Spring sale', text: 'Hello Ada,\n20% off today.', html: '<p>Hello Ada,<br>20% off <b>today</b>.</p>' },
    ...extra,
  };
}

function configFor(emu: SmtpEmulator, extra: Partial<EmailConfig> = {}): EmailConfig {
  return { provider: 'smtp', smtpUrl: emu.smtpUrl, from: 'Acme <notify@acme.example>', replyTo: 'help@acme.example', ...extra };
}

async function setup(t: { after(fn: () => Promise<void>): void }, extra: Partial<EmailConfig> = {}, options: SmtpEmulatorOptions = {}) {
  const emu = await startSmtpEmulator(options);
  t.after(() => emu.close());
  const adapter = await createSmtpAdapter(configFor(emu, extra), ctx);
  t.after(() => adapter.close());
  return { emu, adapter };
}


test('sends subject, text, html, reply-to and List-Unsubscribe headers over STARTTLS with AUTH', async (t) => {
  const { emu, adapter } = await setup(t);
  const headers = {
    'List-Unsubscribe': '<https://notify.example.com/u/eyJ1IjoidTEiLCJjIjoibWFya2V0aW5nIn0.c2lnbmF0dXJl>, <mailto:unsubscribe@acme.example?subject=u1>',
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  };
  const result = await adapter.send(email('ada@example.com', { headers }), {});
  assert.equal(emu.received.length, 1);
  const got = emu.received[0]!;
  assert.equal(result.providerId, got.queueId);
  assert.equal(got.secure, true, 'the session was upgraded with STARTTLS');
  assert.equal(got.user, emu.username);
  assert.deepEqual(got.envelope, { from: 'notify@acme.example', to: ['ada@example.com'] });
  assert.equal(got.from, 'notify@acme.example');
  assert.deepEqual(got.to, ['ada@example.com']);
  assert.equal(got.replyTo, 'help@acme.example');
  assert.equal(got.subject, 'Spring sale');
  assert.equal(got.text.trimEnd(), 'Hello Ada,\n20% off today.');
  assert.equal(got.html, '<p>Hello Ada,<br>20% off <b>today</b>.</p>');
  assert.equal(got.headers['list-unsubscribe'], headers['List-Unsubscribe']);
  assert.equal(got.headers['list-unsubscribe-post'], headers['List-Unsubscribe-Post']);
  assert.equal(got.messageId, '<notify.n-42.7@acme.example>');
});

test('a text-only email has no html part and non-ASCII survives', async (t) => {
  const { emu, adapter } = await setup(t, { replyTo: undefined });
  await adapter.send(email('min@example.kr', { content: { subject: '봄 세일 🌸', text: '안녕하세요, 민수님' } }), {});
  const got = emu.received[0]!;
  assert.equal(got.subject, '봄 세일 🌸');
  assert.equal(got.text.trimEnd(), '안녕하세요, 민수님');
  assert.equal(got.html, undefined);
  assert.equal(got.replyTo, undefined);
  assert.equal(got.headers['list-unsubscribe'], undefined);
});

test('a wrong password is a permanent failure that alerts an operator', async (t) => {
  const emu = await startSmtpEmulator();
  t.after(() => emu.close());
  const url = new URL(emu.smtpUrl);
  url.password = 'wrong';
  const adapter = await createSmtpAdapter(configFor(emu, { smtpUrl: url.toString() }), ctx);
  t.after(() => adapter.close());
  const err = await rejection(adapter.send(email('ada@example.com'), {}));
  assert.equal(err.kind, 'permanent');
  assert.equal(err.code, '535');
  assert.equal(err.action, 'alert');
  assert.ok(emu.authFailures >= 1);
  assert.equal(emu.received.length, 0);
});

test('no credentials where the server requires AUTH is a permanent failure that alerts', async (t) => {
  const emu = await startSmtpEmulator();
  t.after(() => emu.close());
  const adapter = await createSmtpAdapter(configFor(emu, { smtpUrl: `smtp://127.0.0.1:${emu.port}` }), ctx);
  t.after(() => adapter.close());
  const err = await rejection(adapter.send(email('ada@example.com'), {}));
  assert.equal(err.kind, 'permanent');
  assert.equal(err.code, '530');
  assert.equal(err.action, 'alert');
});

test('per-recipient and data-stage answers map to delivery error kinds, then sends succeed again', async (t) => {
  const { emu, adapter } = await setup(t);
  const to = 'bob@example.com';
  const cases: [ReturnType<typeof smtpErrors.spam>, string, string, string | undefined][] = [
    [smtpErrors.userUnknown(to), 'invalid-address', '550', undefined],
    [smtpErrors.mailboxFull(to), 'retryable', '452', undefined],
    [smtpErrors.greylisted(to), 'retryable', '451', undefined],
    [{ code: 554, message: '5.7.1 <bob@example.com>: Relay access denied' }, 'permanent', '554', 'alert'],
    [smtpErrors.spam(), 'permanent', '554', undefined],
    [smtpErrors.tempDataFailure(), 'retryable', '451', undefined],
  ];
  emu.fail(to, cases.map((c) => c[0]));
  for (const [spec, kind, code, action] of cases) {
    const err = await rejection(adapter.send(email(to), {}));
    assert.deepEqual([err.kind, err.code, err.action], [kind, code, action], spec.message);
    assert.ok(err.message.includes(spec.message), err.message);
  }
  await adapter.send(email(to), {});
  assert.equal(emu.received.length, 1);
  assert.deepEqual(emu.received[0]!.to, [to]);
});

test('unrecorded, the emulator counts accepted messages and still answers scripted failures', async (t) => {
  const { emu, adapter } = await setup(t, {}, { record: false });
  emu.fail('bob@example.com', [smtpErrors.userUnknown('bob@example.com'), smtpErrors.spam()]);
  assert.equal((await rejection(adapter.send(email('bob@example.com'), {}))).kind, 'invalid-address');
  assert.equal((await rejection(adapter.send(email('bob@example.com'), {}))).kind, 'permanent');
  const sent = await Promise.all(Array.from({ length: 5 }, (_, i) => adapter.send(email(`u${i}@example.com`), {})));
  assert.equal(emu.accepted, 5);
  assert.equal(emu.received.length, 0);
  assert.equal(new Set(sent.map((r) => r.providerId)).size, 5);
  for (const r of sent) assert.match(r.providerId, /^[0-9A-F]{10}$/);
});

test('failAlways bounces one address while others are delivered', async (t) => {
  const { emu, adapter } = await setup(t);
  emu.failAlways('gone@example.com', smtpErrors.userUnknown('gone@example.com'));
  for (let i = 0; i < 2; i++) assert.equal((await rejection(adapter.send(email('gone@example.com'), {}))).kind, 'invalid-address');
  await adapter.send(email('ada@example.com'), {});
  assert.deepEqual(emu.received.map((m) => m.to[0]), ['ada@example.com']);
});

test('the pool reuses connections across sends', async (t) => {
  const { emu, adapter } = await setup(t, { pool: 3 });
  for (let i = 0; i < 8; i++) await adapter.send(email(`user${i}@example.com`), {});
  assert.equal(emu.received.length, 8);
  assert.equal(emu.connections, 1);
  await Promise.all(Array.from({ length: 30 }, (_, i) => adapter.send(email(`burst${i}@example.com`), {})));
  assert.equal(emu.received.length, 38);
  assert.ok(emu.connections <= 3, `${emu.connections} connections with pool 3`);
});

test("without a pool size, the pool follows the lane's concurrency (one connection per send in flight)", async (t) => {
  const { emu, adapter } = await setup(t, { concurrency: 8 });
  await Promise.all(Array.from({ length: 40 }, (_, i) => adapter.send(email(`burst${i}@example.com`), {})));
  assert.equal(emu.received.length, 40);
  // nodemailer's own default would stop at 5.
  assert.ok(emu.connections > 5 && emu.connections <= 8, `${emu.connections} connections with concurrency 8`);
});

test('close is safe twice and later sends fail as retryable', async (t) => {
  const { adapter } = await setup(t);
  await adapter.send(email('ada@example.com'), {});
  await adapter.close();
  await adapter.close();
  const err = await rejection(adapter.send(email('ada@example.com'), {}));
  assert.deepEqual([err.kind, err.code], ['retryable', 'CLOSED']);
});

test('an aborted send is retryable', async (t) => {
  const { emu, adapter } = await setup(t);
  const controller = new AbortController();
  controller.abort();
  const err = await rejection(adapter.send(email('ada@example.com'), { signal: controller.signal }));
  assert.deepEqual([err.kind, err.code], ['retryable', 'ABORTED']);
  assert.equal(emu.received.length, 0);
});

test('a refused connection is retryable', async (t) => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const adapter = await createSmtpAdapter({ provider: 'smtp', smtpUrl: `smtp://u:p@127.0.0.1:${port}`, from: 'a@acme.example' }, ctx);
  t.after(() => adapter.close());
  const err = await rejection(adapter.send(email('ada@example.com'), {}));
  assert.equal(err.kind, 'retryable');
  assert.equal(err.code, 'ECONNREFUSED');
});

test('a missing or unusable config key is a ConfigError naming the fix', async () => {
  const full: EmailConfig = { provider: 'smtp', smtpUrl: 'smtp://u:p@smtp.example.com:587', from: 'a@acme.example' };
  const cases: [Partial<EmailConfig>, RegExp][] = [
    [{ smtpUrl: undefined }, /channels\.email\.smtpUrl is not set: run "notify config set channels\.email\.smtpUrl /],
    [{ from: undefined }, /channels\.email\.from is not set: run "notify config set channels\.email\.from /],
    [{ smtpUrl: 'https://smtp.example.com' }, /must start with smtp:\/\/ or smtps:\/\//],
    [{ smtpUrl: 'smtp://smtp.example.com?tls.rejectUnauthorized=false' }, /unsupported option .*certificate checks cannot be turned off/],
  ];
  for (const [patch, message] of cases) await rejectsConfig(createSmtpAdapter({ ...full, ...patch }, ctx), message);
});

test('classifySmtpError table', () => {
  const rows: [SmtpErrorInfo, string, string, string | undefined][] = [
    [{ code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO', response: '550 5.1.1 <x@y>: User unknown' }, 'invalid-address', '550', undefined],
    [{ code: 'EENVELOPE', responseCode: 553, command: 'RCPT TO', response: '553 5.1.3 bad address syntax' }, 'invalid-address', '553', undefined],
    [{ code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO', response: '550 5.7.1 Relaying denied' }, 'permanent', '550', 'alert'],
    [{ code: 'EENVELOPE', responseCode: 452, command: 'RCPT TO', response: '452 4.2.2 Mailbox full' }, 'retryable', '452', undefined],
    [{ code: 'EENVELOPE', responseCode: 451, command: 'RCPT TO', response: '451 4.7.1 Greylisted' }, 'retryable', '451', undefined],
    [{ code: 'EENVELOPE', responseCode: 553, command: 'MAIL FROM', response: '553 5.7.1 Sender address rejected' }, 'permanent', '553', 'alert'],
    [{ code: 'EMESSAGE', responseCode: 554, command: 'DATA', response: '554 5.7.1 spam' }, 'permanent', '554', undefined],
    [{ code: 'EMESSAGE', responseCode: 421, command: 'DATA', response: '421 4.4.2 timeout' }, 'retryable', '421', undefined],
    [{ code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN', response: '535 5.7.8 auth failed' }, 'permanent', '535', 'alert'],
    [{ code: 'EAUTH', command: 'API', message: 'Missing credentials for "PLAIN"' }, 'permanent', 'EAUTH', 'alert'],
    [{ code: 'ECONNECTION', command: 'CONN', message: 'connect ECONNREFUSED' }, 'retryable', 'ECONNECTION', undefined],
    [{ code: 'ETIMEDOUT', command: 'CONN', message: 'Greeting never received' }, 'retryable', 'ETIMEDOUT', undefined],
    [{ code: 'ESOCKET', command: 'CONN', message: 'read ECONNRESET' }, 'retryable', 'ESOCKET', undefined],
    [{ code: 'ETLS', command: 'STARTTLS', message: 'self-signed certificate' }, 'retryable', 'ETLS', 'alert'],
    [{ code: 'EENVELOPE', command: 'API', message: 'Invalid recipient "a@@b"' }, 'invalid-address', 'EENVELOPE', undefined],
  ];
  for (const [info, kind, code, action] of rows) {
    const err = classifySmtpError(info);
    assert.deepEqual([err.kind, err.code, err.action], [kind, code, action], JSON.stringify(info));
  }
});
