import { test } from 'node:test';
import assert from 'node:assert/strict';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheRoot } from '../src/sea.js';

test('the asset cache is $NOTIFY_CACHE_DIR, else the systemd unit\'s cache directory, else XDG, else ~/.cache/notify', () => {
  assert.equal(cacheRoot({ NOTIFY_CACHE_DIR: '/srv/cache', CACHE_DIRECTORY: '/var/cache/notify', XDG_CACHE_HOME: '/x' }), '/srv/cache');
  // What deploy/notify.service gives (CacheDirectory=notify), and the guide's commands name as NOTIFY_CACHE_DIR: one directory.
  assert.equal(cacheRoot({ CACHE_DIRECTORY: '/var/cache/notify', XDG_CACHE_HOME: '/x' }), '/var/cache/notify');
  assert.equal(cacheRoot({ CACHE_DIRECTORY: '/var/cache/notify:/var/cache/other' }), '/var/cache/notify', 'the first of several');
  assert.equal(cacheRoot({ XDG_CACHE_HOME: '/home/ada/.xdg' }), '/home/ada/.xdg/notify');
  const home = homedir();
  assert.equal(cacheRoot({}), home && home !== '/' ? join(home, '.cache', 'notify') : join(tmpdir(), `notify-cache-${process.getuid?.()}`));
});
