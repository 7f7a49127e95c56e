import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tuneHeap, HEAP_GROWING_PERCENT, YoungGenerationCap } from '../../src/daemon/heap.js';

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

/**
 * In a child: objects that survive a few scavenges make V8 double the semi-spaces. The workload yields
 * between chunks, as the daemon does between claims and sends. Prints the largest new space seen (MB).
 */
function newSpacePeak(capMb: number | undefined): number {
  const script = `
    const { getHeapSpaceStatistics } = await import('node:v8');
    const { YoungGenerationCap } = await import(${JSON.stringify(HEAP)});
    const cap = ${capMb ?? 0} ? new YoungGenerationCap(${capMb ?? 0}) : undefined;
    const started = cap?.start({}, []);
    const size = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    const keep = [];
    let peak = 0;
    for (let chunk = 0; chunk < 300; chunk++) {
      for (let i = 0; i < 10000; i++) {
        keep.push({ i, s: 'row ' + i });
        if (keep.length > 20000) keep.splice(0, 10000);
      }
      peak = Math.max(peak, size());
      await new Promise((r) => setImmediate(r));
    }
    cap?.stop();
    console.log(JSON.stringify({ started, peak: peak / 1048576 }));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(child.stderr, '');
  assert.equal(child.status, 0);
  const out = JSON.parse(child.stdout) as { started?: boolean; peak: number };
  if (capMb) assert.equal(out.started, true);
  return out.peak;
}

test('the young-generation cap holds the new space at two semi-spaces of the cap', () => {
  const free = newSpacePeak(undefined);
  // Without the cap this workload grows the new space past 8 MB (V8's own limit is 2 x 16 MB).
  assert.ok(free > 8, `uncapped new space peaked at ${free} MB`);
  const capped = newSpacePeak(2);
  assert.ok(capped <= 4, `capped at 2 MB semi-spaces, the new space peaked at ${capped} MB`);
});

test("an operator's own young-generation flags win over the cap", () => {
  const cap = new YoungGenerationCap(4);
  assert.equal(cap.start({ NODE_OPTIONS: '--max-semi-space-size=32' }, []), false);
  assert.equal(cap.start({}, ['--semi-space-growth-factor=4']), false);
  cap.stop();
});
