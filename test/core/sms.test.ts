import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gsmSeptets, isGsm7, smsInfo } from '../../src/core/sms.js';

test('SMS encoding and segments follow GSM-7 and UCS-2 limits', () => {
  const cases: [label: string, text: string, encoding: string, units: number, segments: number][] = [
    ['empty body', '', 'GSM-7', 0, 0],
    ['plain ASCII', 'Your code is 123456', 'GSM-7', 19, 1],
    ['GSM accented letters are basic', 'Café à Zürich, señor Ø', 'GSM-7', 22, 1],
    ['160 septets fit one message', 'a'.repeat(160), 'GSM-7', 160, 1],
    ['161 septets need two segments', 'a'.repeat(161), 'GSM-7', 161, 2],
    ['306 septets fill two segments of 153', 'a'.repeat(306), 'GSM-7', 306, 2],
    ['307 septets need three', 'a'.repeat(307), 'GSM-7', 307, 3],
    ['euro sign counts two septets', '€5', 'GSM-7', 3, 1],
    ['brackets and braces are extension characters', '[x]{y}~|^\\', 'GSM-7', 18, 1],
    ['80 euro signs are exactly 160 septets', '€'.repeat(80), 'GSM-7', 160, 1],
    ['an extension char at 160 tips into two segments', 'a'.repeat(159) + '€', 'GSM-7', 161, 2],
    ['Korean forces UCS-2', '주문이 배송되었습니다', 'UCS-2', 11, 1],
    ['70 UCS-2 units fit one message', '가'.repeat(70), 'UCS-2', 70, 1],
    ['71 UCS-2 units need two segments', '가'.repeat(71), 'UCS-2', 71, 2],
    ['134 units fill two segments of 67', '가'.repeat(134), 'UCS-2', 134, 2],
    ['135 units need three', '가'.repeat(135), 'UCS-2', 135, 3],
    ['one non-GSM character makes the whole body UCS-2', 'a'.repeat(100) + 'ç', 'UCS-2', 101, 2],
    ['an emoji is two UTF-16 code units', 'Hi 👋', 'UCS-2', 5, 1],
  ];
  for (const [label, text, encoding, units, segments] of cases) {
    const info = smsInfo(text);
    assert.deepEqual({ encoding: info.encoding, units: info.units, segments: info.segments }, { encoding, units, segments }, label);
  }
});

test('a surrogate pair is never split across UCS-2 segments', () => {
  // 66 units then an emoji (2 units): 68 units would not fit 67, so the emoji starts segment 2.
  // 66 + 2 + 66 = 134 units, which plain counting would call 2 segments.
  const text = 'a'.repeat(65) + 'ç' + '👋' + 'b'.repeat(66);
  assert.equal(text.length, 134);
  assert.equal(smsInfo(text).segments, 3);
});

test('GSM-7 septet table: basic, extension and foreign characters', () => {
  assert.equal(gsmSeptets('@'), 1);
  assert.equal(gsmSeptets('\n'), 1);
  assert.equal(gsmSeptets('€'), 2);
  assert.equal(gsmSeptets('\f'), 2);
  assert.equal(gsmSeptets('`'), undefined);
  assert.equal(gsmSeptets('한'), undefined);
  assert.equal(isGsm7('Hello [world] €'), true);
  assert.equal(isGsm7('Hello `world`'), false);
});
