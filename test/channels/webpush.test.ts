import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createECDH } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Command } from 'commander';
import webpush from 'web-push';
import type { Ctx } from '../../src/cli.js';
import * as webpushKeys from '../../src/commands/channels/webpush-keys.js';
import { systemClock } from '../../src/core/time.js';
import { createDeps } from '../../src/deps.js';
import type { IO } from '../../src/io.js';
import { loadConfig } from '../../src/config.js';
import { classifyWebPushError, createWebPushAdapter, topicFor } from '../../src/channels/webpush.js';
import { DeliveryError, type AdapterContext, type PushMessage } from '../../src/channels/types.js';
import type { Config } from '../../src/config.js';
import type { WebPushSubscription } from '../../src/core/types.js';
import { InputError, UsageError } from '../../src/errors.js';
import { initHome } from '../helpers.js';
import { startWebPushEmulator, webPushErrors, type WebPushEmulator } from '../emulators/webpush.js';
import { rejectsConfig, rejection } from './helpers.js';

type WebPushConfig = Config['channels']['webpush'];

const ctx: AdapterContext = { home: '/nonexistent', warn: () => undefined };
const keys = webpush.generateVAPIDKeys();
const otherKeys = webpush.generateVAPIDKeys();

function push(subscription: WebPushSubscription | undefined, extra: Partial<PushMessage> = {}): PushMessage {
  return {
    channel: 'push', provider: 'webpush', deliveryId: 314, notificationId: 'ntf_01J9', userId: 'u1', attempt: 1,
    category: 'social', priority: 'normal', to: subscription?.endpoint ?? 'https://push.invalid/x', subscription,
    content: { title: 'New follower', body: 'Ada followed you', url: 'https://app.example.com/u/ada', data: { kind: 'follow', actor: 'ada' } },
    ...extra,
  };
}

function configFor(extra: Partial<WebPushConfig> = {}): WebPushConfig {
  return { provider: 'webpush', vapidPublicKey: keys.publicKey, vapidPrivateKey: keys.privateKey, subject: 'mailto:ops@example.com', ...extra };
}

async function setup(t: { after(fn: () => Promise<void>): void }, extra: Partial<WebPushConfig> = {}) {
  const emu = await startWebPushEmulator({ applicationServerKey: keys.publicKey });
  t.after(() => emu.close());
  const adapter = await createWebPushAdapter(configFor(extra), ctx);
  t.after(() => adapter.close());
  return { emu, adapter };
}


test('the decrypted payload carries title, body, url, data, nid and did; urgency, TTL and topic arrive', async (t) => {
  const { emu, adapter } = await setup(t);
  const sub = emu.createSubscription();
  const expiresAt = Date.now() + 3_600_000;
  const result = await adapter.send(push(sub, { priority: 'high', expiresAt, content: {
    title: 'Nouveau message 💬', body: 'Ada: ça va ?', url: 'https://app.example.com/m/1', data: { thread: 't1' }, collapseKey: 'thread-t1',
  } }), {});
  assert.equal(emu.received.length, 1);
  const got = emu.received[0]!;
  assert.match(result.providerId, new RegExp(`^${emu.url}/m/`));
  assert.equal(got.endpoint, sub.endpoint);
  assert.deepEqual(got.payload, {
    title: 'Nouveau message 💬', body: 'Ada: ça va ?', url: 'https://app.example.com/m/1', data: { thread: 't1' }, nid: 'ntf_01J9', did: 314,
  });
  assert.equal(got.urgency, 'high');
  assert.equal(got.topic, 'thread-t1');
  // The TTL is what is left of the hour when the request was built.
  assert.ok(got.ttl <= 3600 && got.ttl >= 3500, `ttl ${got.ttl}`);
  assert.equal(got.vapid.publicKey, keys.publicKey);
  assert.equal(got.vapid.sub, 'mailto:ops@example.com');
  assert.equal(got.vapid.aud, emu.url);
});

test('without an expiry the TTL is four weeks; low priority is Urgency low; odd collapse keys become a valid topic', async (t) => {
  const { emu, adapter } = await setup(t);
  const sub = emu.createSubscription();
  await adapter.send(push(sub, { priority: 'low', content: { title: 't', body: 'b', data: {}, collapseKey: 'order #123 / shipped' } }), {});
  await adapter.send(push(sub, { content: { title: 't', body: 'b', data: {}, collapseKey: 'order #124 / shipped' } }), {});
  const [low, normal] = emu.received;
  assert.equal(low!.ttl, 2_419_200);
  assert.equal(low!.urgency, 'low');
  assert.equal(normal!.urgency, 'normal');
  assert.match(low!.topic!, /^[A-Za-z0-9_-]{32}$/);
  assert.notEqual(low!.topic, normal!.topic);
  assert.deepEqual(low!.payload, { title: 't', body: 'b', data: {}, nid: 'ntf_01J9', did: 314 });
  // One signed VAPID JWT serves many pushes to one push service, within the 24 h limit.
  assert.equal(low!.vapid.exp, normal!.vapid.exp);
  assert.ok(low!.vapid.exp <= Date.now() / 1000 + 24 * 3600);
});

test('a VAPID key the subscription was not created with is a permanent failure that alerts', async (t) => {
  const emu = await startWebPushEmulator({ applicationServerKey: keys.publicKey });
  t.after(() => emu.close());
  const adapter = await createWebPushAdapter(configFor({ vapidPublicKey: otherKeys.publicKey, vapidPrivateKey: otherKeys.privateKey }), ctx);
  t.after(() => adapter.close());
  const err = await rejection(adapter.send(push(emu.createSubscription()), {}));
  assert.deepEqual([err.kind, err.code, err.action], ['permanent', '403', 'alert']);
  assert.equal(emu.received.length, 0);
});

test('the emulator verifies the VAPID signature against k', async (t) => {
  const emu = await startWebPushEmulator();
  t.after(() => emu.close());
  const sub = emu.createSubscription();
  // k names one key while the JWT is signed with another: a forged header.
  await assert.rejects(
    webpush.sendNotification(sub, 'x', { vapidDetails: { subject: 'mailto:a@example.com', publicKey: keys.publicKey, privateKey: otherKeys.privateKey }, TTL: 60 }),
    (err: unknown) => {
      assert.ok(err instanceof webpush.WebPushError);
      assert.equal(err.statusCode, 401);
      assert.match(err.body, /signature does not verify/);
      return true;
    },
  );
  const err = classifyWebPushError(401, {}, 'x');
  assert.deepEqual([err.kind, err.action], ['permanent', 'alert']);
  assert.equal(emu.received.length, 0);
});

test('unrecorded, the emulator counts pushes without decrypting them but still checks VAPID and the content header', async (t) => {
  const emu = await startWebPushEmulator({ applicationServerKey: keys.publicKey, record: false });
  t.after(() => emu.close());
  const adapter = await createWebPushAdapter(configFor(), ctx);
  t.after(() => adapter.close());
  const sub = emu.createSubscription();
  await adapter.send(push(sub), {});
  await adapter.send(push(sub), {});
  assert.equal(emu.accepted, 2);
  assert.equal(emu.received.length, 0);
  // A body that is not an aes128gcm record is refused, as a push service refuses it.
  const { Authorization } = webpush.getVapidHeaders(new URL(sub.endpoint).origin, 'mailto:a@example.com', keys.publicKey, keys.privateKey, 'aes128gcm');
  const res = await fetch(sub.endpoint, { method: 'POST', headers: { TTL: '60', 'Content-Encoding': 'aes128gcm', Authorization }, body: 'not encrypted' });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /aes128gcm header/);
  const other = await createWebPushAdapter(configFor({ vapidPublicKey: otherKeys.publicKey, vapidPrivateKey: otherKeys.privateKey }), ctx);
  t.after(() => other.close());
  assert.equal((await rejection(other.send(push(sub), {}))).kind, 'permanent');
  assert.equal(emu.accepted, 2);
});

test("push services' scripted errors map to delivery error kinds, then sends succeed again", async (t) => {
  const { emu, adapter } = await setup(t);
  const sub = emu.createSubscription();
  const cases: [ReturnType<typeof webPushErrors.gone>, string, string, number | undefined][] = [
    [webPushErrors.notFound(), 'invalid-address', '404', undefined],
    [webPushErrors.gone(), 'invalid-address', '410', undefined],
    [webPushErrors.tooManyRequests(30), 'rate-limited', '429', 30_000],
    [webPushErrors.tooManyRequests(), 'rate-limited', '429', undefined],
    [webPushErrors.tooLarge(), 'permanent', '413', undefined],
    [webPushErrors.badRequest(), 'permanent', '400', undefined],
    [webPushErrors.internal(), 'retryable', '500', undefined],
    [webPushErrors.unavailable(5), 'retryable', '503', 5_000],
  ];
  emu.fail(sub.endpoint, cases.map((c) => c[0]));
  for (const [spec, kind, code, retryAfterMs] of cases) {
    const err = await rejection(adapter.send(push(sub), {}));
    assert.deepEqual([err.kind, err.code, err.retryAfterMs, err.action], [kind, code, retryAfterMs, undefined], spec.body);
    assert.equal(err.options.status, spec.status);
  }
  await adapter.send(push(sub), {});
  assert.equal(emu.received.length, 1);
});

test('an unsubscribed browser is an invalid address; failAlways holds until reset', async (t) => {
  const { emu, adapter } = await setup(t);
  const gone = emu.createSubscription();
  emu.unsubscribe(gone.endpoint);
  const err = await rejection(adapter.send(push(gone), {}));
  assert.deepEqual([err.kind, err.code], ['invalid-address', '410']);
  const flaky = emu.createSubscription();
  emu.failAlways(flaky.endpoint, webPushErrors.internal());
  for (let i = 0; i < 2; i++) assert.equal((await rejection(adapter.send(push(flaky), {}))).kind, 'retryable');
  emu.reset();
  await adapter.send(push(flaky), {});
  assert.equal(emu.received.length, 1);
});

test('a payload over the 4 KB limit is refused by the service as permanent', async (t) => {
  const { emu, adapter } = await setup(t);
  const err = await rejection(adapter.send(push(emu.createSubscription(), { content: { title: 't', body: 'x'.repeat(5000), data: {} } }), {}));
  assert.deepEqual([err.kind, err.code], ['permanent', '413']);
});

test('a missing or malformed subscription fails without a request', async (t) => {
  const { emu, adapter } = await setup(t);
  const none = await rejection(adapter.send(push(undefined), {}));
  assert.deepEqual([none.kind, none.code], ['permanent', 'NO_SUBSCRIPTION']);
  const sub = emu.createSubscription();
  const broken = { ...sub, keys: { ...sub.keys, p256dh: 'AAAA' } };
  const bad = await rejection(adapter.send(push(broken), {}));
  assert.deepEqual([bad.kind, bad.code], ['invalid-address', 'INVALID_SUBSCRIPTION']);
  assert.equal(emu.requests, 0);
});

test('sends reuse kept-alive connections', async (t) => {
  const { emu, adapter } = await setup(t);
  const subs = [emu.createSubscription(), emu.createSubscription()];
  for (let i = 0; i < 10; i++) await adapter.send(push(subs[i % 2]), {});
  assert.equal(emu.received.length, 10);
  assert.equal(emu.connections, 1);
  await Promise.all(Array.from({ length: 20 }, (_, i) => adapter.send(push(subs[i % 2]), {})));
  assert.equal(emu.received.length, 30);
  assert.ok(emu.connections <= 20, `${emu.connections} connections for 20 parallel sends`);
});

test('close is safe twice and later sends fail as retryable', async (t) => {
  const { emu, adapter } = await setup(t);
  await adapter.send(push(emu.createSubscription()), {});
  await adapter.close();
  await adapter.close();
  const err = await rejection(adapter.send(push(emu.createSubscription()), {}));
  assert.deepEqual([err.kind, err.code], ['retryable', 'CLOSED']);
});

test('an aborted send is retryable', async (t) => {
  const { emu, adapter } = await setup(t);
  const controller = new AbortController();
  controller.abort();
  const err = await rejection(adapter.send(push(emu.createSubscription()), { signal: controller.signal }));
  assert.deepEqual([err.kind, err.code], ['retryable', 'ABORTED']);
  assert.equal(emu.requests, 0);
});

test('a refused connection is retryable', async (t) => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const emu = await startWebPushEmulator();
  t.after(() => emu.close());
  const sub = emu.createSubscription();
  const adapter = await createWebPushAdapter(configFor(), ctx);
  t.after(() => adapter.close());
  const err = await rejection(adapter.send(push({ ...sub, endpoint: `https://127.0.0.1:${port}/push/x` }), {}));
  assert.deepEqual([err.kind, err.code], ['retryable', 'ECONNREFUSED']);
});

test('a missing or unusable config key is a ConfigError naming the fix', async () => {
  const cases: [Partial<WebPushConfig>, RegExp][] = [
    [{ vapidPublicKey: undefined }, /channels\.webpush\.vapidPublicKey is not set: run "notify channels webpush-keys --save"/],
    [{ vapidPrivateKey: undefined }, /channels\.webpush\.vapidPrivateKey is not set: run "notify channels webpush-keys --save"/],
    [{ subject: undefined }, /channels\.webpush\.subject is not set: run "notify config set channels\.webpush\.subject mailto:/],
    [{ subject: 'ops@example.com' }, /channels\.webpush: Vapid subject is not/],
    [{ vapidPublicKey: 'short' }, /channels\.webpush: Vapid public key should be 65 bytes/],
    [{ vapidPublicKey: otherKeys.publicKey }, /vapidPublicKey is not the public half of channels\.webpush\.vapidPrivateKey/],
  ];
  for (const [patch, message] of cases) await rejectsConfig(createWebPushAdapter(configFor(patch), ctx), message);
});

test('classifyWebPushError table', () => {
  const rows: [number, Record<string, string>, string, string | undefined, number | undefined][] = [
    [404, {}, 'invalid-address', undefined, undefined],
    [410, {}, 'invalid-address', undefined, undefined],
    [429, { 'retry-after': '12' }, 'rate-limited', undefined, 12_000],
    [429, {}, 'rate-limited', undefined, undefined],
    [401, {}, 'permanent', 'alert', undefined],
    [403, {}, 'permanent', 'alert', undefined],
    [413, {}, 'permanent', undefined, undefined],
    [400, {}, 'permanent', undefined, undefined],
    [500, {}, 'retryable', undefined, undefined],
    [502, {}, 'retryable', undefined, undefined],
    [503, { 'retry-after': '2' }, 'retryable', undefined, 2_000],
  ];
  for (const [status, headers, kind, action, retryAfterMs] of rows) {
    const err = classifyWebPushError(status, headers, 'body');
    assert.deepEqual([err.kind, err.code, err.action, err.retryAfterMs], [kind, String(status), action, retryAfterMs], String(status));
  }
  const dated = classifyWebPushError(429, { 'retry-after': new Date(Date.now() + 60_000).toUTCString() });
  assert.ok(dated.retryAfterMs! > 50_000 && dated.retryAfterMs! <= 60_000, String(dated.retryAfterMs));
});

test('topicFor keeps valid collapse keys and digests the rest', () => {
  assert.equal(topicFor(undefined), undefined);
  assert.equal(topicFor('chat_42-a'), 'chat_42-a');
  assert.match(topicFor('x'.repeat(33))!, /^[A-Za-z0-9_-]{32}$/);
  assert.notEqual(topicFor('a b'), topicFor('a c'));
  assert.equal(topicFor('a b'), topicFor('a b'));
});

// The `notify channels webpush-keys` verb (not yet wired into src/cli.ts: driven through its own register/run).

function captureIO(): { io: IO; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const io: IO = {
    stdout: { write: (s: string) => { out += s; return true; } },
    stderr: { write: (s: string) => { err += s; return true; } },
    stdin: Readable.from([]), isTTY: false, errIsTTY: false, inIsTTY: false, color: false, env: {},
  };
  return { io, out: () => out, err: () => err };
}

/** Runs `channels webpush-keys ...argv` on a fresh commander program. */
async function keysCli(home: string, argv: string[]): Promise<{ stdout: string; error?: unknown }> {
  const cap = captureIO();
  const deps = createDeps({ io: cap.io, clock: systemClock, home });
  const program = new Command('notify').exitOverride();
  const ctx: Ctx = { action: (fn) => async (...args) => fn(deps, ...args) };
  webpushKeys.register(program.command('channels'), ctx);
  try {
    await program.parseAsync(['channels', 'webpush-keys', ...argv], { from: 'user' });
    return { stdout: cap.out() };
  } catch (error) {
    return { stdout: cap.out(), error };
  } finally {
    await deps.close();
  }
}

function assertKeyPair(publicKey: string, privateKey: string): void {
  assert.match(publicKey, /^[A-Za-z0-9_-]+$/);
  assert.match(privateKey, /^[A-Za-z0-9_-]+$/);
  assert.equal(Buffer.from(publicKey, 'base64url').length, 65);
  assert.equal(Buffer.from(privateKey, 'base64url').length, 32);
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(Buffer.from(privateKey, 'base64url'));
  assert.equal(ecdh.getPublicKey('base64url'), publicKey, 'the public key belongs to the private key');
}

test('webpush-keys prints a fresh valid pair and leaves config alone without --save', async (t) => {
  const home = await initHome(t);
  const before = readFileSync(join(home, 'config.json'), 'utf8');
  const cap = captureIO();
  const deps = createDeps({ io: cap.io, clock: systemClock, home });
  t.after(() => deps.close());
  const a = await webpushKeys.run({}, deps);
  const b = await webpushKeys.run({}, deps);
  assertKeyPair(a.publicKey, a.privateKey);
  assert.notEqual(a.publicKey, b.publicKey);
  assert.equal(a.savedTo, undefined);
  assert.equal(readFileSync(join(home, 'config.json'), 'utf8'), before);

  const r = await keysCli(home, []);
  assert.equal(r.error, undefined);
  const lines = r.stdout.trim().split('\n').map((l) => l.split('\t'));
  assert.deepEqual(lines.map((l) => l[0]), ['publicKey', 'privateKey']);
  assertKeyPair(lines[0]![1]!, lines[1]![1]!);
});

test('webpush-keys --save stores the pair in config.json and the adapter sends with it', async (t) => {
  const home = await initHome(t);
  const r = await keysCli(home, ['--save', '--subject', 'mailto:ops@example.com', '--json']);
  assert.equal(r.error, undefined, String(r.error));
  const printed = JSON.parse(r.stdout) as { publicKey: string; privateKey: string; savedTo: string };
  assertKeyPair(printed.publicKey, printed.privateKey);
  assert.equal(printed.savedTo, join(home, 'config.json'));
  const config = loadConfig(home);
  assert.equal(config.channels.webpush.vapidPublicKey, printed.publicKey);
  assert.equal(config.channels.webpush.vapidPrivateKey, printed.privateKey);
  assert.equal(config.channels.webpush.subject, 'mailto:ops@example.com');
  assert.equal(statSync(join(home, 'config.json')).mode & 0o777, 0o600);

  const emu = await startWebPushEmulator({ applicationServerKey: printed.publicKey });
  t.after(() => emu.close());
  const adapter = await createWebPushAdapter(config.channels.webpush, { home, warn: () => undefined });
  t.after(() => adapter.close());
  await adapter.send(push(emu.createSubscription()), {});
  assert.equal(emu.received[0]!.vapid.publicKey, printed.publicKey);
});

test('webpush-keys --save refuses to replace keys without --force', async (t) => {
  const home = await initHome(t);
  const first = JSON.parse((await keysCli(home, ['--save', '--json'])).stdout) as { publicKey: string };
  const again = await keysCli(home, ['--save']);
  assert.ok(again.error instanceof UsageError, String(again.error));
  assert.match((again.error as Error).message, /already set: .*pass --force/);
  assert.equal(again.stdout, '');
  assert.equal(loadConfig(home).channels.webpush.vapidPublicKey, first.publicKey);
  const forced = JSON.parse((await keysCli(home, ['--save', '--force', '--json'])).stdout) as { publicKey: string };
  assert.notEqual(forced.publicKey, first.publicKey);
  assert.equal(loadConfig(home).channels.webpush.vapidPublicKey, forced.publicKey);
});

test('webpush-keys rejects a bad subject and --subject without --save', async (t) => {
  const home = await initHome(t);
  const bad = await keysCli(home, ['--save', '--subject', 'ops@example.com']);
  assert.ok(bad.error instanceof InputError, String(bad.error));
  assert.match((bad.error as Error).message, /not a mailto: or https: URL/);
  const loose = await keysCli(home, ['--subject', 'mailto:ops@example.com']);
  assert.ok(loose.error instanceof UsageError, String(loose.error));
  assert.equal(loadConfig(home).channels.webpush.vapidPublicKey, undefined);
});
