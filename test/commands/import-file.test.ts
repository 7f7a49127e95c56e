import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scanCsv } from '../../src/commands/import-file.js';

test('scanCsv cuts slices only at record boundaries, never inside quotes, covering every byte', async () => {
  const text = '\ufeff\nid,note\n1,"a\nb"\n2,plain\n3,"x\n\ny"\n4,"q""uote"\n5,last';
  const buffer = Buffer.from(text);
  const { headerEnd, slices } = await scanCsv({ buffer }, 1);
  assert.equal(buffer.subarray(0, headerEnd).toString(), '\ufeff\nid,note\n');
  assert.deepEqual(slices.map((s) => buffer.subarray(s.start, s.end).toString()), ['1,"a\nb"\n', '2,plain\n', '3,"x\n\ny"\n', '4,"q""uote"\n', '5,last']);
  assert.deepEqual(slices.map((s) => s.line), [3, 5, 6, 9, 10]);
  const whole = await scanCsv({ buffer });
  assert.deepEqual(whole.slices, [{ start: headerEnd, end: buffer.length, line: 3 }]);
});

test('scanCsv of a header alone has no slices', async () => {
  assert.deepEqual(await scanCsv({ buffer: Buffer.from('id,name') }), { headerEnd: 7, slices: [] });
});
