import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from 'node:inspector';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { parseConfig, type Config } from '../../src/config.js';
import { SenderThread } from '../../src/channels/sender.js';
import { DeliveryError, type EmailMessage } from '../../src/channels/types.js';
import { ConfigError } from '../../src/errors.js';
import { smtpErrors, startSmtpEmulator } from '../emulators/smtp.js';

function email(to: string, deliveryId: number): EmailMessage {
  return {
    channel: 'email', provider: 'email', deliveryId, notificationId: 'n-1', userId: `u${deliveryId}`, attempt: 1,
    category: 'transactional', priority: 'high', to, content: { subject: `Receipt ${deliveryId}`, text: `Order ${deliveryId}` },
  };
}

function configWith(smtpUrl: string): Config {
  return parseConfig({ channels: { email: { provider: 'smtp', smtpUrl, from: 'Acme <notify@acme.example>' } } }, 'test');
}

async function startThread(t: { after(fn: () => Promise<void>): void }, config: Config, warnings: string[] = []) {
  const failures: Error[] = [];
  const { thread, adapters } = await SenderThread.start(['email'], config, {
    home: '/nonexistent', warn: (provider, m) => warnings.push(`${provider}: ${m}`), onFailure: (err) => failures.push(err),
  });
  t.after(() => thread.close());
  return { thread, email: adapters.get('email')!, failures };
}

/** A never-greeting SMTP server: a send to it waits until it is aborted or its thread ends. */
async function silentServer(t: { after(fn: () => Promise<void>): void }): Promise<number> {
  const sockets = new Set<import('node:net').Socket>();
  const silent: Server = createServer((s) => sockets.add(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => {
    for (const s of sockets) s.destroy();
    silent.close(() => r());
  }));
  return (silent.address() as AddressInfo).port;
}

/**
 * Throws an uncaught error in every worker thread of this process, as a crashing SDK would, through the
 * inspector's worker domain (as a debugger would): the thread dies from outside, with no hook in the
 * code under test. The throw is armed for a moment later, and the session detaches from the thread and
 * closes first: node crashed (SIGSEGV), now and then, when a thread died with a session attached to it.
 */
async function crashWorkers(message: string): Promise<void> {
  const session = new Session();
  session.connect();
  const armed = new Promise<void>((resolve) => {
    session.on('NodeWorker.attachedToWorker', ({ params }: { params: { sessionId: string } }) => {
      const expression = `setTimeout(() => { throw new Error(${JSON.stringify(message)}); }, 300)`;
      session.post('NodeWorker.sendMessageToWorker', { sessionId: params.sessionId, message: JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression } }) });
    });
    session.on('NodeWorker.receivedMessageFromWorker', ({ params }: { params: { sessionId: string; message: string } }) => {
      if ((JSON.parse(params.message) as { id?: number }).id !== 1) return;
      session.post('NodeWorker.detach', { sessionId: params.sessionId }, () => resolve());
    });
  });
  session.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
  await armed;
  session.disconnect();
}

test('sends on the thread resolve with each message\'s own provider id, and errors keep their class', async (t) => {
  const emu = await startSmtpEmulator();
  t.after(() => emu.close());
  const { thread, email: adapter, failures } = await startThread(t, configWith(emu.smtpUrl));
  assert.equal(adapter.name, 'smtp');
  emu.failAlways('gone@example.com', smtpErrors.userUnknown('gone@example.com'));
  emu.fail('busy@example.com', [smtpErrors.greylisted('busy@example.com')]);
  const results = await Promise.allSettled([
    ...Array.from({ length: 60 }, (_, i) => adapter.send(email(`u${i}@example.com`, i), {})),
    adapter.send(email('gone@example.com', 100), {}),
    adapter.send(email('busy@example.com', 101), {}),
  ]);
  const sent = results.slice(0, 60).map((r) => (r as PromiseFulfilledResult<{ providerId: string }>).value.providerId);
  // Each answer reached its own send: the queue ids the server gave, one per message, by subject.
  const bySubject = new Map(emu.received.map((m) => [m.subject, m.queueId]));
  assert.deepEqual(sent, Array.from({ length: 60 }, (_, i) => bySubject.get(`Receipt ${i}`)));
  const [gone, busy] = results.slice(60).map((r) => (r as PromiseRejectedResult).reason as DeliveryError);
  assert.ok(gone instanceof DeliveryError && busy instanceof DeliveryError);
  assert.deepEqual([gone.kind, gone.code], ['invalid-address', '550']);
  assert.deepEqual([busy.kind, busy.code], ['retryable', '451']);
  assert.equal(thread.inFlight, 0);
  assert.deepEqual(failures, []);
});

test('an adapter that cannot start is the same ConfigError the main thread would throw', async () => {
  const config = parseConfig({ channels: { email: { provider: 'smtp', from: 'Acme <notify@acme.example>' } } }, 'test');
  await assert.rejects(SenderThread.start(['email'], config, { home: '/nonexistent', warn: () => undefined }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match((err as Error).message, /channels\.email\.smtpUrl is not set/);
    return true;
  });
});

test('an aborted send fails at once (the thread is told to abort it); after close, sends fail as retryable', async (t) => {
  const port = await silentServer(t);
  const { thread, email: adapter, failures } = await startThread(t, configWith(`smtp://127.0.0.1:${port}`));
  const controller = new AbortController();
  const sending = adapter.send(email('ada@example.com', 1), { signal: controller.signal });
  await new Promise((r) => setTimeout(r, 100));
  controller.abort(new Error('send timeout'));
  await assert.rejects(sending, /send timeout/);
  assert.equal(thread.inFlight, 0);
  await thread.close();
  await thread.close();
  const late = await adapter.send(email('bob@example.com', 2), {}).then(() => undefined, (err: DeliveryError) => err);
  assert.ok(late instanceof DeliveryError);
  assert.equal(late.kind, 'retryable');
  // close() is not a failure.
  assert.deepEqual(failures, []);
});

test('a thread that dies fails its sends in flight and later ones as retryable, and the daemon hears it once', async (t) => {
  const port = await silentServer(t);
  const { thread, email: adapter, failures } = await startThread(t, configWith(`smtp://127.0.0.1:${port}`));
  const sending = adapter.send(email('ada@example.com', 1), {}).then(() => undefined, (err: unknown) => err);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(thread.inFlight, 1);
  await crashWorkers('an SDK blew up');
  const lost = await sending;
  assert.ok(lost instanceof DeliveryError, String(lost));
  assert.deepEqual([lost.kind, lost.code], ['retryable', 'SENDER_THREAD']);
  assert.match(lost.message, /an SDK blew up/);
  assert.equal(thread.inFlight, 0);
  const late = await adapter.send(email('bob@example.com', 2), {}).then(() => undefined, (err: unknown) => err);
  assert.ok(late instanceof DeliveryError);
  assert.equal(late.kind, 'retryable');
  assert.equal(failures.length, 1);
  assert.match(failures[0]!.message, /an SDK blew up/);
});
