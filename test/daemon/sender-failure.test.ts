/**
 * A worker thread that dies inside a real `notify daemon start`: the daemon stops with exit code 1 (its
 * supervisor restarts it), and the sends that were in flight are not lost. The thread is ended from
 * outside, as a crashing SDK would end it: through the daemon's inspector (--inspect on a free port),
 * which evaluates an uncaught throw inside the thread, the way a debugger would. No hook in the code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../src/config.js';
import { validateTemplate } from '../../src/core/template.js';
import { startApnsEmulator } from '../emulators/apns.js';
import { initHome, json, notify } from '../helpers.js';
import { configure, openHomeStore, seededHome, startDaemon, statusCounts, waitFor } from './harness.js';

/**
 * Connects to a process's inspector over its WebSocket (a child node with --experimental-websocket:
 * Node 20 has no WebSocket client otherwise), attaches to its worker threads, and has the one whose
 * script path ends with `script` throw `message` on its next turn. Resolves once the thread has run it.
 */
function crashThread(inspectorUrl: string, script: string, message: string): Promise<void> {
  const code = `
    const ws = new WebSocket(process.argv[1]);
    const expression = ${JSON.stringify(`setTimeout(() => { throw new Error(${JSON.stringify(message)}); }, 300)`)};
    let id = 0;
    let detachId;
    const call = (method, params) => ws.send(JSON.stringify({ id: ++id, method, params }));
    ws.onopen = () => call('NodeWorker.enable', { waitForDebuggerOnStart: false });
    ws.onmessage = (event) => {
      const m = JSON.parse(event.data);
      if (m.method === 'NodeWorker.attachedToWorker' && m.params.workerInfo.url.endsWith(${JSON.stringify(script)})) {
        call('NodeWorker.sendMessageToWorker', { sessionId: m.params.sessionId, message: JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression } }) });
      }
      // Detached before the throw (armed for a moment later): a thread dying with a session attached
      // crashed node now and then.
      if (m.method === 'NodeWorker.receivedMessageFromWorker' && JSON.parse(m.params.message).id === 1) {
        call('NodeWorker.detach', { sessionId: m.params.sessionId });
        detachId = id;
      }
      if (detachId !== undefined && m.id === detachId) {
        console.log('evaluated');
        ws.close();
      }
    };
    ws.onerror = (event) => { console.error(String(event.message ?? event)); process.exit(2); };
  `;
  const child = spawn(process.execPath, ['--experimental-websocket', '--no-warnings', '--input-type=module', '-e', code, inspectorUrl], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c));
  child.stderr.on('data', (c: Buffer) => (output += c));
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => (code === 0 && output.includes('evaluated') ? resolve() : reject(new Error(`the inspector client exited ${code}: ${output}`))));
  });
}

test('a daemon whose sender thread dies exits 1, and its sends in flight are sent after the restart', async (t) => {
  // Answers held for a while, so the sends are in flight when the thread dies.
  const emulatorOptions = { delayMs: 60_000 };
  const apns = await startApnsEmulator(emulatorOptions);
  t.after(() => apns.close());
  const home = await initHome(t);
  configure(home, {
    'daemon.leaseMs': 3000,
    'daemon.pollMs': 50,
    'daemon.senderThread': true,
    'channels.apns': { provider: 'apns', keyFile: apns.keyPath, keyId: apns.keyId, teamId: apns.teamId, topic: apns.topic, endpoint: apns.url },
  });
  const store = await openHomeStore(t, home);
  const users = Array.from({ length: 20 }, (_, i) => ({ id: `u${i}`, name: `User ${i}`, token: randomBytes(32).toString('hex') }));
  await store.users.upsertMany(users.map(({ id, name }) => ({ id, name })));
  await store.devices.registerMany(users.map((u) => ({ userId: u.id, platform: 'ios' as const, token: u.token })));
  await store.templates.create('ping', validateTemplate({ category: 'transactional', push: { title: 'Hi {{ user.name }}', body: 'ping' } }, loadConfig(home)));
  const sent = await notify(home, ['send', '--template', 'ping', '--segment', 'all', '--json']);
  assert.equal(sent.code, 0, sent.stderr);
  assert.deepEqual(json<{ counts: { deliveries: unknown } }>(sent).counts.deliveries, { push: { queued: 20 } });

  const daemon = await startDaemon(t, home, { NODE_OPTIONS: '--inspect=127.0.0.1:0' });
  await waitFor(() => apns.requests === 20, 'the 20 sends to be in flight at the emulator');
  const inspectorUrl = /Debugger listening on (ws:\/\/\S+)/.exec(readFileSync(daemon.logFile, 'utf8'))?.[1];
  assert.ok(inspectorUrl, 'the daemon printed its inspector address');
  await crashThread(inspectorUrl, '/channels/sender-worker.js', 'an SDK blew up');

  assert.equal(await daemon.exited, 1, 'a supervisor sees the failure and restarts the daemon');
  const log = readFileSync(daemon.logFile, 'utf8');
  assert.match(log, /a sender thread failed/);
  assert.match(log, /^error: a sender thread failed \(an SDK blew up\): the daemon stopped/m);
  // Nothing sent, nothing lost: each send in flight was recorded as a retry.
  assert.deepEqual(statusCounts(store), { failed: 20 });
  const errors = store.db.prepare('SELECT DISTINCT last_error FROM deliveries').pluck().all() as string[];
  // (Retries back off for a second, the default: none starts again before the daemon has stopped.)
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0]!, /^retryable: SENDER_THREAD: the sender thread stopped: .*an SDK blew up/);

  // The provider answers now; the restarted daemon sends every one of them.
  emulatorOptions.delayMs = 0;
  const restarted = await startDaemon(t, home);
  await waitFor(() => statusCounts(store).sent === 20, 'the 20 deliveries to be sent after the restart');
  restarted.child.kill('SIGTERM');
  assert.equal(await restarted.exited, 0);
  assert.deepEqual(statusCounts(store), { sent: 20 });
  assert.deepEqual(new Set(apns.received.map((r) => r.token)), new Set(users.map((u) => u.token)));
});

test('a daemon whose API thread dies exits 1', async (t) => {
  const home = await seededHome(t, 1);
  const daemon = await startDaemon(t, home, { NODE_OPTIONS: '--inspect=127.0.0.1:0' });
  const inspectorUrl = /Debugger listening on (ws:\/\/\S+)/.exec(readFileSync(daemon.logFile, 'utf8'))?.[1];
  assert.ok(inspectorUrl, 'the daemon printed its inspector address');
  await crashThread(inspectorUrl, '/daemon/api/worker.js', 'fastify blew up');
  assert.equal(await daemon.exited, 1);
  assert.match(readFileSync(daemon.logFile, 'utf8'), /^error: the API thread failed \(fastify blew up\): the daemon stopped/m);
});
