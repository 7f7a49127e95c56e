import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyApnsError, createApnsAdapter } from '../../src/channels/apns.js';
import { DeliveryError, type ChannelAdapter, type PushMessage } from '../../src/channels/types.js';
import type { Config } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { startApnsEmulator, type ApnsEmulator, type ApnsErrorSpec } from '../emulators/apns.js';
import { rejection } from './helpers.js';

type TestContext = { after(fn: () => unknown): void };
type ApnsConfig = Config['channels']['apns'];

const TOKEN = 'a1'.repeat(32);
const ctx = (home = tmpdir()) => ({ home, warn: () => {} });

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'notify-apns-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function emulator(t: TestContext): Promise<ApnsEmulator> {
  const emu = await startApnsEmulator();
  t.after(() => emu.close());
  return emu;
}

function configFor(emu: ApnsEmulator, extra: Partial<ApnsConfig> = {}): ApnsConfig {
  return { provider: 'apns', keyFile: emu.keyPath, keyId: emu.keyId, teamId: emu.teamId, topic: emu.topic, production: false, endpoint: emu.url, ...extra };
}

async function adapter(t: TestContext, config: ApnsConfig, home?: string): Promise<ChannelAdapter> {
  const a = await createApnsAdapter(config, ctx(home));
  t.after(() => a.close());
  return a;
}

function push(overrides: Partial<PushMessage> = {}, content: Partial<PushMessage['content']> = {}): PushMessage {
  return {
    channel: 'push', provider: 'apns', to: TOKEN, deliveryId: 42, notificationId: 'ntf_1', userId: 'u1', attempt: 1,
    category: 'social', priority: 'high',
    content: { title: 'Hello', body: 'You have a message', data: { thread: 't9', kind: 'dm' }, ...content },
    ...overrides,
  };
}


test('every RenderedPush field reaches APNs in the payload and headers', async (t) => {
  const emu = await emulator(t);
  const apns = await adapter(t, configFor(emu));
  const expiresAt = Date.now() + 3_600_000;
  const result = await apns.send(push({ expiresAt }, { url: 'https://example.com/m/1', sound: 'chime.caf', badge: 4, collapseKey: 'thread-t9' }), {});

  assert.equal(emu.received.length, 1);
  const got = emu.received[0]!;
  assert.equal(result.providerId, got.apnsId);
  assert.equal(got.token, TOKEN);
  assert.deepEqual(got.payload, {
    aps: { alert: { title: 'Hello', body: 'You have a message' }, sound: 'chime.caf', badge: 4 },
    thread: 't9',
    kind: 'dm',
    url: 'https://example.com/m/1',
    notify: { nid: 'ntf_1', did: 42 },
  });
  assert.deepEqual(got.headers, {
    'apns-push-type': 'alert',
    'apns-priority': '10',
    'apns-expiration': String(Math.floor(expiresAt / 1000)),
    'apns-collapse-id': 'thread-t9',
    'apns-topic': emu.topic,
  });
});

test('low priority is APNs priority 5, and no expiry sends no apns-expiration', async (t) => {
  const emu = await emulator(t);
  const apns = await adapter(t, configFor(emu));
  await apns.send(push({ priority: 'low' }), {});
  await apns.send(push({ priority: 'normal' }), {});
  const [low, normal] = emu.received;
  assert.equal(low!.headers['apns-priority'], '5');
  assert.equal(low!.headers['apns-expiration'], undefined);
  assert.equal(low!.headers['apns-collapse-id'], undefined);
  assert.deepEqual(low!.payload.aps, { alert: { title: 'Hello', body: 'You have a message' } });
  assert.equal(normal!.headers['apns-priority'], '10');
});

test('a token signed with another key is refused: permanent, alert the operator', async (t) => {
  const emu = await emulator(t);
  const dir = tempDir(t);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  writeFileSync(join(dir, 'wrong.p8'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const cases: [string, Partial<ApnsConfig>][] = [
    ['another key', { keyFile: join(dir, 'wrong.p8') }],
    ['another key id', { keyId: 'ZZZZZZZZZZ' }],
    ['another team', { teamId: 'ZZZZZZZZZZ' }],
  ];
  for (const [label, extra] of cases) {
    const apns = await adapter(t, configFor(emu, extra));
    const err = await rejection(apns.send(push(), {}));
    assert.equal(err.kind, 'permanent', label);
    assert.equal(err.code, 'InvalidProviderToken', label);
    assert.equal(err.action, 'alert', label);
    assert.equal(err.options.status, 403, label);
  }
  assert.equal(emu.received.length, 0);
});

test('each APNs error answer becomes the right DeliveryError', async (t) => {
  const emu = await emulator(t);
  const apns = await adapter(t, configFor(emu));
  const table: [ApnsErrorSpec, DeliveryError['kind'], string, string?][] = [
    ['Unregistered', 'invalid-address', 'Unregistered'],
    ['BadDeviceToken', 'invalid-address', 'BadDeviceToken'],
    ['TooManyRequests', 'rate-limited', 'TooManyRequests'],
    ['InternalServerError', 'retryable', 'InternalServerError'],
    ['ServiceUnavailable', 'retryable', 'ServiceUnavailable'],
    ['InvalidProviderToken', 'permanent', 'InvalidProviderToken', 'alert'],
    ['ExpiredProviderToken', 'retryable', 'ExpiredProviderToken'],
    ['PayloadTooLarge', 'permanent', 'PayloadTooLarge'],
    ['DeviceTokenNotForTopic', 'permanent', 'DeviceTokenNotForTopic'],
    [{ status: 502, reason: 'BadGateway' }, 'retryable', 'BadGateway'],
  ];
  emu.fail(TOKEN, table.map(([spec]) => spec));
  for (const [spec, kind, code, action] of table) {
    const err = await rejection(apns.send(push(), {}));
    assert.equal(err.kind, kind, JSON.stringify(spec));
    assert.equal(err.code, code, JSON.stringify(spec));
    assert.equal(err.action, action, JSON.stringify(spec));
  }
  // Every scripted answer was used exactly once: node-apn did not retry on its own.
  await apns.send(push(), {});
  assert.equal(emu.received.length, 1);
  assert.equal(emu.requests, table.length + 1);
});

test('a device token that is not 64 hex digits is invalid-address', async (t) => {
  const emu = await emulator(t);
  const apns = await adapter(t, configFor(emu));
  const err = await rejection(apns.send(push({ to: 'not-a-token' }), {}));
  assert.equal(err.kind, 'invalid-address');
  assert.equal(err.code, 'BadDeviceToken');
});

test('a payload over 4 KB is permanent PayloadTooLarge', async (t) => {
  const emu = await emulator(t);
  const apns = await adapter(t, configFor(emu));
  const err = await rejection(apns.send(push({}, { body: 'x'.repeat(5000) }), {}));
  assert.equal(err.kind, 'permanent');
  assert.equal(err.code, 'PayloadTooLarge');
});

test('classifyApnsError maps statuses and reasons', () => {
  const table: [number | undefined, string | undefined, Record<string, string>, DeliveryError['kind'], string | undefined, number | undefined][] = [
    [410, 'Unregistered', {}, 'invalid-address', undefined, undefined],
    [410, 'ExpiredToken', {}, 'invalid-address', undefined, undefined],
    [400, 'BadDeviceToken', {}, 'invalid-address', undefined, undefined],
    [400, 'BadTopic', {}, 'permanent', 'alert', undefined],
    [400, 'MissingTopic', {}, 'permanent', 'alert', undefined],
    [400, 'BadCollapseId', {}, 'permanent', undefined, undefined],
    [403, 'InvalidProviderToken', {}, 'permanent', 'alert', undefined],
    [403, 'ExpiredProviderToken', {}, 'retryable', undefined, undefined],
    [413, 'PayloadTooLarge', {}, 'permanent', undefined, undefined],
    [429, 'TooManyRequests', {}, 'rate-limited', undefined, undefined],
    [429, 'TooManyRequests', { 'retry-after': '12' }, 'rate-limited', undefined, 12_000],
    [500, 'InternalServerError', {}, 'retryable', undefined, undefined],
    [503, 'ServiceUnavailable', {}, 'retryable', undefined, undefined],
    [undefined, 'ECONNRESET', {}, 'retryable', undefined, undefined],
  ];
  for (const [status, reason, headers, kind, action, retryAfterMs] of table) {
    const err = classifyApnsError(status, reason, headers);
    const label = `${status} ${reason}`;
    assert.equal(err.kind, kind, label);
    assert.equal(err.code, reason, label);
    assert.equal(err.action, action, label);
    assert.equal(err.retryAfterMs, retryAfterMs, label);
  }
});

test('concurrent sends share one HTTP/2 session', async (t) => {
  const emu = await emulator(t);
  const apns = await adapter(t, configFor(emu));
  const tokens = Array.from({ length: 25 }, (_, i) => i.toString(16).padStart(64, '0'));
  const results = await Promise.all(tokens.map((to, i) => apns.send(push({ to, deliveryId: i }), {})));
  await Promise.all(tokens.map((to) => apns.send(push({ to }), {})));
  assert.equal(emu.sessions, 1);
  assert.equal(emu.received.length, 50);
  assert.equal(emu.accepted, 50);
  assert.equal(new Set(results.map((r) => r.providerId)).size, 25);
  assert.deepEqual(new Set(emu.received.slice(0, 25).map((r) => r.token)), new Set(tokens));
});

test('close() is safe twice, and a closed adapter refuses sends as retryable', async (t) => {
  const emu = await emulator(t);
  const apns = await createApnsAdapter(configFor(emu), ctx());
  await apns.send(push(), {});
  await apns.close();
  await apns.close();
  const err = await rejection(apns.send(push(), {}));
  assert.equal(err.kind, 'retryable');
});

test('a refused connection is retryable, and close() still returns', async (t) => {
  const emu = await emulator(t);
  const port = await closedPort();
  const apns = await createApnsAdapter(configFor(emu, { endpoint: `https://127.0.0.1:${port}` }), ctx());
  const err = await rejection(apns.send(push(), {}));
  assert.equal(err.kind, 'retryable');
  assert.equal(err.code, 'ECONNREFUSED');
  await apns.close();
  await apns.close();
});

test('an aborted send is retryable, before it starts and while it waits for an answer', async (t) => {
  const emu = await startApnsEmulator({ delayMs: 300 });
  t.after(() => emu.close());
  const apns = await adapter(t, configFor(emu));
  const before = await rejection(apns.send(push(), { signal: AbortSignal.abort() }));
  assert.equal(before.kind, 'retryable');
  assert.equal(before.code, 'ABORTED');
  assert.equal(emu.requests, 0);
  const controller = new AbortController();
  const sending = apns.send(push(), { signal: controller.signal });
  controller.abort();
  const during = await rejection(sending);
  assert.equal(during.kind, 'retryable');
  assert.equal(during.code, 'ABORTED');
});

test('each missing config key is a ConfigError that names the key and how to set it', async (t) => {
  const emu = await emulator(t);
  for (const key of ['keyFile', 'keyId', 'teamId', 'topic'] as const) {
    const config = { ...configFor(emu), [key]: undefined };
    await assert.rejects(createApnsAdapter(config, ctx()), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, new RegExp(`channels\\.apns\\.${key}.*notify config set channels\\.apns\\.${key} `));
      return true;
    });
  }
  await assert.rejects(createApnsAdapter(configFor(emu, { keyFile: '/nonexistent/AuthKey.p8' }), ctx()), ConfigError);
  await assert.rejects(createApnsAdapter(configFor(emu, { endpoint: 'http://127.0.0.1:1' }), ctx()), ConfigError);
});

test('a relative keyFile is read from the notify home', async (t) => {
  const emu = await emulator(t);
  const home = tempDir(t);
  copyFileSync(emu.keyPath, join(home, 'AuthKey.p8'));
  const apns = await adapter(t, configFor(emu, { keyFile: 'AuthKey.p8' }), home);
  await apns.send(push(), {});
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
