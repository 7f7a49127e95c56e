import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { parseListen } from '../../src/config.js';
import { startApiThread } from '../../src/daemon/api/thread.js';
import { silentLogger } from '../../src/daemon/logger.js';
import { call, startApi } from './harness.js';

test('server.listen is read as host:port, [v6]:port or a bare port; anything else is a one-line ConfigError', () => {
  assert.deepEqual(parseListen('127.0.0.1:7878'), { host: '127.0.0.1', port: 7878 });
  assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseListen('0.0.0.0:80'), { host: '0.0.0.0', port: 80 });
  assert.deepEqual(parseListen('9000'), { host: '127.0.0.1', port: 9000 });
  for (const bad of ['localhost', '127.0.0.1:99999', 'a:b:c', '']) {
    assert.throws(() => parseListen(bad), (err: Error) => err instanceof ConfigError && /is not host:port/.test(err.message), bad);
  }
});

test('with server.tlsCert and server.tlsKey the API speaks HTTPS', async (t) => {
  const env = await startApi(t, {
    config: { 'server.tlsCert': resolve('test/fixtures/tls/server.pem'), 'server.tlsKey': resolve('test/fixtures/tls/server-key.pem') },
  });
  assert.match(env.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const { auth } = await env.app({ scopes: ['contacts'] });
  const r = await call(env.url, 'GET', '/v1/users/u000001', { auth });
  assert.equal(r.status, 200);
  assert.equal(r.body.email, 'u000001@example.com');
});

test('half a TLS pair, an unreadable file or a busy address is a ConfigError naming the fix', async (t) => {
  const env = await startApi(t);
  const base = { store: env.store, daemon: env.daemon, logger: silentLogger, logLevel: 'silent', home: env.home };
  const server = (patch: Record<string, unknown>) => ({ ...env.config, server: { ...env.config.server, ...patch } });
  const configError = (re: RegExp) => (err: Error) => err instanceof ConfigError && re.test(err.message);
  await assert.rejects(startApiThread({ ...base, config: server({ tlsCert: 'cert.pem' }) }), configError(/server.tlsCert and server.tlsKey go together/));
  await assert.rejects(startApiThread({ ...base, config: server({ tlsCert: 'missing.pem', tlsKey: 'missing-key.pem' }) }), configError(/cannot read server.tlsCert .*missing.pem: ENOENT/));
  const port = new URL(env.url).port;
  await assert.rejects(startApiThread({ ...base, config: server({ listen: `127.0.0.1:${port}` }) }),
    (err: Error) => err instanceof ConfigError && /the address is in use/.test(err.message));
});

test('close stops the server, is safe to call twice, and /healthz turns 503 once the daemon stopped', async (t) => {
  const env = await startApi(t);
  const second = await startApiThread({ config: env.config, store: env.store, daemon: env.daemon, logger: silentLogger, logLevel: 'silent', home: env.home });
  assert.equal((await call(second.url, 'GET', '/healthz')).status, 200);
  await second.close();
  await second.close();
  await assert.rejects(fetch(second.url + '/healthz'));
  await env.daemon.stop();
  const r = await call(env.url, 'GET', '/healthz');
  assert.equal(r.status, 503);
  assert.equal(r.body.status, 'stopped');
});
