import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCron, deferForQuietHours, localDate, nextLocalTime, nextOccurrence, parseAt, parseQuietHours, zonedInstant } from '../../src/core/schedule.js';
import { InputError } from '../../src/errors.js';

const at = (iso: string) => Date.parse(iso);

test('wall-clock times resolve to instants in each timezone, across DST', () => {
  assert.equal(zonedInstant('2026-12-01', '09:00', 'Asia/Seoul'), at('2026-12-01T00:00:00Z'));
  assert.equal(zonedInstant('2026-12-01', '09:00', 'America/New_York'), at('2026-12-01T14:00:00Z'));
  assert.equal(zonedInstant('2026-07-01', '09:00', 'America/New_York'), at('2026-07-01T13:00:00Z'), 'summer time');
  assert.equal(zonedInstant('2026-12-01', '09:00', 'UTC'), at('2026-12-01T09:00:00Z'));
  assert.equal(zonedInstant('2026-03-29', '12:00', 'Europe/Berlin'), at('2026-03-29T10:00:00Z'), 'the day clocks go forward');
  assert.equal(localDate(at('2026-12-01T20:00:00Z'), 'Asia/Seoul'), '2026-12-02');
  assert.throws(() => zonedInstant('2026-12-01', '25:00', 'UTC'), /not a time of day/);
});

test('the next local time is today when still ahead, else tomorrow; a given date wins', () => {
  const now = at('2026-12-01T10:00:00Z');
  assert.equal(nextLocalTime('09:00', 'UTC', now), at('2026-12-02T09:00:00Z'));
  assert.equal(nextLocalTime('11:00', 'UTC', now), at('2026-12-01T11:00:00Z'));
  assert.equal(nextLocalTime('09:00', 'Asia/Seoul', now), at('2026-12-02T00:00:00Z'));
  assert.equal(nextLocalTime('09:00', 'UTC', now, '2026-12-05'), at('2026-12-05T09:00:00Z'));
  assert.equal(nextLocalTime('09:00', 'UTC', now, '2026-11-01'), now, 'a past date sends now');
});

test('--at reads wall-clock time in a timezone unless it carries an offset', () => {
  assert.equal(parseAt('2026-12-01T09:00', 'Asia/Seoul'), at('2026-12-01T00:00:00Z'));
  assert.equal(parseAt('2026-12-01 09:00:30', 'UTC'), at('2026-12-01T09:00:30Z'));
  assert.equal(parseAt('2026-12-01T09:00Z', 'Asia/Seoul'), at('2026-12-01T09:00:00Z'));
  assert.equal(parseAt('2026-12-01T09:00+0900', 'UTC'), at('2026-12-01T00:00:00Z'));
  assert.throws(() => parseAt('tomorrow', 'UTC'), /not a date and time/);
});

test('quiet hours defer into the morning, across midnight, in the recipient timezone', () => {
  const q = parseQuietHours('22:00-08:00');
  assert.deepEqual(q, { start: 1320, end: 480 });
  assert.equal(deferForQuietHours(at('2026-12-01T23:30:00Z'), 'UTC', q), at('2026-12-02T08:00:00Z'));
  assert.equal(deferForQuietHours(at('2026-12-02T03:00:00Z'), 'UTC', q), at('2026-12-02T08:00:00Z'));
  assert.equal(deferForQuietHours(at('2026-12-02T12:00:00Z'), 'UTC', q), at('2026-12-02T12:00:00Z'), 'outside the window');
  // 14:00 UTC is 23:00 in Seoul: wait for 08:00 Seoul = 23:00 UTC.
  assert.equal(deferForQuietHours(at('2026-12-01T14:00:00Z'), 'Asia/Seoul', q), at('2026-12-01T23:00:00Z'));
  assert.equal(deferForQuietHours(at('2026-12-01T23:30:00Z'), 'UTC', parseQuietHours('off')), at('2026-12-01T23:30:00Z'));
  assert.equal(deferForQuietHours(at('2026-12-01T13:30:00Z'), 'UTC', parseQuietHours('13:00-14:00')), at('2026-12-01T14:00:00Z'));
  assert.throws(() => parseQuietHours('late'), /not a quiet-hours window/);
});

test('cron occurrences honour the timezone and an optional seconds field', () => {
  assert.equal(nextOccurrence('0 8 * * *', 'Asia/Seoul', at('2026-12-01T00:00:00Z')), at('2026-12-01T23:00:00Z'));
  assert.equal(nextOccurrence('*/15 * * * * *', 'UTC', at('2026-12-01T00:00:01Z')), at('2026-12-01T00:00:15Z'));
  assert.throws(() => checkCron('every day', 'UTC'), /not a cron expression/);
  assert.throws(() => checkCron('0 8 * * *', 'Mars/Base'), /not an IANA timezone/);
  checkCron('0 8 * * 1-5', 'Europe/Berlin');
});

test('dates that are not on the calendar are refused instead of rolling over to another day', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => parseAt('2026-02-30T09:00', 'UTC'), /"2026-02-30" is not a date: 2026-02 has 28 days/],
    [() => parseAt('2026-02-30T09:00Z', 'UTC'), /2026-02 has 28 days/],
    [() => parseAt('2026-13-45T09:00', 'UTC'), /there is no month 13/],
    [() => parseAt('2026-04-31T09:00+09:00', 'UTC'), /2026-04 has 30 days/],
    [() => parseAt('2026-12-00T09:00', 'UTC'), /2026-12 has 31 days/],
    [() => parseAt('2026-12-01T09:00:75', 'UTC'), /75 seconds/],
    [() => parseAt('2026-12-01T25:00Z', 'UTC'), /"25:00" is not a time of day/],
    [() => zonedInstant('2026-02-29', '09:00', 'Asia/Seoul'), /2026-02 has 28 days/],
    [() => nextLocalTime('09:00', 'UTC', at('2026-01-01T00:00:00Z'), '2026-02-31'), /2026-02 has 28 days/],
  ];
  for (const [call, message] of cases) assert.throws(call, (err: Error) => err instanceof InputError && message.test(err.message), String(message));
  assert.equal(parseAt('2028-02-29T09:00Z', 'UTC'), at('2028-02-29T09:00:00Z'), 'a leap day');
  assert.equal(parseAt('2026-12-31T23:59:59', 'UTC'), at('2026-12-31T23:59:59Z'));
});
