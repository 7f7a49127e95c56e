import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../src/core/time.js';
import { initHome, json, notify, tempDir } from '../helpers.js';

test('notify log filters by user, campaign, status and age, and refuses a bad status or duration', async (t) => {
  const home = await initHome(t);
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 12));
  const run = async (argv: string[]) => {
    const r = await notify(home, argv, { clock });
    assert.equal(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
    return r;
  };
  const file = join(tempDir(t), 'note.yaml');
  writeFileSync(file, 'category: transactional\nsms:\n  body: "Hi {{ user.name }}"\n');
  await run(['templates', 'create', 'note', '--file', file]);
  for (const [id, phone] of [['a', '+14155550101'], ['b', '+14155550102'], ['c', '+14155550103']]) await run(['users', 'add', id!, '--name', id!, '--phone', phone!]);
  await run(['prefs', 'set', '--user', 'c', '--channel', 'sms', '--opt-out']);
  const early = json(await run(['send', '--template', 'note', '--user', 'a', '--json'])).id as string;
  clock.advance(2 * 3_600_000);
  const late = json(await run(['send', '--template', 'note', '--user', 'b', '--user', 'c', '--json'])).id as string;

  const log = async (...flags: string[]) => json<{ userId: string; notificationId: string; status: string; skipReason: string | null }[]>(await run(['log', '--json', ...flags]));
  assert.deepEqual((await log()).map((d) => d.userId).sort(), ['a', 'b', 'c']);
  assert.deepEqual((await log('--since', '1h')).map((d) => d.notificationId), [late, late], 'only what changed in the last hour');
  assert.deepEqual((await log('--user', 'a')).map((d) => d.notificationId), [early]);
  assert.deepEqual((await log('--campaign', late)).map((d) => d.userId).sort(), ['b', 'c']);
  const skipped = await log('--status', 'skipped');
  assert.deepEqual(skipped.map((d) => [d.userId, d.skipReason]), [['c', 'opted-out']]);
  assert.deepEqual((await log('--limit', '1')).length, 1);

  const piped = await run(['log', '--user', 'a']);
  // Piped: tab-separated rows without a header, as gh prints them.
  assert.match(piped.stdout, new RegExp(`^\\d+\\t${early}\\ta\\tsms\\tsms\\tqueued\\thigh\\t0\\t2026-06-01T12:00:00.000Z\\t\n$`));
  const bad = await notify(home, ['log', '--status', 'lost'], { clock });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: --status must be one of .*\n$/);
  const nosuch = await notify(home, ['log', '--campaign', 'n_nosuch'], { clock });
  assert.deepEqual([nosuch.code, nosuch.stderr], [1, 'error: no notification "n_nosuch": see "notify log" or "notify campaigns list"\n']);
  const since = await notify(home, ['log', '--since', 'soon'], { clock });
  assert.equal(since.code, 2);
  assert.equal(since.stderr, 'error: --since "soon" is not a duration: use e.g. 30s, 15m, 1h, 7d\n');
});
