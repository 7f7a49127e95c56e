import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyFcmError, createFcmAdapter } from '../../src/channels/fcm.js';
import { DeliveryError, type ChannelAdapter, type PushMessage } from '../../src/channels/types.js';
import type { Config } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { startFcmEmulator, type FcmEmulator, type FcmErrorSpec } from '../emulators/fcm.js';
import { rejection } from './helpers.js';

type TestContext = { after(fn: () => unknown): void };
type FcmConfig = Config['channels']['fcm'];

const TOKEN = 'fcm-registration-token-1';
const ctx = (home = tmpdir()) => ({ home, warn: () => {} });

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'notify-fcm-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function emulator(t: TestContext): Promise<FcmEmulator> {
  const emu = await startFcmEmulator();
  t.after(() => emu.close());
  return emu;
}

function configFor(emu: FcmEmulator, extra: Partial<FcmConfig> = {}): FcmConfig {
  return { provider: 'fcm', serviceAccountFile: emu.serviceAccountPath, endpoint: emu.url, ...extra };
}

async function adapter(t: TestContext, config: FcmConfig, home?: string): Promise<ChannelAdapter> {
  const a = await createFcmAdapter(config, ctx(home));
  t.after(() => a.close());
  return a;
}

function push(overrides: Partial<PushMessage> = {}, content: Partial<PushMessage['content']> = {}): PushMessage {
  return {
    channel: 'push', provider: 'fcm', to: TOKEN, deliveryId: 42, notificationId: 'ntf_1', userId: 'u1', attempt: 1,
    category: 'social', priority: 'high',
    content: { title: 'Hello', body: 'You have a message', data: { thread: 't9', kind: 'dm' }, ...content },
    ...overrides,
  };
}


test('every RenderedPush field reaches FCM in the v1 message', async (t) => {
  const emu = await emulator(t);
  const fcm = await adapter(t, configFor(emu));
  const expiresAt = Date.now() + 3_600_000;
  const result = await fcm.send(push({ expiresAt }, { url: 'https://example.com/m/1', sound: 'chime', badge: 4, collapseKey: 'thread-t9' }), {});

  assert.equal(emu.received.length, 1);
  const got = emu.received[0]!;
  assert.equal(result.providerId, got.name);
  assert.match(result.providerId, new RegExp(`^projects/${emu.projectId}/messages/`));
  const { ttl, ...android } = got.message.android;
  assert.deepEqual({ ...got.message, android }, {
    token: TOKEN,
    notification: { title: 'Hello', body: 'You have a message' },
    data: { thread: 't9', kind: 'dm', url: 'https://example.com/m/1', notify_nid: 'ntf_1', notify_did: '42' },
    android: { priority: 'high', collapse_key: 'thread-t9', notification: { sound: 'chime', notification_count: 4 } },
  });
  const seconds = Number(/^(\d+)s$/.exec(ttl)?.[1]);
  assert.ok(seconds > 3500 && seconds <= 3600, `ttl ${ttl}`);
});

test('normal and low priority are FCM normal; no expiry sends no ttl', async (t) => {
  const emu = await emulator(t);
  const fcm = await adapter(t, configFor(emu));
  await fcm.send(push({ priority: 'low' }), {});
  await fcm.send(push({ priority: 'normal' }), {});
  const [low, normal] = emu.received;
  assert.equal(low!.message.android.priority, 'normal');
  assert.equal(low!.message.android.ttl, undefined);
  assert.equal(low!.message.android.collapse_key, undefined);
  assert.equal(normal!.message.android.priority, 'normal');
});

test('the access token is fetched once and reused across sends', async (t) => {
  const emu = await emulator(t);
  const fcm = await adapter(t, configFor(emu));
  await Promise.all(Array.from({ length: 10 }, (_, i) => fcm.send(push({ deliveryId: i }), {})));
  for (let i = 0; i < 5; i++) await fcm.send(push(), {});
  assert.equal(emu.received.length, 15);
  assert.equal(emu.tokensIssued, 1);
  assert.equal(emu.tokenRequests, 1);
});

test('a service account key the token endpoint does not know is permanent, alert the operator', async (t) => {
  const emu = await emulator(t);
  const dir = tempDir(t);
  const account = JSON.parse(readFileSync(emu.serviceAccountPath, 'utf8')) as Record<string, string>;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  account.private_key = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  writeFileSync(join(dir, 'wrong.json'), JSON.stringify(account));
  const fcm = await adapter(t, configFor(emu, { serviceAccountFile: join(dir, 'wrong.json') }));
  const err = await rejection(fcm.send(push(), {}));
  assert.equal(err.kind, 'permanent');
  assert.equal(err.code, 'invalid_grant');
  assert.equal(err.action, 'alert');
  // The refusal is remembered for a while: a burst of sends does not hammer the token endpoint.
  const again = await rejection(fcm.send(push(), {}));
  assert.equal(again.code, 'invalid_grant');
  assert.equal(emu.tokenRequests, 1);
  assert.equal(emu.tokensIssued, 0);
  assert.equal(emu.sendRequests, 0);
});

test('an access token FCM does not accept is permanent UNAUTHENTICATED, alert the operator', async (t) => {
  // Tokens come from one emulator's token endpoint, messages go to another that never issued them.
  const issuer = await emulator(t);
  const other = await emulator(t);
  const fcm = await adapter(t, configFor(issuer, { endpoint: other.url }));
  const err = await rejection(fcm.send(push(), {}));
  assert.equal(err.kind, 'permanent');
  assert.equal(err.code, 'UNAUTHENTICATED');
  assert.equal(err.action, 'alert');
  assert.equal(err.options.status, 401);
  assert.equal(other.received.length, 0);
});

test('each FCM error answer becomes the right DeliveryError', async (t) => {
  const emu = await emulator(t);
  const fcm = await adapter(t, configFor(emu));
  const table: [FcmErrorSpec, DeliveryError['kind'], string, number, number?, string?][] = [
    ['UNREGISTERED', 'invalid-address', 'UNREGISTERED', 404],
    ['QUOTA_EXCEEDED', 'rate-limited', 'QUOTA_EXCEEDED', 429, 30_000],
    [{ errorCode: 'QUOTA_EXCEEDED', retryAfter: 7 }, 'rate-limited', 'QUOTA_EXCEEDED', 429, 7_000],
    ['UNAVAILABLE', 'retryable', 'UNAVAILABLE', 503],
    ['INTERNAL', 'retryable', 'INTERNAL', 500],
    ['SENDER_ID_MISMATCH', 'permanent', 'SENDER_ID_MISMATCH', 403],
    ['INVALID_ARGUMENT', 'permanent', 'INVALID_ARGUMENT', 400],
    ['THIRD_PARTY_AUTH_ERROR', 'permanent', 'THIRD_PARTY_AUTH_ERROR', 401, undefined, 'alert'],
  ];
  emu.fail(TOKEN, table.map(([spec]) => spec));
  for (const [spec, kind, code, status, retryAfterMs, action] of table) {
    const label = JSON.stringify(spec);
    const err = await rejection(fcm.send(push(), {}));
    assert.equal(err.kind, kind, label);
    assert.equal(err.code, code, label);
    assert.equal(err.options.status, status, label);
    assert.equal(err.retryAfterMs, retryAfterMs, label);
    assert.equal(err.action, action, label);
  }
  // Every scripted answer was used exactly once: firebase-admin did not retry the 503 on its own.
  await fcm.send(push(), {});
  assert.equal(emu.received.length, 1);
  assert.equal(emu.sendRequests, table.length + 1);
});

test('a message FCM would refuse is caught by firebase-admin as permanent', async (t) => {
  const emu = await emulator(t);
  const fcm = await adapter(t, configFor(emu));
  // A template bug: FCM data values must be strings.
  const err = await rejection(fcm.send(push({}, { data: { count: 3 as unknown as string } }), {}));
  assert.equal(err.kind, 'permanent');
  assert.match(err.code, /^messaging\//);
  assert.equal(emu.sendRequests, 0);
});

test('classifyFcmError maps FCM errorCodes and firebase-admin codes', () => {
  const table: [string, number | undefined, Record<string, string>, DeliveryError['kind'], string | undefined, number | undefined][] = [
    ['UNREGISTERED', 404, {}, 'invalid-address', undefined, undefined],
    ['messaging/registration-token-not-registered', undefined, {}, 'invalid-address', undefined, undefined],
    ['messaging/invalid-registration-token', undefined, {}, 'invalid-address', undefined, undefined],
    ['QUOTA_EXCEEDED', 429, { 'retry-after': '20' }, 'rate-limited', undefined, 20_000],
    ['messaging/message-rate-exceeded', undefined, {}, 'rate-limited', undefined, undefined],
    ['UNAVAILABLE', 503, {}, 'retryable', undefined, undefined],
    ['INTERNAL', 500, {}, 'retryable', undefined, undefined],
    ['messaging/server-unavailable', undefined, {}, 'retryable', undefined, undefined],
    ['app/network-error', undefined, {}, 'retryable', undefined, undefined],
    ['SENDER_ID_MISMATCH', 403, {}, 'permanent', undefined, undefined],
    ['messaging/mismatched-credential', undefined, {}, 'permanent', undefined, undefined],
    ['INVALID_ARGUMENT', 400, {}, 'permanent', undefined, undefined],
    ['messaging/invalid-payload', undefined, {}, 'permanent', undefined, undefined],
    ['NOT_FOUND', 404, {}, 'permanent', undefined, undefined],
    ['UNAUTHENTICATED', 401, {}, 'permanent', 'alert', undefined],
    ['PERMISSION_DENIED', 403, {}, 'permanent', 'alert', undefined],
    ['messaging/third-party-auth-error', undefined, {}, 'permanent', 'alert', undefined],
    ['UNSPECIFIED_ERROR', 502, {}, 'retryable', undefined, undefined],
    ['ECONNRESET', undefined, {}, 'retryable', undefined, undefined],
  ];
  for (const [code, status, headers, kind, action, retryAfterMs] of table) {
    const err = classifyFcmError(code, status, headers);
    assert.equal(err.kind, kind, code);
    assert.equal(err.code, code, code);
    assert.equal(err.action, action, code);
    assert.equal(err.retryAfterMs, retryAfterMs, code);
  }
});

test('sends reuse keep-alive connections', async (t) => {
  const emu = await emulator(t);
  const fcm = await adapter(t, configFor(emu));
  await fcm.send(push(), {});
  const afterFirst = emu.connections; // the token request's own connection plus one for messages
  for (let i = 0; i < 10; i++) await fcm.send(push(), {});
  assert.equal(emu.connections, afterFirst);
  await Promise.all(Array.from({ length: 8 }, () => fcm.send(push(), {})));
  const afterBurst = emu.connections;
  await Promise.all(Array.from({ length: 8 }, () => fcm.send(push(), {})));
  assert.equal(emu.connections, afterBurst);
  assert.equal(emu.received.length, 27);
});

test('close() is safe twice, and a closed adapter refuses sends as retryable', async (t) => {
  const emu = await emulator(t);
  const fcm = await createFcmAdapter(configFor(emu), ctx());
  await fcm.send(push(), {});
  await fcm.close();
  await fcm.close();
  const err = await rejection(fcm.send(push(), {}));
  assert.equal(err.kind, 'retryable');
});

test('unreachable endpoints are retryable', async (t) => {
  const emu = await emulator(t);
  const port = await closedPort();
  const fcm = await adapter(t, configFor(emu, { endpoint: `https://127.0.0.1:${port}` }));
  const err = await rejection(fcm.send(push(), {}));
  assert.equal(err.kind, 'retryable');
  assert.equal(emu.tokensIssued, 1);

  const dir = tempDir(t);
  const account = JSON.parse(readFileSync(emu.serviceAccountPath, 'utf8')) as Record<string, string>;
  account.token_uri = `https://127.0.0.1:${port}/token`;
  writeFileSync(join(dir, 'sa.json'), JSON.stringify(account));
  const noTokens = await adapter(t, configFor(emu, { serviceAccountFile: join(dir, 'sa.json') }));
  const tokenErr = await rejection(noTokens.send(push(), {}));
  assert.equal(tokenErr.kind, 'retryable');
  assert.equal(emu.sendRequests, 0);
});

test('an aborted send is retryable', async (t) => {
  const emu = await emulator(t);
  const fcm = await adapter(t, configFor(emu));
  const err = await rejection(fcm.send(push(), { signal: AbortSignal.abort() }));
  assert.equal(err.kind, 'retryable');
  assert.equal(err.code, 'ABORTED');
  assert.equal(emu.sendRequests, 0);
});

test('a missing or unusable service account file is a ConfigError naming the key', async (t) => {
  const home = tempDir(t);
  await assert.rejects(createFcmAdapter({ provider: 'fcm' }, ctx(home)), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /channels\.fcm\.serviceAccountFile.*notify config set channels\.fcm\.serviceAccountFile /);
    return true;
  });
  writeFileSync(join(home, 'broken.json'), '{ not json');
  writeFileSync(join(home, 'user.json'), JSON.stringify({ type: 'authorized_user', client_id: 'x' }));
  for (const file of ['missing.json', 'broken.json', 'user.json']) {
    await assert.rejects(createFcmAdapter({ provider: 'fcm', serviceAccountFile: file }, ctx(home)), (err: unknown) => {
      assert.ok(err instanceof ConfigError, file);
      assert.match(err.message, /channels\.fcm\.serviceAccountFile/);
      assert.ok(err.message.includes(join(home, file)), err.message);
      return true;
    });
  }
  await assert.rejects(createFcmAdapter({ provider: 'fcm', serviceAccountFile: 'sa.json', endpoint: 'http://127.0.0.1:1' }, ctx(home)), ConfigError);
});

test('a relative serviceAccountFile is read from the notify home', async (t) => {
  const emu = await emulator(t);
  const home = tempDir(t);
  writeFileSync(join(home, 'firebase.json'), readFileSync(emu.serviceAccountPath));
  const fcm = await adapter(t, configFor(emu, { serviceAccountFile: 'firebase.json' }), home);
  await fcm.send(push(), {});
  assert.equal(emu.received.length, 1);
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
