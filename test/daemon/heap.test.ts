import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tuneHeap, HEAP_GROWING_PERCENT } from '../../src/daemon/heap.js';

const HEAP = fileURLToPath(new URL('../../src/daemon/heap.js', import.meta.url));

test("an operator's own heap flags win over the daemon's", () => {
  assert.equal(tuneHeap({ NODE_OPTIONS: '--max-old-space-size=96' }, []), undefined);
  assert.equal(tuneHeap({}, ['--heap-growing-percent=50']), undefined);
});

test('this Node knows the heap flag the daemon sets', () => {
  // In a child, so the flag does not change this test process. V8 reports an unknown flag on stderr
  // (it does not throw), so an upgrade that drops the flag fails here instead of in a daemon's log.
  const script = `const { tuneHeap } = await import(${JSON.stringify(HEAP)}); console.log(tuneHeap({}, []));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(child.stderr, '');
  assert.equal(child.status, 0);
  assert.equal(child.stdout.trim(), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  // An unknown flag does print there: the assertion above can fail.
  const unknown = spawnSync(process.execPath, ['-e', "require('node:v8').setFlagsFromString('--heap-growing-percentage=30')"], { encoding: 'utf8' });
  assert.match(unknown.stderr, /unrecognized flag/);
});
